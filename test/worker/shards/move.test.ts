// Moving a site between shards with nothing lost: every site-scoped table is copied, checked and
// deleted from the source, in as many calls as D1's statement limit needs, a neighbour on the same
// shard is untouched, writes wait while the site moves, and a move that dies half-way finishes when
// it is run again.
import { env } from 'cloudflare:test'
import { HTTPException } from 'hono/http-exception'
import { describe, expect, it } from 'vitest'
import { loadSite } from '../../../worker/http/site-auth'
import { MOVE_MIN_STATEMENTS, type MoveOptions, type MoveReport, moveSite } from '../../../worker/shards/move'
import { adminFor, batchFor, seedTestSite, sendFor, settle, testSite, type TestSite } from '../helpers'
import { makeEvent } from '../../fixtures/events'
import { expectCounts, rowCounts, seedEveryTable, siteRows } from './helpers'

/** Rows each site gets per table: events fill several pages and several inserts per page (14 columns: 7 rows each). */
const ROWS = (table: string) => (table === 'events' ? 45 : table === 'identity_log' ? 23 : 3 + (table.length % 5))

/** Calls moveSite until it is done; every call's report, in order. */
async function moveAll(bindings: Env, siteId: string, to: string, options: MoveOptions = {}): Promise<MoveReport[]> {
  const reports: MoveReport[] = []
  for (let call = 0; call < 500; call++) {
    reports.push(await moveSite(bindings, siteId, to, { waitMs: 0, ...options }))
    if (reports.at(-1)!.phase === 'done') return reports
  }
  throw new Error(`not done after 500 calls: ${JSON.stringify(reports.at(-1))}`)
}
type Env = typeof env

const total = (counts: Record<string, number>) => Object.values(counts).reduce((n, c) => n + c, 0)

/** A site with generated rows in every table on `shard`, and a neighbour on the same shard with rows of its own. */
async function siteWithNeighbour(name: string, shard: 'DB' | 'SHARD_1', rowsOf = ROWS) {
  const [site, neighbour] = [testSite(name), testSite(`${name}-next`)]
  await seedTestSite(site, shard)
  await seedTestSite(neighbour, shard)
  const counts = await seedEveryTable(env[shard], site.id, rowsOf)
  await seedEveryTable(env[shard], neighbour.id, (t) => rowsOf(t) + 1)
  return {
    site,
    neighbour,
    counts,
    rows: await siteRows(env[shard], site.id),
    next: await siteRows(env[shard], neighbour.id),
  }
}

/** The error moveSite threw: its status and message. */
const refusal = (move: Promise<unknown>) =>
  move.then(
    () => null,
    (e: unknown) => (e instanceof HTTPException ? { status: e.status, message: e.message } : e),
  )

