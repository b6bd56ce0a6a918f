import { env } from 'cloudflare:test'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { MAX_BATCH_BYTES } from '../../contract'
import { listEvents } from '../../worker/events/store'
import app from '../../worker/app'
import { hashKey } from '../../worker/http/site-auth'
import { makeEvent } from '../fixtures/events'
import { batchFor, seedTestSite, sendFor, testSite, type TestSite } from './helpers'

// Two tenants. Everything site B holds carries the marker "b-secret", and both sites saw a browser
// with the same anonymous id, so a query that forgot its site would show B's rows to A.
const [siteA, siteB] = [testSite('iso-a'), testSite('iso-b')]
const MARKERS = ['b-secret', siteB.origin]
const SAME_BROWSER = 'browser-1'

const json = (body: unknown) => (body === undefined ? undefined : JSON.stringify(body))
/** A request to `siteId`'s admin API with `secret` as the bearer key. */
const admin = (siteId: string, secret: string, method: string, path: string, body?: unknown) =>
  app.request(
    `/v1/admin/${siteId}${path}`,
    { method, headers: { Authorization: `Bearer ${secret}` }, body: json(body) },
    env,
  )
const query = (site: TestSite, params: Record<string, string>) =>
  new URLSearchParams({ site: site.id, key: site.key, ...params })
/** GET /v1/recommendations for `site` with its own key. */
const recommend = (site: TestSite, params: Record<string, string>) =>
  sendFor(site, 'GET', `/v1/recommendations?${query(site, params)}`)
/** Fails with the answer's body unless it is a 2xx. */
const ok = async (res: Response | Promise<Response>) => {
  const answer = await res
  expect(answer.status, await answer.clone().text()).toBeLessThan(300)
  return answer
}

/** Gives `site` a catalog, an action, settings, events, identities, a recommendation and a decision, each named with `tag`. */
async function fill(site: TestSite, tag: string) {
  const item = `${tag}-tea`
  const items = [
    { id: item, title: `${tag} tea`, category: `${tag}-cat`, price: 9 },
    { id: `${tag}-pot`, title: `${tag} pot`, category: `${tag}-cat`, price: 30 },
  ]
  const action = { title: `${tag} offer`, text: `${tag} text`, placement: 'top', value: 5 }
  const settings = { recommendations: { rules: { exclude: [`${tag}-excluded`] } } }
  await ok(admin(site.id, site.admin, 'POST', '/catalog', { items }))
  await ok(admin(site.id, site.admin, 'PUT', `/actions/${tag}-offer`, action))
  await ok(admin(site.id, site.admin, 'PATCH', '/settings', { settings }))
  const events = [
    makeEvent('Product Viewed', { product_id: item }, { anonymousId: SAME_BROWSER }),
    makeEvent('Product Added', { product_id: item }, { anonymousId: SAME_BROWSER }),
    makeEvent(
      'Order Completed',
      { order_id: `${tag}-order`, revenue: 9, products: [{ product_id: item, quantity: 1 }] },
      { anonymousId: SAME_BROWSER },
    ),
    makeEvent('Product Viewed', { product_id: `${tag}-pot` }, { anonymousId: `${tag}-phone` }),
  ]
  await ok(sendFor(site, 'POST', '/v1/events', batchFor(site, events)))
  for (const anonymousId of [SAME_BROWSER, `${tag}-phone`]) {
    await ok(admin(site.id, site.admin, 'POST', '/identify', { anonymousId, userId: 'same-user' }))
  }
  await ok(recommend(site, { anonymousId: SAME_BROWSER, strategy: 'for-you' }))
  await ok(
    sendFor(site, 'POST', '/v1/decide', { site: site.id, key: site.key, anonymousId: SAME_BROWSER, placement: 'top' }),
  )
}

let keyMaterial: string[] = []

beforeAll(async () => {
  for (const site of [siteA, siteB]) await seedTestSite(site)
  await fill(siteA, 'a-own')
  await fill(siteB, 'b-secret')
  const keys = [siteA.key, siteA.admin, siteB.key, siteB.admin]
  keyMaterial = [...keys, ...(await Promise.all(keys.map(hashKey)))]
})

