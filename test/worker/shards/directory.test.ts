// Sites live on shards: each request reads and writes its site's data on the shard the directory
// names, through the real routes, and the daily cron sweeps each site where it lives.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import wranglerToml from '../../../wrangler.toml?raw'
import app from '../../../worker/app'
import { readBatch } from '../../../worker/events/ingest'
import { storeEvents } from '../../../worker/events/store'
import { logAnswers } from '../../../worker/recommend/store'
import { loadSite } from '../../../worker/http/site-auth'
import { SHARDS, shardOf } from '../../../worker/shards/directory'
import { makeEvent } from '../../fixtures/events'
import { adminFor, seedTestSite, sendFor, testSite, type TestSite } from '../helpers'
import { expectCounts, rowCounts } from './helpers'

const [onShard, onDb, moving] = [testSite('dir-shard'), testSite('dir-db'), testSite('dir-moving')]
const DAY = 86_400_000

/** Fails with the answer's body unless it is a 2xx. */
const ok = async (res: Response | Promise<Response>) => {
  const answer = await res
  expect(answer.status, await answer.clone().text()).toBeLessThan(300)
  return answer
}

/** Gives `site` a catalog, an action, linked and claimed ids, a decision and a recommendation, all through the API. */
async function fill(site: TestSite) {
  const items = ['tea', 'pot', 'cup'].map((id, i) => ({ id, title: id, category: 'kitchen', price: 5 + i }))
  const signed = { site: site.id, key: site.key }
  await ok(adminFor(site, 'POST', '/catalog', { items }))
  await ok(adminFor(site, 'PUT', '/actions/welcome', { title: 'Welcome', text: 'Hi', placement: 'top', value: 1 }))
  await ok(adminFor(site, 'POST', '/identify', { anonymousId: 'browser-1', userId: 'user-1' }))
  await ok(sendFor(site, 'POST', '/v1/identify', { ...signed, anonymousId: 'browser-2', crmId: 'c-9' }))
  await ok(sendFor(site, 'POST', '/v1/decide', { ...signed, anonymousId: 'browser-1', placement: 'top' }))
  const query = new URLSearchParams({ ...signed, anonymousId: 'browser-1', strategy: 'trending' })
  await ok(sendFor(site, 'GET', `/v1/recommendations?${query}`))
}

/** What `fill` leaves: two identities and their log from the admin link, one unsigned claim, one decision, one answer. */
const FILLED = { items: 3, actions: 1, identities: 2, identity_log: 2, claims: 1, decisions: 1, recommendations: 1 }

beforeAll(async () => {
  await seedTestSite(onShard, 'SHARD_1')
  await seedTestSite(onDb, 'DB')
  await fill(onShard)
  await fill(onDb)
})

describe('the shard directory', () => {
  it('lists every D1 binding of wrangler.toml as a shard', () => {
    const bindings = [...wranglerToml.matchAll(/\[\[d1_databases\]\]\s+binding = "(\w+)"/g)].map((m) => m[1])
    expect(bindings).toEqual([...SHARDS])
  })

  it('gives every shard the same schema', async () => {
    const schema = async (db: D1Database) =>
      (
        await db
          .prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name",
          )
          .all()
      ).results
    expect(await schema(env.SHARD_1)).toEqual(await schema(env.DB))
  })

  it('finds a site on the shard its row names', async () => {
    expect(await loadSite(env, onShard.id)).toMatchObject({ shard: 'SHARD_1', movingTo: null })
    expect(await loadSite(env, onDb.id)).toMatchObject({ shard: 'DB', movingTo: null })
    expect(shardOf(env, { shard: 'SHARD_1' })).toBe(env.SHARD_1)
    expect(() => shardOf(env, { shard: 'SHARD_9' })).toThrow('no D1 binding for shard "SHARD_9"')
  })

  it("writes a site's data through the API on its shard and nothing on the other", async () => {
    expect(await rowCounts(env.SHARD_1, onShard.id)).toEqual(await expectCounts(FILLED))
    expect(await rowCounts(env.DB, onShard.id)).toEqual(await expectCounts({}))
    expect(await rowCounts(env.DB, onDb.id)).toEqual(await expectCounts(FILLED))
    expect(await rowCounts(env.SHARD_1, onDb.id)).toEqual(await expectCounts({}))
  })

  it("reads a site's data from its shard", async () => {
    const actions = (await (await ok(adminFor(onShard, 'GET', '/actions'))).json()) as {
      actions: Array<{ id: string }>
    }
    expect(actions.actions.map((a) => a.id)).toEqual(['welcome'])
    const profile = await ok(adminFor(onShard, 'GET', '/profiles/browser-1'))
    expect(((await profile.json()) as { identities: unknown[] }).identities).toEqual([
      { kind: 'anonymous', value: 'browser-1', linked_at: expect.any(Number) },
      { kind: 'user', value: 'user-1', linked_at: expect.any(Number) },
    ])
  })
})

describe('the daily cron', () => {
  it('sweeps each site on its own shard and leaves a moving site alone', async () => {
    await seedTestSite(moving, 'DB')
    await env.DB.prepare("UPDATE sites SET moving_to = 'SHARD_1' WHERE id = ?").bind(moving.id).run()
    const now = Date.now()
    const old = (db: D1Database, site: TestSite) =>
      db.batch(logAnswers(db, [[site.id, `old-${site.id}`, null, 'trending', '[]', now - 400 * DAY, null, null]]))
    await Promise.all([old(env.SHARD_1, onShard), old(env.DB, onDb), old(env.DB, moving)])
    const batch = readBatch(
      { site: onShard.id, key: onShard.key, sentAt: now, events: [makeEvent('Page Viewed', {})] },
      now,
    )
    if (!batch.ok) throw new Error(JSON.stringify(batch.issues))
    await storeEvents(env.SHARD_1, onShard.id, batch.value.rows)

    const ctx = createExecutionContext()
    await app.scheduled(createScheduledController({ cron: '30 3 * * *' }), env, ctx)
    await waitOnExecutionContext(ctx)

    expect((await rowCounts(env.SHARD_1, onShard.id)).recommendations).toBe(1)
    expect((await rowCounts(env.DB, onDb.id)).recommendations).toBe(1)
    expect((await rowCounts(env.DB, moving.id)).recommendations).toBe(1)
    // Today's snapshot of the site on SHARD_1 is on SHARD_1: the one browser's segments.
    const segments = (await (await ok(adminFor(onShard, 'GET', '/segments?days=1'))).json()) as {
      days: Array<{ sizes: unknown[] }>
    }
    expect(segments.days).toHaveLength(1)
    expect((await rowCounts(env.SHARD_1, onShard.id)).segment_sizes).toBe(segments.days[0]!.sizes.length)
    expect((await rowCounts(env.DB, onShard.id)).segment_sizes).toBe(0)
    expect((await rowCounts(env.DB, moving.id)).segment_sizes).toBe(0)
  })
})
