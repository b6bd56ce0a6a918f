import { env, runInDurableObject } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { bufferOf, EventBuffer } from '../../../worker/events/buffer'
import { FLUSH_MAX_EVENTS, HELD_RETRY_MS } from '../../../worker/events/tunables'
import { readBatch } from '../../../worker/events/ingest'
import type { EventRow } from '../../../worker/events/store'
import { makeEvent } from '../../fixtures/events'
import { batchFor, seedTestSite, sendFor, storeAsReceived, testSite } from '../helpers'
import { ARCHIVE_EVERY_MS, archivePrefix } from '../../../worker/events/archive'
import { CACHE_KEYS } from '../../../worker/http/cache-keys'
import app from '../../../worker/app'

const site = testSite('buffer')
const stub = () => bufferOf(env, site.id)
const stored = async (ids: string[]) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM events WHERE site_id = ? AND id IN (SELECT value FROM json_each(?))`)
    .bind(site.id, JSON.stringify(ids))
    .first<{ n: number }>())!.n
/** Posts without settling: the answer comes from the buffer alone. */
const post = (events: unknown[]) =>
  app.request(
    '/v1/events',
    { method: 'POST', headers: { Origin: site.origin }, body: JSON.stringify(batchFor(site, events)) },
    env,
  )
const views = (n: number, anonymousId = 'shopper') =>
  Array.from({ length: n }, (_, i) => makeEvent('Product Viewed', { product_id: `tea-${i}` }, { anonymousId }))
const rowsOf = (events: ReturnType<typeof views>, of = site): EventRow[] => {
  const parsed = readBatch(batchFor(of, events), Date.now())
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
  return parsed.value.rows
}
/** Runs `fn` inside the site's buffer, with its SQLite storage at hand. */
const inside = <R>(fn: (buffer: EventBuffer, state: DurableObjectState) => R | Promise<R>) =>
  runInDurableObject(stub(), fn)
const remembered = () =>
  inside((_, state) => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM seen').one().n)
const waitingIn = (state: DurableObjectState) =>
  state.storage.sql.exec<{ n: number }>('SELECT COALESCE(SUM(events), 0) AS n FROM waiting').one().n

beforeAll(() => seedTestSite(site))

describe('EventBuffer', () => {
  it('answers from the buffer and stores the batch in D1 at its flush', async () => {
    const events = views(3)
    const res = await post(events)
    expect(await res.json()).toEqual({ accepted: 3, duplicates: 0 })
    await stub().drain()
    expect(await stored(events.map((e) => e.id))).toBe(3)
  })

  it('folds many batches in one flush', async () => {
    const batches = [views(4, 'a'), views(4, 'b'), views(4, 'c')]
    const result = await inside(async (buffer) => {
      for (const events of batches) await buffer.append(rowsOf(events))
      return buffer.flush()
    })
    expect(result).toEqual({ flushed: 12, stored: 12, erased: 0, waiting: 0 })
    expect(await stored(batches.flat().map((e) => e.id))).toBe(12)
  })

  it('answers a retry after the flush as duplicates, and stores a replay it forgot only once', async () => {
    const events = views(2, 'replayer')
    await post(events)
    await stub().drain()
    expect(await (await post(events)).json()).toEqual({ accepted: 0, duplicates: 2 })
    // Past RECENT_IDS_MS the buffer forgets the ids: D1's own key still stores each once.
    await inside((_, state) => state.storage.sql.exec('DELETE FROM seen'))
    expect(await remembered()).toBe(0)
    expect(await (await post(events)).json()).toEqual({ accepted: 2, duplicates: 0 })
    expect(await inside((buffer) => buffer.flush())).toMatchObject({ flushed: 2, stored: 0 })
    expect(await stored(events.map((e) => e.id))).toBe(2)
  })

  it('keeps events while D1 refuses them, retries later, and stores them once D1 is back', async () => {
    const events = views(2, 'patient')
    const broken = new Proxy({} as D1Database, {
      get: () => () => {
        throw new Error('D1_ERROR: Network connection lost.')
      },
    })
    const before = Date.now()
    const retryAt = await inside(async (buffer, state) => {
      const real = (buffer as unknown as { env: typeof env }).env
      Object.assign(buffer, { env: { ...real, DB: broken } })
      await buffer.append(rowsOf(events))
      await state.storage.deleteAlarm()
      await buffer.alarm()
      const waiting = waitingIn(state)
      Object.assign(buffer, { env: real })
      return { waiting, alarm: await state.storage.getAlarm() }
    })
    expect(retryAt.waiting).toBe(2)
    expect(retryAt.alarm).toBeGreaterThanOrEqual(before + 1000)
    expect(await stored(events.map((e) => e.id))).toBe(0)
    await stub().drain()
    expect(await stored(events.map((e) => e.id))).toBe(2)
  })

  it('drops, at the flush, events of a browser erased after they were accepted', async () => {
    const events = views(2, 'erased-later')
    await post(events)
    await env.DB.prepare('INSERT INTO erased (site_id, anonymous_id, erased_at) VALUES (?, ?, ?)')
      .bind(site.id, 'erased-later', Date.now())
      .run()
    const result = await inside((buffer) => buffer.flush())
    expect(result).toMatchObject({ erased: 2, stored: 0 })
    expect(await stored(events.map((e) => e.id))).toBe(0)
  })

  it('forgets the batches it flushed but keeps their ids', async () => {
    const events = views(1, 'lean')
    await sendFor(site, 'POST', '/v1/events', batchFor(site, events))
    const kept = await inside((_, state) => ({
      waiting: waitingIn(state),
      seen: state.storage.sql.exec('SELECT id FROM seen WHERE id = ?', events[0]!.id).toArray().length,
    }))
    expect(kept).toEqual({ waiting: 0, seen: 1 })
  })

  it('flushes whole batches, oldest first, up to FLUSH_MAX_EVENTS at a time', async () => {
    // 30 events, then batches of 100: the first flush takes 30 + 9 x 100 and leaves the tenth batch.
    const batches = [
      views(30, 'w0'),
      ...Array.from({ length: FLUSH_MAX_EVENTS / 100 }, (_, i) => views(100, `w${i + 1}`)),
    ]
    const flushes = await inside(async (buffer) => {
      for (const events of batches) await buffer.append(rowsOf(events))
      return [await buffer.flush(), await buffer.flush()]
    })
    expect(flushes).toEqual([
      { flushed: 930, stored: 930, erased: 0, waiting: 100 },
      { flushed: 100, stored: 100, erased: 0, waiting: 0 },
    ])
  })

  it("holds a moving site's batches, and new ones do not pull its retry closer", async () => {
    const moving = testSite('buffer-moving')
    await seedTestSite(moving)
    await env.DB.prepare("UPDATE sites SET moving_to = 'SHARD_1' WHERE id = ?").bind(moving.id).run()
    await env.CACHE.delete(CACHE_KEYS.site(moving.id))
    const result = await runInDurableObject(bufferOf(env, moving.id), async (buffer, state) => {
      await buffer.append(rowsOf(views(2, 'm1'), moving))
      await state.storage.deleteAlarm()
      const before = Date.now()
      await buffer.alarm()
      await buffer.append(rowsOf(views(2, 'm2'), moving))
      return { before, alarm: await state.storage.getAlarm(), waiting: waitingIn(state), flushed: await buffer.flush() }
    })
    expect(result.waiting).toBe(4)
    expect(result.alarm).toBeGreaterThanOrEqual(result.before + HELD_RETRY_MS)
    expect(result.flushed).toEqual({ flushed: 0, stored: 0, erased: 0, waiting: 4, held: true })
  })

  it("archives a chunk of its site's old events after a flush, at most once every ARCHIVE_EVERY_MS", async () => {
    const old = (who: string) => views(3, who).map((e) => ({ ...e, timestamp: Date.now() - 3 * 86_400_000 }))
    const [first, second] = [old('old-1'), old('old-2')]
    await storeAsReceived(first, site)
    const result = await inside(async (buffer, state) => {
      Object.assign(buffer, { archivedAt: 0 })
      await buffer.append(rowsOf(views(1, 'fresh-1')))
      await state.storage.deleteAlarm()
      await buffer.alarm()
      await storeAsReceived(second, site)
      await buffer.append(rowsOf(views(1, 'fresh-2')))
      await state.storage.deleteAlarm()
      await buffer.alarm()
      return { objects: (await env.ARCHIVE.list({ prefix: archivePrefix(site.id) })).objects.length }
    })
    expect(result.objects).toBe(1)
    expect(await stored(first.map((e) => e.id))).toBe(0)
    // The second alarm came within ARCHIVE_EVERY_MS: those events wait for the next chance.
    expect(ARCHIVE_EVERY_MS).toBe(60_000)
    expect(await stored(second.map((e) => e.id))).toBe(3)
  })

  it('carries over the ids and unflushed events of a buffer of the earlier layout', async () => {
    // 150 unflushed events: carried over as batches of 100 and 50, never as one row of all of them.
    const old = [...views(100, 'old-layout'), ...views(50, 'old-layout-2')]
    const flushedLongAgo = views(1, 'old-flushed')
    const rows = [...rowsOf(old.slice(0, 100)), ...rowsOf(old.slice(100))]
    const result = await inside(async (_, state) => {
      const sql = state.storage.sql
      sql.exec(
        'CREATE TABLE buffered (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, row TEXT, flushed_at INTEGER)',
      )
      for (const row of rows)
        sql.exec('INSERT INTO buffered VALUES (?, ?, ?, NULL)', row[1], row[8], JSON.stringify(row))
      sql.exec('INSERT INTO buffered VALUES (?, ?, NULL, ?)', flushedLongAgo[0]!.id, Date.now(), Date.now())
      const reopened = new EventBuffer(state, env)
      const batches = sql.exec<{ events: number }>('SELECT events FROM waiting ORDER BY seq').toArray()
      const retried = await reopened.append(rowsOf([...old.slice(0, 50), ...flushedLongAgo]))
      return {
        batches: batches.map((b) => b.events),
        retried,
        flushed: await reopened.flush(),
        layout: sql.exec("SELECT name FROM sqlite_schema WHERE name = 'buffered'").toArray(),
      }
    })
    expect(result).toEqual({
      batches: [100, 50],
      retried: { accepted: 0, duplicates: 51 },
      flushed: { flushed: 150, stored: 150, erased: 0, waiting: 0 },
      layout: [],
    })
    expect(await stored(old.map((e) => e.id))).toBe(150)
  })
})