describe("site A's keys and site B's data", () => {
  it('cannot name site B: every public route answers 401', async () => {
    const asB = { site: siteB.id, key: siteA.key, anonymousId: SAME_BROWSER }
    const answers = [
      await sendFor(siteB, 'GET', `/v1/profile?${new URLSearchParams(asB)}`),
      await sendFor(siteB, 'GET', `/v1/recommendations?${new URLSearchParams(asB)}`),
      await sendFor(siteB, 'GET', `/v1/privacy/export?${new URLSearchParams(asB)}`),
      await sendFor(siteB, 'POST', '/v1/privacy/erase', asB),
      await sendFor(siteB, 'POST', '/v1/decide', { ...asB, placement: 'top' }),
      await sendFor(siteB, 'POST', '/v1/identify', { ...asB, userId: 'same-user' }),
      await sendFor(siteB, 'POST', '/v1/events', {
        ...asB,
        sentAt: Date.now(),
        events: [makeEvent('Page Viewed', {})],
      }),
    ]
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401, 401])
    expect(await listEvents(env.DB, siteB.id)).toHaveLength(4)
  })

  it("cannot use site B's admin API: every admin route answers 401", async () => {
    const routes = app.routes
      .filter((r) => r.path.startsWith('/v1/admin/') && r.method !== 'ALL')
      .map(
        (r) =>
          [
            r.method,
            r.path
              .replace(':site', siteB.id)
              .replace(':anonymousId', SAME_BROWSER)
              .replace(/:[a-zA-Z]+/g, 'x'),
          ] as const,
      )
    expect(routes.length).toBeGreaterThanOrEqual(10)
    for (const [method, path] of routes) {
      const init = {
        method,
        headers: { Authorization: `Bearer ${siteA.admin}` },
        body: method === 'GET' ? undefined : '{}',
      }
      const res = await app.request(path, init, env)
      expect([method, path, res.status]).toEqual([method, path, 401])
    }
  })

  it("reads only site A's own data, even about a browser site B knows too", async () => {
    const own = { anonymousId: SAME_BROWSER }
    const asA = { site: siteA.id, key: siteA.key }
    const preview = { title: 'Preview', text: '', placement: 'top', value: 1 }
    const today = new Date().toISOString().slice(0, 10)
    const answers: Array<[string, Response]> = [
      ['profile', await sendFor(siteA, 'GET', `/v1/profile?${query(siteA, own)}`)],
      ['export', await sendFor(siteA, 'GET', `/v1/privacy/export?${query(siteA, own)}`)],
      // Asked about B's item, category and cart, as a page of A could.
      ...(await Promise.all(
        ['for-you', 'recently-viewed', 'also-viewed', 'also-bought', 'trending', 'category'].map(async (strategy) => {
          const params = { ...own, strategy, item: 'b-secret-tea', category: 'b-secret-cat', limit: '50' }
          return [strategy, await recommend(siteA, params)] as [string, Response]
        }),
      )),
      ['cart', await recommend(siteA, { ...own, strategy: 'cart', cart: 'b-secret-tea,b-secret-pot' })],
      ['decide', await sendFor(siteA, 'POST', '/v1/decide', { ...asA, ...own, placement: 'top' })],
      [
        'identify',
        await admin(siteA.id, siteA.admin, 'POST', '/identify', { anonymousId: 'a-own-laptop', userId: 'same-user' }),
      ],
      ['admin profile', await admin(siteA.id, siteA.admin, 'GET', `/profiles/${SAME_BROWSER}`)],
      ['actions', await admin(siteA.id, siteA.admin, 'GET', '/actions')],
      ['settings', await admin(siteA.id, siteA.admin, 'GET', '/settings')],
      ['reports', await admin(siteA.id, siteA.admin, 'GET', `/reports?from=2020-01-01&to=${today}`)],
      ['segments', await admin(siteA.id, siteA.admin, 'GET', '/segments')],
      ['preview', await admin(siteA.id, siteA.admin, 'POST', '/preview', { action: { ...preview, id: 'p' }, ...own })],
    ]
    for (const [name, res] of answers) {
      const text = await res.text()
      expect([name, res.status]).toEqual([name, 200])
      for (const marker of MARKERS) expect(text, name).not.toContain(marker)
    }
    // A browser only B has seen is a stranger to A (the answer names it only because A asked for it).
    const stranger = (await (await admin(siteA.id, siteA.admin, 'GET', '/profiles/b-secret-phone')).json()) as any
    expect([stranger.uid, stranger.identities, stranger.summary.events]).toEqual([null, [], 0])
    // The answers are not empty: they show A's own rows.
    const profile = (await (await sendFor(siteA, 'GET', `/v1/profile?${query(siteA, own)}`)).json()) as {
      browsers: string[]
    }
    expect(profile.browsers.sort()).toEqual(['a-own-…', 'a-own-…', SAME_BROWSER])
    const exported = (await (await sendFor(siteA, 'GET', `/v1/privacy/export?${query(siteA, own)}`)).json()) as {
      events: unknown[]
    }
    expect(JSON.stringify(exported.events)).toContain('a-own-tea')
  })

  it("cannot change or delete site B's rows through site A", async () => {
    expect((await admin(siteA.id, siteA.admin, 'DELETE', '/catalog/b-secret-tea')).status).toBe(404)
    expect((await admin(siteA.id, siteA.admin, 'DELETE', '/actions/b-secret-offer')).status).toBe(404)
    const stock = await admin(siteA.id, siteA.admin, 'PATCH', '/catalog/stock', {
      items: [{ id: 'b-secret-tea', in_stock: false }],
    })
    expect(await stock.json()).toEqual({ updated: 0, unknown: 1 })
    const erase = await sendFor(siteA, 'POST', '/v1/privacy/erase', {
      site: siteA.id,
      key: siteA.key,
      anonymousId: 'b-secret-phone',
    })
    expect(erase.status).toBe(200)

    expect(await listEvents(env.DB, siteB.id)).toHaveLength(4)
    const actions = (await (await admin(siteB.id, siteB.admin, 'GET', '/actions')).json()) as {
      actions: Array<{ id: string }>
    }
    expect(actions.actions.map((a) => a.id)).toEqual(['b-secret-offer'])
    const recs = (await (await recommend(siteB, { strategy: 'trending', rules: '{"inStock":true}' })).json()) as {
      items: Array<{ id: string }>
    }
    expect(recs.items.map((i) => i.id)).toContain('b-secret-tea')
  })
})

