// The events feature's SQL: storing a batch once, the browsers' summaries, reading events back.
import { chunkRows, inChunks, marks } from '../d1'
import { indexPending } from './fold'
import { foldExperiments } from '../experiments/store'

/** One accepted event: the events row in column order, then its context (kept once per session). */
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
  properties: string,
  context: string,
]
const EVENT_COLUMNS = ['site_id', 'id', 'type', 'anonymous_id', 'user_id', 'session_id', 'ts', 'client_ts']
  .concat(['received_at', 'item_id', 'path', 'properties'])
  .map((name, i) => ({ name, value: `value ->> ${i}` }))

/** Result of storing a batch: how many events were new, and D1's count of rows written (indexes included: what D1 bills). */
export interface StoreResult {
  inserted: number
  rowsWritten: number
}

// Rows travel as one JSON parameter per statement (D1 allows 100 parameters, not 100 rows), cut
// to stay under its 100 KB statement limit.
const INSERT_EVENTS = `INSERT INTO events (${EVENT_COLUMNS.map((c) => c.name).join(', ')})
  SELECT ${EVENT_COLUMNS.map((c) => c.value).join(', ')} FROM json_each(?1) WHERE true
  ON CONFLICT (site_id, id) DO NOTHING RETURNING id`
// A session's context is its earliest event's, whichever flush brings that event.
const UPSERT_SESSIONS = `INSERT INTO sessions (site_id, session_id, anonymous_id, started_at, context)
  SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?2) WHERE true
  ON CONFLICT (site_id, anonymous_id, session_id) DO UPDATE SET started_at = excluded.started_at, context = excluded.context
  WHERE excluded.started_at < started_at`

/**
 * Inserts events, skipping ids the site already has, upserts their sessions, and folds the new
 * events into the browsers' summaries and the model tables, all in one transaction: either every
 * row is stored and counted once, or none.
 */
export async function storeEvents(db: D1Database, siteId: string, rows: EventRow[]): Promise<StoreResult> {
  if (rows.length === 0) return { inserted: 0, rowsWritten: 0 }
  const inserts = chunkRows(
    rows.map((row) => [JSON.stringify(row.slice(0, EVENT_COLUMNS.length))] as const),
    Number.POSITIVE_INFINITY,
  ).map((group) => db.prepare(INSERT_EVENTS).bind(`[${group.map(([json]) => json).join(',')}]`))
  const firsts = new Map<string, EventRow>()
  for (const row of rows) {
    const session = `${row[3]} ${row[5]}`
    const known = firsts.get(session)
    if (!known || row[6] < known[6]) firsts.set(session, row)
  }
  const sessions = chunkRows(
    [...firsts.values()].map((r) => [JSON.stringify([r[5], r[3], r[6], r[12]])] as const),
    Number.POSITIVE_INFINITY,
  ).map((group) => db.prepare(UPSERT_SESSIONS).bind(siteId, `[${group.map(([json]) => json).join(',')}]`))
  const results = await db.batch<{ id: string }>([
    ...inserts,
    ...sessions,
    // Before indexPending, whose last statement marks the pending events indexed.
    foldExperiments(db, siteId),
    ...indexPending(db, siteId),
  ])
  const inserted = results.slice(0, inserts.length).reduce((n, r) => n + (r.results?.length ?? 0), 0)
  return { inserted, rowsWritten: results.reduce((n, r) => n + (r.meta?.rows_written ?? 0), 0) }
}

/**
 * Recomputes browsers' summaries from what D1 keeps for the whole retention period (their days,
 * sessions and orders), after retention deleted what came before `cutoff`.
 */
export const refreshVisitors = (db: D1Database, siteId: string, cutoff: number, anonymousIds: string[]) =>
  db
    .prepare(
      `UPDATE visitors SET
         events = (SELECT TOTAL(events) FROM visitor_days d WHERE d.site_id = ?1 AND d.anonymous_id = visitors.anonymous_id),
         page_views = (SELECT TOTAL(page_views) FROM visitor_days d
                       WHERE d.site_id = ?1 AND d.anonymous_id = visitors.anonymous_id),
         sessions = (SELECT TOTAL(sessions) FROM visitor_days d WHERE d.site_id = ?1 AND d.anonymous_id = visitors.anonymous_id),
         -- The earliest of the sessions and days kept (sessions leave D1 with their raw events, days
         -- stay), never before the cutoff.
         first_seen = max(?2, COALESCE(
           (SELECT MIN(t) FROM (
              SELECT started_at AS t FROM sessions s WHERE s.site_id = ?1 AND s.anonymous_id = visitors.anonymous_id
              UNION ALL
              SELECT day * 86400000 FROM visitor_days d WHERE d.site_id = ?1 AND d.anonymous_id = visitors.anonymous_id)),
           first_seen)),
         (orders, revenue, last_order_at) = (
           SELECT COUNT(*), TOTAL(json_extract(properties, '$.revenue')), MAX(ts) FROM events e
           WHERE e.site_id = ?1 AND e.anonymous_id = visitors.anonymous_id AND e.type = 'Order Completed')
       WHERE site_id = ?1 AND anonymous_id IN (SELECT value FROM json_each(?3))`,
    )
    .bind(siteId, cutoff, JSON.stringify(anonymousIds))

