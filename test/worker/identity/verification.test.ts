// An attacker holds only what a page reveals: the public key, its own anonymous id, and the
// victim's login id, CRM or loyalty number, or e-mail address (whose SHA-256 anyone can compute).
// Naming the victim's id, with no signature or a wrong one, must reach none of the victim's data.
import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RecommendationAnswer } from '../../../contract'
import app from '../../../worker/app'
import { sign } from '../../../worker/identity/verification'
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
  type ClaimedIds,
  type TestSite,
} from '../helpers'
import { CACHE_KEYS } from '../../../worker/http/cache-keys'

const site = testSite('idv')
const open = testSite('idv-open') // no identity secret
const trusting = testSite('idv-trusting') // accepts unverified linking

const asShopper = (s: TestSite, anonymousId: string) => ({ site: s.id, key: s.key, anonymousId })

const exportOf = async (s: TestSite, anonymousId: string) => {
  const res = await send(s, 'GET', `/v1/privacy/export?${query(s, { anonymousId })}`)
  expect(res.status).toBe(200)
  return (await res.json()) as {
    uid: string | null
    browsers: string[]
    events: Array<{ type: string; properties: { order_id?: string; product_id?: string } }>
    segments: Array<{ id: string }>
    value: unknown
    claims: Array<{ kind: string; value: string }>
  }
}
const profileOf = async (s: TestSite, anonymousId: string) => {
  const res = await send(s, 'GET', `/v1/profile?${query(s, { anonymousId })}`)
  expect(res.status).toBe(200)
  return (await res.json()) as {
    uid: string | null
    browsers: string[]
    summary: { orders: number; revenue: number; events: number; categories: unknown }
    segments: Array<{ id: string }>
  }
}
const recommend = async (s: TestSite, anonymousId: string, strategy: string) => {
  const res = await send(s, 'GET', `/v1/recommendations?${query(s, { anonymousId, strategy, limit: '10' })}`)
  expect(res.status).toBe(200)
  return (await res.json()) as RecommendationAnswer
}
const erase = (s: TestSite, anonymousId: string) => send(s, 'POST', '/v1/privacy/erase', asShopper(s, anonymousId))

/** The victim's browsing: a viewed and bought item whose title only the victim's history can bring into an answer. */
async function browse(s: TestSite, anonymousId: string, tag: string) {
  const events = [
    makeEvent('Product Viewed', { product_id: `${tag}-kettle`, category: 'kettles' }, { anonymousId }),
    makeEvent(
      'Order Completed',
      { order_id: `${tag}-order`, revenue: 80, products: [{ product_id: `${tag}-kettle`, price: 80, quantity: 1 }] },
      { anonymousId },
    ),
  ]
  const res = await send(s, 'POST', '/v1/events', batchFor(s, events))
  expect(res.status).toBe(200)
}

beforeAll(async () => {
  for (const s of [site, open, trusting]) await seedTestSite(s)
  await giveIdentitySecret(site.id)
  const items = ['user', 'crm', 'loyalty', 'email', 'cross', 'shared'].flatMap((tag) => [
    { id: `${tag}-kettle`, title: `${tag} secret kettle`, category: 'kettles', price: 80 },
    { id: `${tag}-cup`, title: `${tag} cup`, category: 'cups', price: 5 },
  ])
  for (const s of [site, open, trusting]) expect((await admin(s, 'POST', '/catalog', { items })).status).toBe(200)
  expect(
    (await admin(trusting, 'PATCH', '/settings', { settings: { identity: { unverifiedLinking: true } } })).status,
  ).toBe(200)
})

const email = `${'f'.repeat(63)}0`
const KINDS: Array<{ kind: string; ids: ClaimedIds }> = [
  { kind: 'user', ids: { userId: 'victim-login' } },
  { kind: 'crm', ids: { crmId: 'CRM-77' } },
  { kind: 'loyalty', ids: { loyaltyId: 'LOY-5' } },
  { kind: 'email', ids: { emailHash: email } },
]

