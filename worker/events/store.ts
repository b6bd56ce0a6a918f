// The events feature's SQL: storing a batch once, the browsers' summaries, reading events back.
import { chunkRows, inChunks, marks } from '../d1'
import { indexPending } from './fold'

/** One events row, in column order. */
export type EventRow = [
  site_id: string,
  id: string,
  type: string,
  anonymous_id: string,
  user_id: string | null,
  session_id: string,
  ts: number,
  client_ts: number,
  received_at: number,
  item_id: string | null,
  path: string,
  context: string,
  properties: string,
]
const EVENT_COLUMNS =
  'site_id, id, type, anonymous_id, user_id, session_id, ts, client_ts, received_at, item_id, path, context, properties'

/** Result of storing a batch: how many rows were new. */
export interface StoreResult {
  inserted: number
}

/**
 * Inserts events, skipping ids the site already has, refreshes the visitors they belong to and
 * folds the new events into the model tables, all in one transaction: either the whole batch is
 * stored and counted once, or none of it.
 */
export async function storeEvents(db: D1Database, siteId: string, rows: EventRow[]): Promise<StoreResult> {
  if (rows.length === 0) return { inserted: 0 }
  const statements = chunkRows(rows).map((group) =>
    db
      .prepare(
        `INSERT INTO events (${EVENT_COLUMNS}) VALUES ${group.map(() => `(${rowPlaceholders})`).join(', ')}
         ON CONFLICT (site_id, id) DO NOTHING RETURNING id`,
      )
      .bind(...group.flat()),
  )
  const inserts = statements.length
  const visitors = [...new Set(rows.map((row) => row[3]))]
  statements.push(...inChunks(visitors, (ids) => refreshVisitors(db, siteId, ids)), ...indexPending(db, siteId))
  const results = await db.batch<{ id: string }>(statements)
  const inserted = results.slice(0, inserts).reduce((n, r) => n + (r.results?.length ?? 0), 0)
  return { inserted }
}
const rowPlaceholders = EVENT_COLUMNS.split(',')
  .map(() => '?')
  .join(', ')

/** Recomputes browsers' summaries from their events (not by deltas, so retries leave them exact). */
export const refreshVisitors = (db: D1Database, siteId: string, anonymousIds: string[]) =>
  db
    .prepare(
      `INSERT INTO visitors (site_id, anonymous_id, first_seen, last_seen, events, sessions, page_views, orders, revenue, last_order_at)
       SELECT site_id, anonymous_id, MIN(ts), MAX(ts), COUNT(*), COUNT(DISTINCT session_id),
              SUM(type = 'Page Viewed'), SUM(type = 'Order Completed'),
              TOTAL(CASE WHEN type = 'Order Completed' THEN json_extract(properties, '$.revenue') END),
              MAX(CASE WHEN type = 'Order Completed' THEN ts END)
       FROM events WHERE site_id = ? AND anonymous_id IN (${anonymousIds.map(() => '?').join(', ')})
       GROUP BY anonymous_id
       ON CONFLICT (site_id, anonymous_id) DO UPDATE SET first_seen = excluded.first_seen,
         last_seen = excluded.last_seen, events = excluded.events, sessions = excluded.sessions,
         page_views = excluded.page_views, orders = excluded.orders, revenue = excluded.revenue,
         last_order_at = excluded.last_order_at`,
    )
    .bind(siteId, ...anonymousIds)

/** A stored event, as tests and reports read it back. */
export interface StoredEvent {
  id: string
  type: string
  anonymous_id: string
  user_id: string | null
  ts: number
  item_id: string | null
  properties: string
}

/** A site's events, oldest first. */
export const listEvents = (db: D1Database, siteId: string, limit = 1000) =>
  db
    .prepare(
      'SELECT id, type, anonymous_id, user_id, ts, item_id, properties FROM events WHERE site_id = ? ORDER BY ts, id LIMIT ?',
    )
    .bind(siteId, limit)
    .all<StoredEvent>()
    .then((r) => r.results)

/** A visitor's server-side summary, or null. */
export const findVisitor = (db: D1Database, siteId: string, anonymousId: string) =>
  db
    .prepare(
      'SELECT first_seen, last_seen, events, sessions, page_views, orders, revenue FROM visitors WHERE site_id = ? AND anonymous_id = ?',
    )
    .bind(siteId, anonymousId)
    .first<{
      first_seen: number
      last_seen: number
      events: number
      sessions: number
      page_views: number
      orders: number
      revenue: number
    }>()

/** Which of `anonymousIds` were erased (their events are dropped on arrival). */
export const erasedAmong = (db: D1Database, siteId: string, anonymousIds: string[]) =>
  db
    .batch(
      inChunks(anonymousIds, (ids) =>
        db
          .prepare(`SELECT anonymous_id FROM erased WHERE site_id = ? AND anonymous_id IN (${marks(ids)})`)
          .bind(siteId, ...ids),
      ),
    )
    .then(
      (results) =>
        new Set(results.flatMap((r) => (r.results as Array<{ anonymous_id: string }>).map((x) => x.anonymous_id))),
    )
