// POST /v1/ops/sites/:site/move: only the operator key (a Worker secret) moves a site; each call
// goes as far as one invocation's statements allow (202), the last one answers 200 with the counts.
import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import app from '../../../worker/app'
import { loadSite } from '../../../worker/http/site-auth'
import { seedTestSite, testSite } from '../helpers'
import { expectCounts, rowCounts, seedEveryTable } from './helpers'

const OPERATOR_KEY = 'op_test_0123456789abcdef'
const operator = { ...env, OPERATOR_KEY, MOVE_WAIT_SECONDS: '0' }
const [small, large] = [testSite('ops-small'), testSite('ops-large')]

/** POST /v1/ops/sites/:site/move with `body` (a string as it is, else JSON) and the bearer `key`. */
const move = (siteId: string, body: unknown, key: string | null = OPERATOR_KEY, bindings: Cloudflare.Env = operator) =>
  app.request(
    `/v1/ops/sites/${siteId}/move`,
    {
      method: 'POST',
      headers: key ? { Authorization: `Bearer ${key}` } : {},
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
    bindings,
  )

/** An answer's status and JSON body. */
const answer = async (res: Response | Promise<Response>) => {
  const r = await res
  return { status: r.status, body: (await r.json()) as Record<string, unknown> }
}

let smallCounts: Record<string, number>

beforeAll(async () => {
  await seedTestSite(small, 'DB')
  await seedTestSite(large, 'DB')
  smallCounts = await seedEveryTable(env.DB, small.id, (t) => (t === 'identity_log' ? 4 : 2))
  // More events than one call's statements can copy (7 per insert, 900 statements).
  await seedEveryTable(env.DB, large.id, (t) => (t === 'events' ? 7000 : 1))
})

describe('POST /v1/ops/sites/:site/move', () => {
  it('answers 503 while no operator key is configured', async () => {
    expect(await answer(move(small.id, { to: 'SHARD_1' }, OPERATOR_KEY, env))).toEqual({
      status: 503,
      body: { error: 'no operator key configured' },
    })
  })

  it('refuses a missing or wrong key, and the site’s own admin key, with 401 JSON and moves nothing', async () => {
    for (const key of [null, 'op_wrong', small.admin, small.key]) {
      expect(await answer(move(small.id, { to: 'SHARD_1' }, key))).toEqual({
        status: 401,
        body: { error: 'missing or invalid operator key' },
      })
    }
    expect(await loadSite(env, small.id)).toMatchObject({ shard: 'DB', movingTo: null })
  })

  it('refuses bad bodies, unknown shards and sites, and the site’s own shard, with JSON errors', async () => {
    expect(await answer(move(small.id, '{"to":'))).toEqual({ status: 400, body: { error: 'malformed JSON' } })
    expect(await answer(move(small.id, {}))).toEqual({
      status: 400,
      body: {
        error: 'invalid move request',
        issues: [{ path: 'to', message: 'Invalid input: expected string, received undefined' }],
      },
    })
    expect(await answer(move(small.id, { to: 'SHARD_1', now: true }))).toEqual({
      status: 400,
      body: { error: 'invalid move request', issues: [{ path: '(body)', message: 'Unrecognized key: "now"' }] },
    })
    expect(await answer(move(small.id, { to: 'SHARD_9' }))).toEqual({
      status: 400,
      body: { error: 'unknown shard "SHARD_9"; shards: DB, SHARD_1' },
    })
    expect(await answer(move(small.id, { to: 'DB' }))).toEqual({
      status: 400,
      body: { error: 'site "ops-small" is on DB already' },
    })
    expect(await answer(move('ops-nobody', { to: 'SHARD_1' }))).toEqual({
      status: 404,
      body: { error: 'unknown site "ops-nobody"' },
    })
    expect(await loadSite(env, small.id)).toMatchObject({ shard: 'DB', movingTo: null })
  })

  it('moves a small site in one call and answers 200 with its rows per table', async () => {
    expect(await answer(move(small.id, { to: 'SHARD_1' }))).toEqual({
      status: 200,
      body: { site: small.id, to: 'SHARD_1', phase: 'done', copied: 42, deleted: 42, rows: smallCounts },
    })
    expect(await rowCounts(env.SHARD_1, small.id)).toEqual(smallCounts)
    expect(await rowCounts(env.DB, small.id)).toEqual(await expectCounts({}))
    expect(await loadSite(env, small.id)).toMatchObject({ shard: 'SHARD_1', movingTo: null })
  })

  it('answers 202 while a large site needs more calls, 409 for another target meanwhile, then 200', async () => {
    const first = await answer(move(large.id, { to: 'SHARD_1' }))
    expect(first).toMatchObject({ status: 202, body: { phase: 'copying', deleted: 0 } })
    expect(await answer(move(large.id, { to: 'DB' }))).toEqual({
      status: 409,
      body: { error: 'site "ops-large" is moving to SHARD_1: run that move again to finish it' },
    })
    const calls = [first]
    while (calls.at(-1)!.status === 202) calls.push(await answer(move(large.id, { to: 'SHARD_1' })))
    const rows = await expectCounts(Object.fromEntries(Object.keys(await expectCounts({})).map((t) => [t, 1])))
    rows.events = 7000
    expect(calls.at(-1)).toEqual({
      status: 200,
      body: { site: large.id, to: 'SHARD_1', phase: 'done', copied: expect.any(Number), deleted: 7019, rows },
    })
    expect(calls.reduce((n, c) => n + (c.body.copied as number), 0)).toBe(7019)
    expect(await rowCounts(env.SHARD_1, large.id)).toEqual(rows)
    expect(await rowCounts(env.DB, large.id)).toEqual(await expectCounts({}))
  })
})