describe.each(KINDS)('a $kind id named by another browser', ({ kind, ids }) => {
  const victim = `${kind}-victim-phone`
  const attacker = `${kind}-attacker`
  let victimUid: string

  beforeAll(async () => {
    await browse(site, victim, kind)
    const linked = await identify(site, victim, ids, await signIds(ids))
    expect(linked.status).toBe(200)
    victimUid = linked.body.uid!
    expect(victimUid).toMatch(/^uid_/)
  })

  it('without a signature is kept as a claim of that browser alone and links nothing', async () => {
    const claim = await identify(site, attacker, ids)
    expect(claim).toEqual({
      status: 200,
      body: { uid: null, identities: [], unverified: [{ kind, value: Object.values(ids)[0] }] },
    })
    const lookup = await admin(site, 'GET', `/profiles/${attacker}`)
    expect(await lookup.json()).toMatchObject({
      uid: null,
      browsers: [attacker],
      unverified: [{ anonymous_id: attacker, kind, value: Object.values(ids)[0] }],
    })
  })

  it('with a wrong signature, or one made for another id, gets 401 and links nothing', async () => {
    const [field, value] = Object.entries(ids)[0]!
    const forOther = await signIds({ [field]: `${value}x` })
    const wrongSecret = await signIds(ids, 'is_guessed_secret')
    for (const signatures of [forOther, wrongSecret, { [kind]: '0'.repeat(64) }]) {
      const res = await identify(site, `${attacker}-2`, ids, signatures)
      expect(res.status).toBe(401)
      expect(res.body.error).toBe(`the signature of the ${kind} id does not match it`)
    }
    const lookup = (await (await admin(site, 'GET', `/profiles/${attacker}-2`)).json()) as {
      uid: string | null
      unverified: unknown[]
    }
    expect(lookup).toMatchObject({ uid: null, unverified: [] })
  })

  it("reaches none of the victim's events, segments, value or items in profile, export and recommendations", async () => {
    const profile = await profileOf(site, attacker)
    expect(profile).toMatchObject({ uid: null, browsers: [attacker], summary: { orders: 0, revenue: 0, events: 0 } })
    expect(profile.segments.map((s) => s.id)).not.toContain('buyer')
    const data = await exportOf(site, attacker)
    expect(data).toMatchObject({ uid: null, browsers: [attacker], events: [], value: null })
    expect(data.claims).toEqual([expect.objectContaining({ kind, value: Object.values(ids)[0] })])
    // The victim's items may be popular with everyone; no answer may know them as the attacker's own.
    expect((await recommend(site, attacker, 'recently-viewed')).items).toEqual([])
    for (const strategy of ['for-you', 'category', 'also-viewed']) {
      const reasons = (await recommend(site, attacker, strategy)).items.flatMap((i) => i.reasons)
      expect(reasons.length).toBeGreaterThan(0)
      expect(reasons.filter((r) => /\byou(r)?\b/i.test(r) || r.includes('secret kettle'))).toEqual([])
    }
    // The victim's own view is whole.
    expect((await exportOf(site, victim)).events.map((e) => e.type)).toEqual(['Product Viewed', 'Order Completed'])
  })

  it('erases nothing of the victim when the attacker erases itself', async () => {
    expect((await erase(site, attacker)).status).toBe(200)
    const data = await exportOf(site, victim)
    expect(data.uid).toBe(victimUid)
    expect(data.events.map((e) => e.properties.order_id ?? e.properties.product_id)).toEqual([
      `${kind}-kettle`,
      `${kind}-order`,
    ])
  })

  it('with a valid signature joins the second device, which then sees and can erase the whole customer', async () => {
    const laptop = `${kind}-victim-laptop`
    const joined = await identify(site, laptop, ids, await signIds(ids))
    expect(joined.status).toBe(200)
    expect(joined.body.uid).toBe(victimUid)
    expect((await profileOf(site, laptop)).summary).toMatchObject({ orders: 1, revenue: 80, events: 2 })
    const recent = await recommend(site, laptop, 'recently-viewed')
    expect(recent.items.map((i) => i.id)).toEqual([`${kind}-kettle`])
    expect((await erase(site, laptop)).status).toBe(200)
    expect((await exportOf(site, victim)).events).toEqual([])
  })
})

