// Attacks on identity verification found by review (shared computers, planted logins, merges of two
// logins, customers with many browsers, kind confusion): each test asserts the safe outcome.
import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { setIdentitySecret } from '../../../worker/admin/store'
import app from '../../../worker/app'
import { seal, sign } from '../../../worker/identity/verification'
import { makeEvent } from '../../fixtures/events'
import {
  adminFor as admin,
  batchFor,
  giveIdentitySecret,
  identifyFor as identify,
  IDENTITY_SECRET,
  seedTestSite,
  queryFor as query,
  sendFor as send,
  signIds,
  testSite,
  type TestSite,
} from '../helpers'
import { CACHE_KEYS } from '../../../worker/http/cache-keys'

const site = testSite('rv')

const unlink = async (s: TestSite, anonymousId: string) =>
  (await (await send(s, 'POST', '/v1/identify/unlink', { site: s.id, key: s.key, anonymousId })).json()) as {
    uid: string | null
  }
const exportOf = async (s: TestSite, anonymousId: string) =>
  (await (await send(s, 'GET', `/v1/privacy/export?${query(s, { anonymousId })}`)).json()) as {
    uid: string | null
    browsers: string[]
    events: Array<{ type: string; properties: { order_id?: string } }>
  }
const profileOf = async (s: TestSite, anonymousId: string) =>
  (await (await send(s, 'GET', `/v1/profile?${query(s, { anonymousId })}`)).json()) as {
    uid: string | null
    browsers: string[]
    summary: { orders: number }
  }
const order = async (s: TestSite, anonymousId: string, tag: string) => {
  const events = [
    makeEvent('Product Viewed', { product_id: `${tag}-kettle`, category: 'kettles' }, { anonymousId }),
    makeEvent(
      'Order Completed',
      { order_id: `${tag}-order`, revenue: 80, products: [{ product_id: `${tag}-kettle`, price: 80, quantity: 1 }] },
      { anonymousId },
    ),
  ]
  expect((await send(s, 'POST', '/v1/events', batchFor(s, events))).status).toBe(200)
}
const uidsOf = async (uid: string | null) =>
  (
    await env.DB.prepare('SELECT kind, value FROM identities WHERE site_id = ? AND uid = ? ORDER BY kind, value')
      .bind(site.id, uid)
      .all<{ kind: string; value: string }>()
  ).results.map((r) => `${r.kind}:${r.value}`)

beforeAll(async () => {
  await seedTestSite(site)
  await giveIdentitySecret(site.id)
  const items = ['shared', 'planted', 'replay', 'x'].map((tag) => ({
    id: `${tag}-kettle`,
    title: `${tag} secret kettle`,
    category: 'kettles',
    price: 80,
  }))
  expect((await admin(site, 'POST', '/catalog', { items })).status).toBe(200)
})

