import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { identitiesOf, identityLog, moveIdentity } from '../../../worker/identity/store'
import { planLink } from '../../../worker/identity/link'
import app from '../../../worker/app'
import { SITE } from '../../fixtures/events'
import { giveIdentitySecret, seedSite, signIds } from '../helpers'

beforeAll(async () => {
  await seedSite()
  await giveIdentitySecret(SITE.id)
})

// Signed as the site's backend would sign them: these tests are about merging, not verification.
const identify = async (ids: Record<string, string>, origin = SITE.origin) => {
  const body = { site: SITE.id, key: SITE.key, ...ids, signatures: await signIds(ids) }
  const res = await app.request(
    '/v1/identify',
    { method: 'POST', headers: { Origin: origin }, body: JSON.stringify(body) },
    env,
  )
  const answer = (await res.json()) as {
    uid: string
    identities: Array<{ kind: string; value: string }>
    error?: string
    issues?: Array<{ path: string }>
  }
  // The graph as stored: the answer shows other browsers' ids only by their first characters.
  if (answer.uid)
    answer.identities = (await identitiesOf(env.DB, SITE.id, answer.uid)).map(({ kind, value }) => ({ kind, value }))
  return { status: res.status, body: answer }
}
const identitiesOfUid = async (uid: string) => ({ identities: await identitiesOf(env.DB, SITE.id, uid) })
const kinds = (b: { identities: Array<{ kind: string; value: string }> }) =>
  b.identities.map((i) => `${i.kind}:${i.value}`)

describe('planLink()', () => {
  it('keeps the UID of the strongest known identifier and merges the others into it', () => {
    const plan = planLink(
      [
        { kind: 'anonymous', value: 'a1', uid: 'U-anon' },
        { kind: 'user', value: 'u1', uid: 'U-user' },
      ],
      [
        { kind: 'anonymous', value: 'a1' },
        { kind: 'user', value: 'u1' },
        { kind: 'crm', value: 'c1' },
        { kind: 'crm', value: 'c1' },
      ],
      'U-new',
    )
    expect(plan).toMatchObject({ uid: 'U-user', links: [{ kind: 'crm', value: 'c1' }], merges: ['U-anon'] })
    expect(plan.reason).toBe('identified together: anonymous a1, user u1, crm c1, crm c1')
  })

  it('keeps two logins apart when the strongest known id sits in a UID without one', () => {
    const plan = planLink(
      [
        { kind: 'crm', value: 'c', uid: 'U-nologin' },
        { kind: 'loyalty', value: 'l', uid: 'U-ana' },
        { kind: 'email', value: 'e', uid: 'U-bo' },
      ],
      [
        { kind: 'anonymous', value: 'b' },
        { kind: 'crm', value: 'c' },
        { kind: 'loyalty', value: 'l' },
        { kind: 'email', value: 'e' },
      ],
      'U-new',
      { 'U-ana': 'ana', 'U-bo': 'bo' },
    )
    expect(plan.uid).toBe('U-nologin')
    // Both U-ana and U-bo merge into U-nologin: one UID, two logins.
    expect(plan.merges.filter((u) => u === 'U-ana' || u === 'U-bo').length).toBeLessThanOrEqual(1)
  })

  it('makes a new UID when nothing is known', () => {
    expect(planLink([], [{ kind: 'anonymous', value: 'a' }], 'U-new')).toMatchObject({ uid: 'U-new', merges: [] })
  })
})