/** `db` with its batch() failing after `batches` calls, as when the Worker dies mid-move. */
function dyingAfter(db: D1Database, batches: number): D1Database {
  let calls = 0
  return new Proxy(db, {
    get(target, property) {
      if (property === 'batch')
        return (statements: D1PreparedStatement[]) => {
          if (calls++ >= batches) return Promise.reject(new Error('the Worker died'))
          return target.batch(statements)
        }
      const value = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

describe('moveSite', () => {
  it('copies every table to the target, deletes it from the source, and leaves the neighbour alone', async () => {
    const { site, neighbour, counts, rows, next } = await siteWithNeighbour('mv-all', 'DB')
    expect(total(counts)).toBe(157)

    const [report] = await moveAll(env, site.id, 'SHARD_1')
    expect(report).toEqual({ site: site.id, to: 'SHARD_1', phase: 'done', copied: 157, deleted: 157, rows: counts })
    expect(await rowCounts(env.SHARD_1, site.id)).toEqual(counts)
    expect(await rowCounts(env.DB, site.id)).toEqual(await expectCounts({}))
    // Every value as it was, integers and reals alike.
    expect(await siteRows(env.SHARD_1, site.id)).toEqual(rows)
    expect(await siteRows(env.DB, neighbour.id)).toEqual(next)
    expect(await rowCounts(env.SHARD_1, neighbour.id)).toEqual(await expectCounts({}))
    expect(await loadSite(env, site.id)).toMatchObject({ shard: 'SHARD_1', movingTo: null })
  })

  it('moves in as many calls as the statement budget needs, copying and deleting each row once', async () => {
    const { site, neighbour, counts, rows, next } = await siteWithNeighbour('mv-rounds', 'SHARD_1', (t) => 8 * ROWS(t))
    const reports = await moveAll(env, site.id, 'DB', { statements: MOVE_MIN_STATEMENTS })
    expect(reports.length).toBeGreaterThan(5)
    expect(reports[0]).toMatchObject({ phase: 'copying' })
    expect(reports.map((r) => r.phase).filter((p, i, all) => p !== all[i - 1])).toEqual(['copying', 'cleaning', 'done'])
    expect(reports.reduce((n, r) => n + r.copied, 0)).toBe(total(counts))
    expect(reports.reduce((n, r) => n + r.deleted, 0)).toBe(total(counts))
    expect(reports.at(-1)!.rows).toEqual(counts)
    expect(await siteRows(env.DB, site.id)).toEqual(rows)
    expect(await rowCounts(env.SHARD_1, site.id)).toEqual(await expectCounts({}))
    expect(await siteRows(env.SHARD_1, neighbour.id)).toEqual(next)
  })

  it('finishes a move whose Worker died mid-copy, and one that died mid-cleanup, with exact counts', async () => {
    const { site, counts, rows } = await siteWithNeighbour('mv-crash', 'DB')
    // Dies after the target's resume point and a few pages.
    const copying = await refusal(
      moveSite({ ...env, SHARD_1: dyingAfter(env.SHARD_1, 4) }, site.id, 'SHARD_1', { waitMs: 0 }),
    )
    expect(copying).toEqual(new Error('the Worker died'))
    const partial = total(await rowCounts(env.SHARD_1, site.id))
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(total(counts))
    expect(await loadSite(env, site.id)).toMatchObject({ shard: 'DB', movingTo: 'SHARD_1' })
    // Resumed where the first call stopped, switched, then died deleting the old copy: every row once.
    const again = await refusal(moveSite({ ...env, DB: dyingAfter(env.DB, 1) }, site.id, 'SHARD_1', { waitMs: 0 }))
    expect(again).toEqual(new Error('the Worker died'))
    expect(await rowCounts(env.SHARD_1, site.id)).toEqual(counts)
    expect(await loadSite(env, site.id)).toMatchObject({ shard: 'SHARD_1', movingTo: 'SHARD_1' })

    const [done] = await moveAll(env, site.id, 'SHARD_1')
    expect(done).toMatchObject({ phase: 'done', copied: 0, rows: counts })
    expect(await siteRows(env.SHARD_1, site.id)).toEqual(rows)
    expect(await rowCounts(env.DB, site.id)).toEqual(await expectCounts({}))
    expect(await loadSite(env, site.id)).toMatchObject({ shard: 'SHARD_1', movingTo: null })
  })

  it('stops before switching when a table changed under the copy, and copies again on restart', async () => {
    const { site, counts } = await siteWithNeighbour('mv-drift', 'DB')
    expect((await moveSite(env, site.id, 'SHARD_1', { waitMs: 0, statements: MOVE_MIN_STATEMENTS })).phase).toBe(
      'copying',
    )
    // A write the move did not stop, below where the copy of events already is.
    await env.DB.prepare(
      'INSERT INTO items (site_id, id, title, category, price, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    )
      .bind(site.id, 'aaa-late', 'Late', 'late', 1, 1)
      .run()
    expect(await refusal(moveAll(env, site.id, 'SHARD_1'))).toEqual({
      status: 409,
      message: `row counts differ after the copy (items ${counts.items! + 1} here, ${counts.items} there): move again with restart`,
    })
    expect(await loadSite(env, site.id)).toMatchObject({ shard: 'DB', movingTo: 'SHARD_1' })

    // As the command line does: restart until the target is empty, then go on.
    const first = await moveSite(env, site.id, 'SHARD_1', { waitMs: 0, restart: true, statements: MOVE_MIN_STATEMENTS })
    // It deletes what the target held (every row but the late one), then copies from the start.
    expect(first).toMatchObject({ phase: 'copying', deleted: total(counts) })
    const rest = await moveAll(env, site.id, 'SHARD_1')
    const after = { ...counts, items: counts.items! + 1 }
    expect(rest.at(-1)).toMatchObject({ phase: 'done', rows: after })
    expect(first.copied + rest.reduce((n, r) => n + r.copied, 0)).toBe(total(after))
    expect(await rowCounts(env.SHARD_1, site.id)).toEqual(after)
    expect(await rowCounts(env.DB, site.id)).toEqual(await expectCounts({}))
  })

  it('refuses an unknown shard, the site’s own shard, an unknown site, and another move while one is under way', async () => {
    const site = testSite('mv-refuse')
    await seedTestSite(site, 'DB')
    await seedEveryTable(env.DB, site.id, ROWS)
    const move = (to: string, id = site.id) =>
      refusal(moveSite(env, id, to, { waitMs: 0, statements: MOVE_MIN_STATEMENTS }))
    expect(await move('SHARD_9')).toEqual({ status: 400, message: 'unknown shard "SHARD_9"; shards: DB, SHARD_1' })
    expect(await move('DB')).toEqual({ status: 400, message: 'site "mv-refuse" is on DB already' })
    expect(await move('DB', 'mv-nobody')).toEqual({ status: 404, message: 'unknown site "mv-nobody"' })
    expect(await move('SHARD_1')).toBeNull()
    expect(await move('DB')).toEqual({
      status: 409,
      message: 'site "mv-refuse" is moving to SHARD_1: run that move again to finish it',
    })
  })
})

describe('a site while it moves', () => {
  /** Fails with the answer's body unless it is a 2xx. */
  const ok = async (res: Response | Promise<Response>) => {
    const answer = await res
    expect(answer.status, await answer.clone().text()).toBeLessThan(300)
    return answer
  }
  const signed = (site: TestSite) => ({ site: site.id, key: site.key })

  it('refuses every write with 503 and changes nothing, serves reads from the source, then writes to the target', async () => {
    const site = testSite('mv-busy')
    await seedTestSite(site, 'SHARD_1')
    const items = ['tea', 'pot', 'cup'].map((id, i) => ({ id, title: id, category: 'kitchen', price: 5 + i }))
    await ok(adminFor(site, 'POST', '/catalog', { items }))
    await ok(adminFor(site, 'PUT', '/actions/welcome', { title: 'Welcome', text: 'Hi', placement: 'top', value: 1 }))
    await ok(adminFor(site, 'POST', '/identify', { anonymousId: 'browser-1', userId: 'user-1' }))
    await seedEveryTable(env.SHARD_1, site.id, (t) => (t === 'events' ? 60 : 0))
    const before = await rowCounts(env.SHARD_1, site.id)

    expect((await moveSite(env, site.id, 'DB', { waitMs: 0, statements: MOVE_MIN_STATEMENTS })).phase).toBe('copying')
    const midway = await rowCounts(env.DB, site.id)
    const writes = [
      adminFor(site, 'POST', '/catalog', { items: [{ id: 'mug', title: 'Mug', category: 'kitchen', price: 3 }] }),
      adminFor(site, 'PUT', '/actions/later', { title: 'Later', text: 'Hi', placement: 'top', value: 1 }),
      adminFor(site, 'DELETE', '/catalog/tea'),
      adminFor(site, 'POST', '/identify', { anonymousId: 'browser-2', userId: 'user-2' }),
      sendFor(site, 'POST', '/v1/identify', { ...signed(site), anonymousId: 'browser-3', crmId: 'c-1' }),
      sendFor(site, 'POST', '/v1/decide', { ...signed(site), anonymousId: 'browser-1', placement: 'top' }),
      sendFor(site, 'POST', '/v1/privacy/erase', { ...signed(site), anonymousId: 'browser-1' }),
    ]
    for (const res of await Promise.all(writes)) {
      expect(res.status).toBe(503)
      expect(res.headers.get('Retry-After')).toBe('30')
      expect(await res.json()).toEqual({ error: 'site is moving to another shard; retry shortly' })
    }
    const query = new URLSearchParams({ ...signed(site), anonymousId: 'browser-1', strategy: 'trending' })
    const answer = (await (await ok(sendFor(site, 'GET', `/v1/recommendations?${query}`))).json()) as {
      items: Array<{ id: string }>
    }
    expect(answer.items.map((i) => i.id).sort()).toEqual(['cup', 'pot', 'tea'])
    const actions = (await (await ok(adminFor(site, 'GET', '/actions'))).json()) as { actions: Array<{ id: string }> }
    expect(actions.actions.map((a) => a.id)).toEqual(['welcome'])
    expect(await rowCounts(env.SHARD_1, site.id)).toEqual(before)
    expect(await rowCounts(env.DB, site.id)).toEqual(midway)

    await moveAll(env, site.id, 'DB')
    expect(await rowCounts(env.DB, site.id)).toEqual(before)
    await ok(sendFor(site, 'POST', '/v1/identify', { ...signed(site), anonymousId: 'browser-3', crmId: 'c-1' }))
    await ok(adminFor(site, 'DELETE', '/catalog/tea'))
    expect(await rowCounts(env.DB, site.id)).toEqual({ ...before, claims: 1, items: 2 })
    expect(await rowCounts(env.SHARD_1, site.id)).toEqual(await expectCounts({}))
  })

  it('accepts events while the site moves, holds them in its buffer, and stores them on the target after', async () => {
    const site = testSite('mv-events')
    await seedTestSite(site, 'SHARD_1')
    await seedEveryTable(env.SHARD_1, site.id, (t) => (t === 'events' ? 30 : 0))
    const before = await rowCounts(env.SHARD_1, site.id)
    expect((await moveSite(env, site.id, 'DB', { waitMs: 0, statements: MOVE_MIN_STATEMENTS })).phase).toBe('copying')
    const who = { anonymousId: 'mover', sessionId: 'mover-1' }
    const events = ['tea', 'pot'].map((id) => makeEvent('Product Viewed', { product_id: id }, who))
    const res = await sendFor(site, 'POST', '/v1/events', batchFor(site, events))
    expect(await res.json()).toEqual({ accepted: 2, duplicates: 0 })
    expect(await rowCounts(env.SHARD_1, site.id)).toEqual(before)
    await moveAll(env, site.id, 'DB')
    await settle(site.id)
    expect(await rowCounts(env.DB, site.id)).toMatchObject({ events: before.events! + 2, sessions: 1 })
    expect(await rowCounts(env.SHARD_1, site.id)).toEqual(await expectCounts({}))
  })
})