describe('error answers', () => {
  afterEach(() => vi.restoreAllMocks())

  /** D1 that fails every call, as a real outage would, with a message and stack of its own. */
  const brokenDb = new Proxy({} as D1Database, {
    get: () => () => {
      throw new Error('D1_ERROR: database disk image is malformed: SQLITE_CORRUPT')
    },
  })
  /** An event buffer that cannot be reached. */
  const brokenBuffer = new Proxy({} as typeof env.EVENT_BUFFER, {
    get: () => () => {
      throw new Error('Durable Object reset because its code was updated.')
    },
  })
  const limited = { ...env, CLIENT_LIMITER: { limit: async () => ({ success: false }) } satisfies RateLimit }
  const as = (site: TestSite, extra: object = {}) => ({ site: site.id, key: site.key, ...extra })

  /** Bad requests, each with the status it must get: [name, status, path, init, bindings]. */
  const cases = (): Array<[string, number, string, RequestInit, Cloudflare.Env?]> => {
    const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
      method: 'POST',
      headers: { Origin: siteA.origin, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
    const bearer = (secret: string, init: RequestInit = {}): RequestInit => ({
      ...init,
      headers: { Authorization: `Bearer ${secret}`, ...(init.headers as object) },
    })
    const csv = { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: 'id,title\n"a,b\n' }
    const events = { ...as(siteA), sentAt: Date.now(), events: [makeEvent('Page Viewed', {})] }
    const q = (extra: Record<string, string>) => new URLSearchParams(as(siteA, extra) as Record<string, string>)
    return [
      ['malformed JSON', 400, '/v1/events', post('{"site":')],
      ['invalid batch', 400, '/v1/events', post({ site: siteA.id })],
      ['wrong key', 401, '/v1/events', post({ ...events, key: siteB.key })],
      ['unknown site', 401, '/v1/events', post({ ...events, site: 'nobody' })],
      ['foreign origin', 403, '/v1/events', post(events, { Origin: siteB.origin })],
      ['oversized body', 413, '/v1/events', post('x'.repeat(MAX_BATCH_BYTES + 1))],
      ['XML body', 415, '/v1/events', post('<batch/>', { 'Content-Type': 'application/xml' })],
      ['rules not JSON', 400, `/v1/recommendations?${q({ rules: '{' })}`, {}],
      ['B key on A', 401, `/v1/recommendations?${new URLSearchParams({ site: siteA.id, key: siteB.key })}`, {}],
      ['bad browser id', 400, `/v1/privacy/export?${q({ anonymousId: 'has space' })}`, {}],
      [
        'profile, unknown site',
        401,
        `/v1/profile?${new URLSearchParams({ site: 'nobody', key: 'x', anonymousId: 'y' })}`,
        {},
      ],
      [
        'erase, foreign origin',
        403,
        '/v1/privacy/erase',
        post(as(siteA, { anonymousId: 'x' }), { Origin: 'https://evil.example' }),
      ],
      ['decide, no placement', 400, '/v1/decide', post(as(siteA, { anonymousId: 'x' }))],
      [
        'identify, bad e-mail hash',
        400,
        '/v1/identify',
        post(as(siteA, { anonymousId: 'x', emailHash: 'ana@example.com' })),
      ],
      ['admin, no key', 401, `/v1/admin/${siteA.id}/actions`, {}],
      ['admin, public key', 401, `/v1/admin/${siteA.id}/actions`, bearer(siteA.key)],
      ["admin, B's admin key", 401, `/v1/admin/${siteA.id}/settings`, bearer(siteB.admin)],
      [
        'admin, invalid action',
        400,
        `/v1/admin/${siteA.id}/actions/x`,
        bearer(siteA.admin, { method: 'PUT', body: '{"title":1}' }),
      ],
      ['admin, malformed CSV', 400, `/v1/admin/${siteA.id}/catalog`, bearer(siteA.admin, csv)],
      ['admin, bad report range', 400, `/v1/admin/${siteA.id}/reports?from=yesterday&to=x`, bearer(siteA.admin)],
      [
        'admin, unknown key kind',
        404,
        `/v1/admin/${siteA.id}/keys/secret/rotate`,
        bearer(siteA.admin, { method: 'POST' }),
      ],
      ['admin, unknown action', 404, `/v1/admin/${siteA.id}/actions/none`, bearer(siteA.admin, { method: 'DELETE' })],
      ['no such route', 404, '/v1/nope', {}],
      [
        'rate limited',
        429,
        `/v1/profile?${q({ anonymousId: 'x' })}`,
        { headers: { 'CF-Connecting-IP': '198.51.100.1' } },
        limited,
      ],
      ['event buffer down', 500, '/v1/events', post(events), { ...env, EVENT_BUFFER: brokenBuffer }],
      // A shopper's history is always read from D1 (shared parts may come from the isolate's memory meanwhile).
      [
        'D1 down, recommendations',
        500,
        `/v1/recommendations?${q({ strategy: 'for-you', anonymousId: 'd1-down' })}`,
        {},
        { ...env, DB: brokenDb },
      ],
      ['D1 down, admin', 500, `/v1/admin/${siteA.id}/actions`, bearer(siteA.admin), { ...env, DB: brokenDb }],
    ]
  }

  it.each(cases())(
    '%s: %i with a JSON error and no stack, key or hash',
    async (_name, status, path, init, bindings = env) => {
      const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
      const res = await app.request(path, init, bindings)
      const text = await res.text()
      expect(res.status).toBe(status)
      expect(JSON.parse(text)).toEqual(expect.objectContaining({ error: expect.any(String) }))
      expect(text).not.toMatch(/^\s*at\s|\bat .+:\d+:\d+|\.ts:\d|\.js:\d|stack|SQLITE|D1_ERROR/m)
      for (const secret of keyMaterial) expect(text).not.toContain(secret)
      // An unexpected failure is logged where operators see it, and only there.
      if (status === 500) {
        expect(JSON.parse(text)).toEqual({ error: 'internal error' })
        expect(logged).toHaveBeenCalled()
      }
    },
  )
})
