import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import wranglerToml from '../../../wrangler.toml?raw'
import { listEvents } from '../../../worker/events/store'
import app from '../../../worker/app'
import { RATE_PERIOD } from '../../../worker/http/ratelimit'
import { makeEvent } from '../../fixtures/events'
import { batchFor, seedTestSite, testSite, type TestSite, settle } from '../helpers'

// Limiter state outlives a test file, so every site and address here is this file's own.
const [shopA, shopB, busy, quiet] = [testSite('rl-a'), testSite('rl-b'), testSite('rl-busy'), testSite('rl-quiet')]

/** A limiter double: lets `budget` requests per key through, then refuses them all (one endless window). */
function budgetLimiter(budget: number): RateLimit {
  const used = new Map<string, number>()
  return {
    async limit({ key }) {
      const n = used.get(key) ?? 0
      used.set(key, n + 1)
      return { success: n < budget }
    },
  }
}

/** An event posted for a site from a client address: the answer and the event's id. */
interface Posted {
  res: Response
  id: string
}

/** Posts one fresh event for `site` from `client`, with the bindings of `bindings`. */
async function postOne(site: TestSite, client: string, bindings: Cloudflare.Env = env): Promise<Posted> {
  const event = makeEvent('Page Viewed', {}, { anonymousId: `shopper-${client}` })
  const headers = { Origin: site.origin, 'CF-Connecting-IP': client }
  const init = { method: 'POST', headers, body: JSON.stringify(batchFor(site, [event])) }
  return { res: await app.request('/v1/events', init, bindings), id: event.id }
}

/** Repeats `send` until it answers 429 (at most `max` times); answers that 429. */
async function flood(send: () => Response | Promise<Response>, max = 2000): Promise<Response> {
  for (let n = 0; n < max; n++) {
    const res = await send()
    if (res.status === 429) return res
  }
  throw new Error(`no 429 after ${max} requests`)
}

const expectTooMany = async (res: Response) => {
  expect(res.status).toBe(429)
  expect(res.headers.get('Retry-After')).toBe(String(RATE_PERIOD))
  expect(await res.json()).toEqual({ error: expect.stringMatching(/^too many requests for .+; retry in \d+ s$/) })
}

const storedIds = async (site: TestSite) => {
  await settle(site.id)
  return (await listEvents(env.DB, site.id)).map((e) => e.id).sort()
}

beforeAll(async () => {
  for (const site of [shopA, shopB, busy, quiet]) await seedTestSite(site)
})

