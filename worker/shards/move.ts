// Moving a site to another shard with nothing lost. The protocol, one directory row on DB at a time:
//   1. moving_to = target. Every isolate sees it within the KV site cache's life (the cache entry is
//      deleted, then the move waits MOVE_WAIT_SECONDS): from then on every write of the site's data
//      answers 503, and the events buffer holds its events, so the source no longer changes; reads
//      still come from the source.
//   2. Each site-scoped table (tables.ts) is copied in pages, in key order, each page one transaction
//      on the target with ON CONFLICT DO NOTHING: a call that dies mid-copy leaves a prefix of the
//      source there, and the next call resumes after it (a page copied twice is harmless).
//   3. Row counts of every table are compared on both shards; any difference stops the move (409)
//      before anything is switched, and `restart` empties the target to copy it again.
//   4. shard = target (moving_to stays target): writes go to the target from here on. After another
//      wait, for isolates that read the old shard from their cache, the site's rows are deleted on
//      every other shard, then moving_to = null. (A call that dies during that wait leaves the next
//      call to delete at once: a cached isolate may then read a half-deleted site for up to a minute.)
// D1 allows 1,000 queries per Worker invocation, so one call runs at most MOVE_STATEMENTS statements
// and says how far it got; the operator calls again (scripts/admin-cli.ts does) until it is done.
import { HTTPException } from 'hono/http-exception'
import type { Bindings } from '../env'
import { findSite } from '../admin/store'
import { CACHE_KEYS } from '../http/cache-keys'
import { SITE_CACHE_TTL } from '../http/site-auth'
import { isShard, SHARDS, shardOf } from './directory'
import {
  arrive,
  beginMove,
  countRows,
  type Cursor,
  deleteChunk,
  endMove,
  insertRows,
  readPage,
  resumeAt,
} from './store'
import { SITE_TABLES } from './tables'

/** Statements one call runs at most: D1 allows 1,000 per Worker invocation (Workers Paid), the route needs a few. */
export const MOVE_STATEMENTS = 900
/** Fewest statements a call needs to finish a copy: the directory's three, and per table where it stands, one read and both counts. */
export const MOVE_MIN_STATEMENTS = 3 + 4 * SITE_TABLES.length
/** Rows read per page of a table (one read, then its rows in as few inserts as D1's limits allow). */
export const MOVE_PAGE_ROWS = 200
/** Rows deleted per statement on the old shard. */
export const MOVE_DELETE_ROWS = 1000
/**
 * Seconds a move waits for every isolate to see a change of the directory: a cached site lives
 * SITE_CACHE_TTL seconds, and KV, being eventually consistent, may take as long again to carry the
 * cache entry's deletion to every location.
 */
export const MOVE_WAIT_SECONDS = 2 * SITE_CACHE_TTL

/** How a call of moveSite runs. */
export interface MoveOptions {
  /** Milliseconds to wait for every isolate to see a directory change (default MOVE_WAIT_SECONDS; 0 in tests). */
  waitMs?: number
  /** Statements this call may run (default MOVE_STATEMENTS; at least MOVE_MIN_STATEMENTS). */
  statements?: number
  /** Empty the target of the site's rows first, then copy again (after counts differed). */
  restart?: boolean
}

/** Where a move stands after a call: `emptying` the target (restart), `copying`, `cleaning` the old shard, or `done`. */
export type MovePhase = 'emptying' | 'copying' | 'cleaning' | 'done'

/** What a call of moveSite did. */
export interface MoveReport {
  site: string
  to: string
  phase: MovePhase
  /** Rows copied by this call. */
  copied: number
  /** Rows deleted by this call (from the old shard, or from the target on restart). */
  deleted: number
  /** Once done: the site's rows per table on its new shard, as counted on both shards before the switch. */
  rows?: Record<string, number>
}

/** A statement budget for one call. */
type Budget = { left: number }

const sleep = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve())

/**
 * Moves the site's data to shard `to`, as far as one call's statements go (see the protocol above);
 * call it again until the report says `done`. 400 for an unknown shard or the site's own, 404 for an
 * unknown site, 409 while it moves elsewhere or when the copy's row counts differ.
 */