/** An event as the archive holds it: the events row, its properties parsed, its session's context. */
export interface ArchivedEvent {
  id: string
  type: string
  anonymous_id: string
  user_id: string | null
  session_id: string
  ts: number
  client_ts: number
  received_at: number
  item_id: string | null
  path: string
  properties: Record<string, unknown>
  context: Record<string, unknown> | null
}

/** The oldest folded events before `before` that may leave D1 (`kept` must match the index events_archivable). */
export const archivedRows = (db: D1Database, siteId: string, before: number, kept: readonly string[], limit: number) =>
  db
    .prepare(
      `SELECT e.id, e.type, e.anonymous_id, e.user_id, e.session_id, e.ts, e.client_ts, e.received_at, e.item_id,
              e.path, e.properties, s.context
       FROM events e INDEXED BY events_archivable
       LEFT JOIN sessions s ON s.site_id = ?1 AND s.anonymous_id = e.anonymous_id AND s.session_id = e.session_id
       WHERE e.site_id = ?1 AND e.ts < ?2 AND e.type NOT IN (${kept.map((t) => `'${t}'`).join(', ')})
         AND e.indexed = 1
       ORDER BY e.ts, e.id LIMIT ?3`,
    )
    .bind(siteId, before, limit)
    .all<Omit<ArchivedEvent, 'properties' | 'context'> & { properties: string; context: string | null }>()
    .then((r) =>
      r.results.map((e) => ({
        ...e,
        properties: JSON.parse(e.properties) as Record<string, unknown>,
        context: e.context === null ? null : (JSON.parse(e.context) as Record<string, unknown>),
      })),
    )

/**
 * Once `rows` are safe in the R2 object named `ref`: rolls their recommendation impressions and
 * clicks up per day and strategy, lists `ref` on each shopper-day, deletes the rows, and deletes
 * the sessions that had no other event left in D1, in one transaction.
 */
export const deleteArchived = (db: D1Database, siteId: string, ref: string, rows: ArchivedEvent[]) => {
  const ids = JSON.stringify(rows.map((r) => r.id))
  const shopperDays = new Map(
    rows.map((r) => {
      const day = Math.floor(r.ts / 86_400_000)
      return [`${r.anonymous_id} ${day}`, [r.anonymous_id, day] as const]
    }),
  )
  const pairs = JSON.stringify([...shopperDays.values()])
  return db.batch([
    db
      .prepare(
        `INSERT INTO recommendation_days (site_id, day, strategy, impressions, clicks)
         SELECT ?1, date(e.ts / 1000, 'unixepoch'), r.strategy, SUM(e.type = 'Recommendation Shown'),
                SUM(e.type = 'Recommendation Clicked')
         FROM events e JOIN recommendations r ON r.site_id = e.site_id AND r.id = json_extract(e.properties, '$.recommendation_id')
         WHERE e.site_id = ?1 AND e.id IN (SELECT value FROM json_each(?2))
           AND e.type IN ('Recommendation Shown', 'Recommendation Clicked')
         GROUP BY 2, 3
         ON CONFLICT (site_id, day, strategy) DO UPDATE SET impressions = impressions + excluded.impressions,
           clicks = clicks + excluded.clicks`,
      )
      .bind(siteId, ids),
    db
      .prepare(
        `UPDATE visitor_days SET archived = json_insert(COALESCE(archived, '[]'), '$[#]', ?2)
         WHERE site_id = ?1 AND (anonymous_id, day) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?3))
           AND ?2 NOT IN (SELECT value FROM json_each(COALESCE(archived, '[]')))`,
      )
      .bind(siteId, ref, pairs),
    db.prepare('DELETE FROM events WHERE site_id = ?1 AND id IN (SELECT value FROM json_each(?2))').bind(siteId, ids),
    db
      .prepare(
        `DELETE FROM sessions WHERE site_id = ?1
           AND (anonymous_id, session_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?2))
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.site_id = ?1 AND e.anonymous_id = sessions.anonymous_id
                             AND e.session_id = sessions.session_id)`,
      )
      .bind(
        siteId,
        JSON.stringify([
          ...new Map(rows.map((r) => [`${r.anonymous_id} ${r.session_id}`, [r.anonymous_id, r.session_id]])).values(),
        ]),
      ),
  ])
}

/** The archive objects (their refs) that hold events of these browsers, as their days list them. */
export const archivedRefs = (db: D1Database, siteId: string, anonymousIds: string[]) =>
  db
    .prepare(
      `SELECT DISTINCT k.value AS ref FROM visitor_days d, json_each(d.archived) k
       WHERE d.site_id = ?1 AND d.anonymous_id IN (SELECT value FROM json_each(?2)) AND d.archived IS NOT NULL
       ORDER BY 1`,
    )
    .bind(siteId, JSON.stringify(anonymousIds))
    .all<{ ref: string }>()
    .then((r) => r.results.map((k) => k.ref))

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