describe('POST /v1/identify', () => {
  it('ties a browser to a login, and a second device to the same UID', async () => {
    const first = await identify({ anonymousId: 'phone', userId: 'ana' })
    expect(first.status).toBe(200)
    expect(first.body.uid).toMatch(/^uid_[0-9a-f]{24}$/)
    const second = await identify({ anonymousId: 'laptop', userId: 'ana' })
    expect(second.body.uid).toBe(first.body.uid)
    expect(kinds(second.body)).toEqual(['anonymous:laptop', 'anonymous:phone', 'user:ana'])
  })

  it('merges two known shoppers when a shared id shows they are one, and logs every move', async () => {
    const crm = await identify({ anonymousId: 'kiosk', crmId: 'C-9' })
    const web = await identify({ anonymousId: 'home-pc', userId: 'bo' })
    const email = 'a'.repeat(64)
    const merged = await identify({ anonymousId: 'home-pc', userId: 'bo', crmId: 'C-9', emailHash: email })
    expect(merged.body.uid).toBe(web.body.uid)
    expect(kinds(merged.body)).toEqual(['anonymous:home-pc', 'anonymous:kiosk', 'crm:C-9', `email:${email}`, 'user:bo'])
    const log = await identityLog(env.DB, SITE.id, web.body.uid)
    expect(log.filter((l) => l.action === 'move').map((l) => [l.kind, l.value, l.from_uid])).toEqual([
      ['anonymous', 'kiosk', crm.body.uid],
      ['crm', 'C-9', crm.body.uid],
    ])
    expect(log.find((l) => l.kind === 'email')).toMatchObject({
      action: 'link',
      reason: expect.stringContaining('email aaaaaaaa…'),
    })
  })

  it('can undo a merge: the audit log names the UID each id came from, and it moves back there', async () => {
    const kiosk = await identify({ anonymousId: 'tablet', loyaltyId: 'L-1' })
    const login = await identify({ anonymousId: 'tablet2', userId: 'cy' })
    const merged = await identify({ anonymousId: 'tablet2', userId: 'cy', loyaltyId: 'L-1' })
    expect(merged.body.uid).toBe(login.body.uid)
    expect(kinds(merged.body)).toEqual(['anonymous:tablet', 'anonymous:tablet2', 'loyalty:L-1', 'user:cy'])
    for (const id of [
      { kind: 'loyalty' as const, value: 'L-1' },
      { kind: 'anonymous' as const, value: 'tablet' },
    ]) {
      const moves = (await identityLog(env.DB, SITE.id, merged.body.uid)) as Array<{
        action: string
        kind: string
        value: string
        from_uid: string
      }>
      const back = moves
        .filter((l) => l.action === 'move' && l.kind === id.kind && l.value === id.value)
        .at(-1)?.from_uid
      expect(back).toBe(kiosk.body.uid)
      expect(await moveIdentity(env.DB, SITE.id, id, back!, 'linked by mistake', Date.now())).toBe(true)
    }
    expect(kinds(await identitiesOfUid(kiosk.body.uid))).toEqual(['anonymous:tablet', 'loyalty:L-1'])
    expect(kinds(await identitiesOfUid(login.body.uid))).toEqual(['anonymous:tablet2', 'user:cy'])
    const log = await identityLog(env.DB, SITE.id, kiosk.body.uid)
    expect(log.at(-1)).toMatchObject({
      action: 'unlink',
      kind: 'anonymous',
      value: 'tablet',
      reason: 'linked by mistake',
    })
  })

  it('lets a browser take itself out of its UID, logged, without touching the others', async () => {
    const first = await identify({ anonymousId: 'shared-pc', userId: 'eve' })
    await identify({ anonymousId: 'eve-phone', userId: 'eve' })
    const res = await app.request(
      '/v1/identify/unlink',
      {
        method: 'POST',
        headers: { Origin: SITE.origin },
        body: JSON.stringify({ site: SITE.id, key: SITE.key, anonymousId: 'shared-pc' }),
      },
      env,
    )
    const body = (await res.json()) as {
      uid: string
      previousUid: string
      identities: Array<{ kind: string; value: string }>
    }
    expect(body.previousUid).toBe(first.body.uid)
    expect(body.uid).not.toBe(first.body.uid)
    expect(kinds(body)).toEqual(['anonymous:shared-pc'])
    expect(kinds(await identitiesOfUid(first.body.uid))).toEqual(['anonymous:eve-phone', 'user:eve'])
    const log = await identityLog(env.DB, SITE.id, first.body.uid)
    expect(log.at(-1)).toMatchObject({ action: 'unlink', value: 'shared-pc', reason: 'unlinked by the shopper' })
  })

  it('refuses a clear-text e-mail, bad ids and foreign origins, changing nothing', async () => {
    const count = async () => (await env.DB.prepare('SELECT COUNT(*) AS n FROM identities').first<{ n: number }>())!.n
    const before = await count()
    const mail = await identify({ anonymousId: 'x1', emailHash: 'Ana@Example.com' })
    expect(mail.status).toBe(400)
    expect(mail.body.issues?.[0]?.path).toBe('emailHash')
    expect((await identify({ anonymousId: 'bad id!' })).status).toBe(400)
    expect((await identify({ anonymousId: 'x2', userId: 'u' }, 'https://evil.example')).status).toBe(403)
    expect(await count()).toBe(before)
  })
})