describe('rate limits', () => {
  it('answers Retry-After with the period wrangler.toml gives both limiters', () => {
    const periods = [...wranglerToml.matchAll(/^simple\s*=\s*\{[^}]*period\s*=\s*(\d+)/gm)].map((m) => Number(m[1]))
    expect(periods).toEqual([RATE_PERIOD, RATE_PERIOD])
  })

  it('documents the 429 and its Retry-After on every limited operation', async () => {
    const doc = (await (await app.request('/v1/openapi.json', {}, env)).json()) as {
      paths: Record<string, Record<string, any>>
    }
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => [`${method} ${path}`, op] as const),
    )
    const limited = operations.filter(([name]) => !/\/v1\/(health|openapi\.json)$/.test(name))
    expect(limited.length).toBeGreaterThan(10)
    for (const [name, op] of limited)
      expect([name, op.responses['429']?.headers['Retry-After']]).toEqual([name, expect.anything()])
  })

  it('refuses a flooding client with 429, stores none of its refused events, and still serves other clients and sites', async () => {
    // The real binding and budget: cheap requests (each a 400 once read) spend the client's budget,
    // then its event is refused. Again if a window rolled over in between.
    const client = '203.0.113.7'
    const accepted: string[] = []
    let refused: Posted | undefined
    for (let round = 0; !refused && round < 10; round++) {
      await flood(() => app.request('/v1/profile', { headers: { 'CF-Connecting-IP': client } }, env))
      const posted = await postOne(shopA, client)
      if (posted.res.status === 429) refused = posted
      else accepted.push(posted.id)
    }
    await expectTooMany(refused!.res)

    const otherClient = await postOne(shopA, '203.0.113.8')
    const otherSite = await postOne(shopB, '203.0.113.9')
    expect(otherClient.res.status).toBe(200)
    expect(otherSite.res.status).toBe(200)
    expect(await storedIds(shopA)).toEqual([...accepted, otherClient.id].sort())
  })

  it('refuses a flooded site with 429, stores none of its refused events, and still serves another site and its admin API', async () => {
    // A budget of 20 per site stands in for wrangler.toml's thousands, so the flood does not depend on
    // how fast this machine is; every request comes from a new address, so no client limit applies.
    const bindings = { ...env, SITE_LIMITER: budgetLimiter(20) }
    const accepted: string[] = []
    let n = 0
    const tooMany = await flood(async () => {
      const posted = await postOne(busy, `10.0.0.${n++}`, bindings)
      if (posted.res.ok) accepted.push(posted.id)
      return posted.res
    })
    await expectTooMany(tooMany)

    const refused = await postOne(busy, `10.0.1.${n++}`, bindings)
    const otherSite = await postOne(quiet, `10.0.1.${n++}`, bindings)
    const adminApi = await app.request(
      `/v1/admin/${busy.id}/settings`,
      { headers: { Authorization: `Bearer ${busy.admin}` } },
      bindings,
    )
    expect(refused.res.status).toBe(429)
    expect(otherSite.res.status).toBe(200)
    expect(adminApi.status).toBe(200)
    expect(accepted).toHaveLength(20)
    expect(await storedIds(busy)).toEqual(accepted.sort())
  })

  it('counts requests with a wrong key against their site', async () => {
    // Site ids and public keys are in every page, so anyone can spend a site's budget; counting
    // before the key check means a refused request costs no KV or D1 read.
    const bindings = { ...env, SITE_LIMITER: budgetLimiter(5) }
    await flood(() => app.request(`/v1/recommendations?site=${shopB.id}&key=pk_wrong`, {}, bindings))
    await expectTooMany((await postOne(shopB, '203.0.113.20', bindings)).res)
  })

  it('refuses a flooding client on every limited route before reading its request', async () => {
    const bindings = { ...env, CLIENT_LIMITER: budgetLimiter(0) }
    // Bodies and queries that would each be a 400 or 401 if they were read.
    const routes: Array<[string, string]> = [
      ['POST', '/v1/events'],
      ['GET', '/v1/recommendations'],
      ['POST', '/v1/identify'],
      ['POST', '/v1/identify/unlink'],
      ['GET', '/v1/profile'],
      ['GET', '/v1/privacy/export'],
      ['POST', '/v1/privacy/erase'],
      ['POST', '/v1/decide'],
      ['GET', `/v1/admin/${shopA.id}/settings`],
    ]
    for (const [method, path] of routes) {
      const init = {
        method,
        headers: { 'CF-Connecting-IP': '203.0.113.50' },
        body: method === 'POST' ? 'nope' : undefined,
      }
      await expectTooMany(await app.request(path, init, bindings))
    }
  })

  it('lets everything through when RATE_LIMITS is "off"', async () => {
    const bindings = { ...env, SITE_LIMITER: budgetLimiter(0), CLIENT_LIMITER: budgetLimiter(0), RATE_LIMITS: 'off' }
    const posted = await postOne(shopB, '203.0.113.60', bindings)
    const adminApi = await app.request(
      `/v1/admin/${shopB.id}/settings`,
      { headers: { Authorization: `Bearer ${shopB.admin}` } },
      bindings,
    )
    expect(posted.res.status).toBe(200)
    expect(adminApi.status).toBe(200)
  })
})