export async function moveSite(
  env: Bindings,
  siteId: string,
  to: string,
  options: MoveOptions = {},
): Promise<MoveReport> {
  const waitMs = options.waitMs ?? MOVE_WAIT_SECONDS * 1000
  const statements = options.statements ?? MOVE_STATEMENTS
  if (statements < MOVE_MIN_STATEMENTS) throw new Error(`a move call needs at least ${MOVE_MIN_STATEMENTS} statements`)
  const budget: Budget = { left: statements - 1 }
  if (!isShard(to)) throw new HTTPException(400, { message: `unknown shard "${to}"; shards: ${SHARDS.join(', ')}` })
  const row = await findSite(env.DB, siteId)
  if (!row) throw new HTTPException(404, { message: `unknown site "${siteId}"` })
  const report: MoveReport = { site: siteId, to, phase: 'copying', copied: 0, deleted: 0 }
  const forget = () => env.CACHE.delete(CACHE_KEYS.site(siteId))
  let begun = false
  if (row.moving_to === null) {
    if (row.shard === to) throw new HTTPException(400, { message: `site "${siteId}" is on ${to} already` })
    budget.left--
    if (!(await beginMove(env.DB, siteId, to)))
      throw new HTTPException(409, { message: `another move of site "${siteId}" began just now` })
    await forget()
    begun = true
  } else if (row.moving_to !== to) {
    throw new HTTPException(409, {
      message: `site "${siteId}" is moving to ${row.moving_to}: run that move again to finish it`,
    })
  }
  const target = shardOf(env, { shard: to })
  if (row.shard !== to) {
    const source = shardOf(env, row)
    if (options.restart) {
      report.phase = 'emptying'
      if (!(await empty(target, siteId, budget, report))) return report
      report.phase = 'copying'
    }
    // A restart of a move begun long ago need not wait again for the isolates.
    const rows = await copy(source, target, siteId, begun || !options.restart ? waitMs : 0, budget, report)
    if (!rows || budget.left < 1) return report
    budget.left--
    if (!(await arrive(env.DB, siteId, row.shard, to)))
      throw new HTTPException(409, { message: `the directory row of site "${siteId}" changed during the move` })
    report.rows = rows
    await forget()
    // Isolates that cached the old shard read from it until they see the new one: its rows stay till then.
    await sleep(waitMs)
  }
  report.phase = 'cleaning'
  for (const name of SHARDS.filter((s) => s !== to)) {
    if (!(await empty(env[name], siteId, budget, report))) return report
  }
  if (budget.left < 1 + SITE_TABLES.length) return report
  budget.left -= 1 + SITE_TABLES.length
  await endMove(env.DB, siteId, to)
  await forget()
  report.rows ??= await countRows(target, SITE_TABLES, siteId)
  report.phase = 'done'
  return report
}

/**
 * Copies the site's tables from `source` to `target`, resuming where an earlier call stopped; the
 * counts of every table once they match on both, null when the budget ran out first. Before the
 * first row, it waits `wait` ms for every isolate to see that the site is moving.
 */
async function copy(
  source: D1Database,
  target: D1Database,
  siteId: string,
  wait: number,
  budget: Budget,
  report: MoveReport,
): Promise<Record<string, number> | null> {
  if (budget.left < SITE_TABLES.length) return null
  budget.left -= SITE_TABLES.length
  const cursors = await resumeAt(target, SITE_TABLES, siteId)
  // A call that began the move, or resumes one whose first call died before it copied a row, waits.
  if (cursors.every((c) => c.after === null && c.skip === 0)) await sleep(wait)
  for (const [i, table] of SITE_TABLES.entries()) {
    let cursor: Cursor | null = cursors[i]!
    while (cursor) {
      // One statement reads; each row takes at most one insert, so a page never outruns the budget.
      if (budget.left < 2) return null
      const limit = Math.min(MOVE_PAGE_ROWS, budget.left - 1)
      const page = await readPage(source, table, siteId, cursor, limit)
      budget.left--
      if (page.rows.length > 0) {
        const inserts = insertRows(target, table, page.columns, page.rows)
        await target.batch(inserts)
        budget.left -= inserts.length
        report.copied += page.rows.length
      }
      cursor = page.rows.length === limit ? { after: page.last, skip: 0 } : null
    }
  }
  if (budget.left < 2 * SITE_TABLES.length) return null
  budget.left -= 2 * SITE_TABLES.length
  const [from, to] = await Promise.all([countRows(source, SITE_TABLES, siteId), countRows(target, SITE_TABLES, siteId)])
  const differ = SITE_TABLES.filter((t) => from[t.name] !== to[t.name])
  if (differ.length > 0) {
    // Something wrote the source during the copy: nothing is switched, the site stays where it is (its
    // writes still refused), and a restart copies it again.
    const counts = differ.map((t) => `${t.name} ${from[t.name]} here, ${to[t.name]} there`).join('; ')
    throw new HTTPException(409, { message: `row counts differ after the copy (${counts}): move again with restart` })
  }
  return to
}

/** Deletes the site's rows of every table on `db` as far as the budget goes; whether none is left. */
async function empty(db: D1Database, siteId: string, budget: Budget, report: MoveReport): Promise<boolean> {
  let pending = [...SITE_TABLES]
  while (pending.length > 0) {
    if (budget.left < pending.length) return false
    const results = await db.batch(pending.map((t) => deleteChunk(db, t, siteId, MOVE_DELETE_ROWS)))
    budget.left -= pending.length
    report.deleted += results.reduce((n, r) => n + r.meta.changes, 0)
    pending = pending.filter((_, i) => results[i]!.meta.changes === MOVE_DELETE_ROWS)
  }
  return true
}