describe('identity under attack', () => {
  it("never hands one browser another browser's full anonymous id, which is that browser's credential", async () => {
    const ana = { userId: 'mask-ana' }
    for (const anonymousId of ['mask-phone-0123456789', 'mask-laptop-0123456789']) {
      expect((await identify(site, anonymousId, ana, await signIds(ana))).status).toBe(200)
    }
    const answers = [
      JSON.stringify(await profileOf(site, 'mask-laptop-0123456789')),
      JSON.stringify(await exportOf(site, 'mask-laptop-0123456789')),
      JSON.stringify((await identify(site, 'mask-laptop-0123456789', ana, await signIds(ana))).body),
    ]
    for (const text of answers) {
      expect(text).not.toContain('mask-phone-0123456789')
      expect(text).toContain('mask-p…')
    }
    // The marketer's lookup shows the browsers whole.
    const lookup = (await (await admin(site, 'GET', '/profiles/mask-laptop-0123456789')).json()) as {
      browsers: string[]
    }
    expect([...lookup.browsers].sort()).toEqual(['mask-laptop-0123456789', 'mask-phone-0123456789'])
  })

  it('a planted login on a shared computer gets nothing when the next shopper unlinks', async () => {
    const attacker = { userId: 'a2-attacker' }
    const victim = { userId: 'a2-victim' }
    expect((await identify(site, 'a2-attacker-home', attacker, await signIds(attacker))).status).toBe(200)
    // The attacker signs in on the shared PC and walks away without signing out.
    const pc = 'a2-shared-pc'
    expect((await identify(site, pc, attacker, await signIds(attacker))).status).toBe(200)
    // The victim signs in there (the PC moves to the victim), orders, and takes the browser out (README advice).
    expect((await identify(site, pc, victim, await signIds(victim))).status).toBe(200)
    await order(site, pc, 'planted')
    await unlink(site, pc)
    // The attacker, at home, reads the victim's order.
    const home = await exportOf(site, 'a2-attacker-home')
    expect(home.events.map((e) => e.properties.order_id).filter(Boolean)).toEqual([])
  })

  it('one signed identify of ids from two logins leaves each UID with one login', async () => {
    const e = 'a'.repeat(64)
    expect((await admin(site, 'POST', '/identify', { userId: 'a4-ana', loyaltyId: 'a4-L' })).status).toBe(200)
    expect((await admin(site, 'POST', '/identify', { userId: 'a4-bo', emailHash: e })).status).toBe(200)
    expect((await admin(site, 'POST', '/identify', { anonymousId: 'a4-b', crmId: 'a4-C' })).status).toBe(200)
    const ids = { crmId: 'a4-C', loyaltyId: 'a4-L', emailHash: e }
    const res = await identify(site, 'a4-b', ids, await signIds(ids))
    expect(res.status).toBe(200)
    expect(res.body.identities.filter((i) => i.kind === 'user').length).toBeLessThanOrEqual(1)
  })

  it('erases every browser of a customer with more than a hundred', async () => {
    // One customer on 101 browsers (a new anonymous id per sign-out adds up): written in one batch,
    // as the admin identify would link them, each with an event.
    const browsers = Array.from({ length: 101 }, (_, n) => `a6-b${String(n).padStart(3, '0')}`)
    const link = env.DB.prepare(
      "INSERT INTO identities (site_id, kind, value, uid, linked_at) VALUES (?, 'anonymous', ?, 'uid_a6', 1)",
    )
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO identities (site_id, kind, value, uid, linked_at) VALUES (?, 'user', 'a6-many', 'uid_a6', 1)",
      ).bind(site.id),
      ...browsers.map((b) => link.bind(site.id, b)),
    ])
    for (const chunk of [browsers.slice(0, 100), browsers.slice(100)]) {
      const events = chunk.map((anonymousId) => makeEvent('Page Viewed', {}, { anonymousId }))
      expect((await send(site, 'POST', '/v1/events', batchFor(site, events))).status).toBe(200)
    }
    const res = await send(site, 'POST', '/v1/privacy/erase', { site: site.id, key: site.key, anonymousId: 'a6-b000' })
    expect(((await res.json()) as { erased: { browsers: string[] } }).erased.browsers).toHaveLength(101)
    const left = async (table: string) =>
      (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE site_id = ? AND anonymous_id LIKE 'a6-b%'`)
        .bind(site.id)
        .first<{ n: number }>())!.n
    expect([await left('events'), await left('visitors'), await left('erased')]).toEqual([0, 0, 101])
  })

  it("a signed id of the attacker carries none of the victim's unsigned ids into any UID", async () => {
    const victim = { userId: 'b1-victim', crmId: 'b1-C', emailHash: 'c'.repeat(64) }
    const vUid = (await identify(site, 'b1-victim-phone', victim, await signIds(victim))).body.uid
    const mine = { userId: 'b1-attacker' }
    const res = await identify(
      site,
      'b1-attacker',
      { ...mine, crmId: 'b1-C', emailHash: 'c'.repeat(64) },
      await signIds(mine),
    )
    expect(res.status).toBe(200)
    expect(res.body.unverified).toHaveLength(2)
    expect(await uidsOf(res.body.uid)).toEqual(['anonymous:b1-attacker', 'user:b1-attacker'])
    expect(await uidsOf(vUid)).toEqual([
      'anonymous:b1-victim-phone',
      'crm:b1-C',
      `email:${'c'.repeat(64)}`,
      'user:b1-victim',
    ])
    // And the victim's new devices, signing only the crm or e-mail, join the victim, not the attacker.
    const crm = { crmId: 'b1-C' }
    expect((await identify(site, 'b1-victim-laptop', crm, await signIds(crm))).body.uid).toBe(vUid)
  })

  it('claims made first do not make the victim join the attacker when the victim signs later', async () => {
    const victim = { userId: 'b2-victim', crmId: 'b2-C', loyaltyId: 'b2-L', emailHash: 'd'.repeat(64) }
    const mine = { userId: 'b2-attacker' }
    await identify(site, 'b2-attacker', { ...victim, userId: undefined })
    await identify(site, 'b2-attacker', { ...mine, crmId: victim.crmId }, await signIds(mine))
    const v = await identify(site, 'b2-victim-phone', victim, await signIds(victim))
    expect(await uidsOf(v.body.uid)).not.toContain('anonymous:b2-attacker')
    expect((await exportOf(site, 'b2-attacker')).browsers).toEqual(['b2-attacker'])
  })

  it('refuses kind confusion, values with colons, case and whitespace tricks', async () => {
    const crmSig = await sign(IDENTITY_SECRET, { kind: 'crm', value: 'X' })
    expect((await identify(site, 'b3', { userId: 'X' }, { user: crmSig })).status).toBe(401)
    // user "crm:X" signs "user:crm:X", never "crm:X"
    expect((await identify(site, 'b3', { userId: 'crm:X' }, { user: crmSig })).status).toBe(401)
    const loy = await sign(IDENTITY_SECRET, { kind: 'loyalty', value: 'a:b' })
    expect((await identify(site, 'b3', { loyaltyId: 'a' }, { loyalty: loy })).status).toBe(401)
    expect((await identify(site, 'b3', { crmId: 'x' }, { crm: crmSig })).status).toBe(401) // values are case-sensitive
    expect((await identify(site, 'b3', { crmId: 'X' }, { crm: ` ${crmSig}` })).status).toBe(400)
    expect((await identify(site, 'b3', { crmId: 'X' }, { crm: `${crmSig}00` })).status).toBe(400)
    expect((await identify(site, 'b3', { crmId: 'X' }, { crm: crmSig.toUpperCase() })).status).toBe(200) // same MAC, fine
    expect((await identify(site, 'b3', { emailHash: 'E'.repeat(64) }, {})).status).toBe(400)
  })

  it('answers 500 naming no secret when a seal does not open', async () => {
    const s = testSite('rv-kek')
    await seedTestSite(s)
    await setIdentitySecret(env.DB, s.id, await seal('another-kek-of-32-characters-or-more!!', s.id, IDENTITY_SECRET))
    await env.CACHE.delete(CACHE_KEYS.site(s.id))
    const ids = { userId: 'u' }
    const res = await send(s, 'POST', '/v1/identify', {
      site: s.id,
      key: s.key,
      anonymousId: 'k1',
      ...ids,
      signatures: await signIds(ids),
    })
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('{"error":"internal error"}')
  })

  it('unlinks only the caller', async () => {
    const victim = { userId: 'b5-victim' }
    const vUid = (await identify(site, 'b5-phone', victim, await signIds(victim))).body.uid
    await identify(site, 'b5-laptop', victim, await signIds(victim))
    const out = await unlink(site, 'b5-attacker')
    expect(out.uid).toBeNull()
    expect(await uidsOf(vUid)).toEqual(['anonymous:b5-laptop', 'anonymous:b5-phone', 'user:b5-victim'])
  })

  it('refuses the admin identify without the admin key', async () => {
    for (const headers of [{ Authorization: `Bearer ${site.key}` }, {} as Record<string, string>]) {
      const res = await app.request(
        `/v1/admin/${site.id}/identify`,
        { method: 'POST', headers, body: JSON.stringify({ anonymousId: 'b6', userId: 'b5-victim' }) },
        env,
      )
      expect(res.status).toBe(401)
    }
  })
})