describe('identity verification', () => {
  it('makes "for you" read the history of every verified browser of the customer', async () => {
    const ids = { userId: 'cross-device' }
    await browse(site, 'cross-phone', 'cross')
    // The shoppers who make kettles and cups co-occur.
    for (const n of [1, 2, 3]) {
      const anonymousId = `cross-other-${n}`
      const events = ['cross-kettle', 'cross-cup'].map((product_id) =>
        makeEvent('Product Viewed', { product_id }, { anonymousId }),
      )
      expect((await send(site, 'POST', '/v1/events', batchFor(site, events))).status).toBe(200)
    }
    const before = await recommend(site, 'cross-laptop', 'for-you')
    expect(before.items.flatMap((i) => i.reasons)).not.toContain('Because you bought cross secret kettle')
    for (const anonymousId of ['cross-phone', 'cross-laptop'])
      expect((await identify(site, anonymousId, ids, await signIds(ids))).status).toBe(200)
    const after = await recommend(site, 'cross-laptop', 'for-you')
    // The first reason only: whether the cup is also trending depends on the edge cache's trending list.
    expect(after.items[0]).toMatchObject({ id: 'cross-cup' })
    expect(after.items[0]!.reasons[0]).toBe('Because you bought cross secret kettle')
  })

  it('refuses a signature over a rotated secret with 401, and accepts the new one', async () => {
    const s = testSite('idv-rotate')
    await seedTestSite(s)
    const first = (await (await admin(s, 'POST', '/keys/identity/rotate')).json()) as { key: string }
    expect(first.key).toMatch(/^is_idv-rotate_[0-9a-f]{64}$/)
    const ids = { userId: 'rotating' }
    expect((await identify(s, 'r1', ids, await signIds(ids, first.key))).status).toBe(200)
    const second = (await (await admin(s, 'POST', '/keys/identity/rotate')).json()) as { key: string }
    expect(second.key).not.toBe(first.key)
    const stale = await identify(s, 'r2', ids, await signIds(ids, first.key))
    expect(stale.status).toBe(401)
    // The other browser's anonymous id is its credential: the answer shows its first characters only.
    expect((await identify(s, 'r2', ids, await signIds(ids, second.key))).body.identities.map((i) => i.value)).toEqual([
      'r1…',
      'r2',
      'rotating',
    ])
    // Only the seal is stored: neither D1 nor the KV cache holds the secret in clear.
    const row = await env.DB.prepare('SELECT identity_secret FROM sites WHERE id = ?')
      .bind(s.id)
      .first<{ identity_secret: string }>()
    expect(row!.identity_secret).toMatch(/^v1:[0-9a-f]{24}:[0-9a-f]+$/)
    expect(row!.identity_secret).not.toContain(second.key)
    expect(await env.CACHE.get(CACHE_KEYS.site(s.id))).not.toContain(second.key)
    expect(((await (await admin(s, 'GET', '/settings')).json()) as { identitySecret: boolean }).identitySecret).toBe(
      true,
    )
  })

  it('answers 401 to any signature on a site without an identity secret, and keeps unsigned ids as claims', async () => {
    const ids = { userId: 'nobody' }
    const signed = await identify(open, 'o1', ids, await signIds(ids))
    expect(signed).toMatchObject({
      status: 401,
      body: { error: 'site idv-open has no identity secret, so no signature can hold' },
    })
    expect(await identify(open, 'o1', ids)).toMatchObject({
      status: 200,
      body: { uid: null, unverified: [{ kind: 'user', value: 'nobody' }] },
    })
    expect(await identify(open, 'o2', ids)).toMatchObject({ status: 200, body: { uid: null } })
  })

  it('refuses a signature of an id the request does not carry with 400', async () => {
    const res = await identify(
      site,
      'x1',
      { userId: 'u' },
      { crm: await sign(IDENTITY_SECRET, { kind: 'crm', value: 'C' }) },
    )
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({
      issues: [{ path: 'signatures.crm', message: 'signs a crm id the request does not carry' }],
    })
  })

  it('refuses a browser id outside the one browser-id rule with 400, as unlink and events do', async () => {
    const res = await identify(site, 'browser@one', { userId: 'u' })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({
      issues: [{ path: 'anonymousId', message: 'must be 1-200 characters of A-Z a-z 0-9 _ . : -' }],
    })
  })

  it('links unsigned ids on a site that accepted the risk, and says so in the identity log', async () => {
    const ids = { userId: 'trusted' }
    const a = await identify(trusting, 't1', ids)
    const b = await identify(trusting, 't2', ids)
    expect(b.body.uid).toBe(a.body.uid)
    expect(b.body.unverified).toEqual([])
    const log = await env.DB.prepare("SELECT reason FROM identity_log WHERE site_id = ? AND kind = 'user'")
      .bind(trusting.id)
      .first<{ reason: string }>()
    expect(log!.reason).toBe('identified together: anonymous t1, user trusted (unverified linking allowed by the site)')
  })

  it("links what the site's backend names through the admin API, and refuses a single id or a public key", async () => {
    const res = await admin(site, 'POST', '/identify', {
      anonymousId: 'backend-1',
      userId: 'backend-user',
      crmId: 'BC-1',
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { uid: string; identities: Array<{ kind: string; value: string }> }
    expect(body.identities.map((i) => `${i.kind}:${i.value}`)).toEqual([
      'anonymous:backend-1',
      'crm:BC-1',
      'user:backend-user',
    ])
    expect((await admin(site, 'POST', '/identify', { userId: 'alone' })).status).toBe(400)
    const withPublicKey = await app.request(
      `/v1/admin/${site.id}/identify`,
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${site.key}` },
        body: JSON.stringify({ anonymousId: 'b2', userId: 'backend-user' }),
      },
      env,
    )
    expect(withPublicKey.status).toBe(401)
  })

  it('keeps two logins of one shared computer apart: the browser moves, the customers never merge', async () => {
    const ana = { userId: 'shared-ana' }
    const bo = { userId: 'shared-bo' }
    const anaUid = (await identify(site, 'ana-phone', ana, await signIds(ana))).body.uid
    expect((await identify(site, 'family-pc', ana, await signIds(ana))).body.uid).toBe(anaUid)
    const boUid = (await identify(site, 'family-pc', bo, await signIds(bo))).body.uid
    expect(boUid).not.toBe(anaUid)
    const ids = async (uid: string | null) =>
      (
        await env.DB.prepare('SELECT kind, value FROM identities WHERE site_id = ? AND uid = ? ORDER BY kind, value')
          .bind(site.id, uid)
          .all<{ kind: string; value: string }>()
      ).results.map((r) => `${r.kind}:${r.value}`)
    expect(await ids(anaUid)).toEqual(['anonymous:ana-phone', 'user:shared-ana'])
    expect(await ids(boUid)).toEqual(['anonymous:family-pc', 'user:shared-bo'])
  })
})
