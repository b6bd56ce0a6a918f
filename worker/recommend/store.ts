// What a recommendation reads: the customer's history over all their browsers, trending items,
// neighbours, catalog rows; and the answer log that attribution reads.
import { inChunks, marks } from '../d1'
import type { HistoryItem } from './model'

// The browsers of the customer behind browser ?2: every browser joined to its UID (only verified
// links join, see identity/route.ts), or the browser alone; as many as anonymousIdsOf reads.
const BROWSERS = `
  browsers AS (
    SELECT ?2 AS id UNION
    SELECT * FROM (SELECT b.value FROM identities a
                   JOIN identities b ON b.site_id = a.site_id AND b.uid = a.uid AND b.kind = 'anonymous'
                   WHERE a.site_id = ?1 AND a.kind = 'anonymous' AND a.value = ?2 LIMIT 100)
  )`

/** What a recommendation reads of the customer (exported for the query-plan test). */
export const HISTORY_SQL = {
  // ts * 10 + rating keeps the newest rating of an item rated on two browsers.
  history: `
  WITH ${BROWSERS}
  SELECT item_id, MAX(last_ts) AS last_ts, SUM(views) AS views, SUM(adds) AS adds, SUM(purchases) AS purchases,
         MAX(CASE WHEN rating IS NOT NULL THEN last_ts * 10 + rating END) % 10 AS rating, MAX(dismissed) AS dismissed
  FROM visitor_items WHERE site_id = ?1 AND anonymous_id IN (SELECT id FROM browsers)
  GROUP BY item_id ORDER BY last_ts DESC, item_id LIMIT ?3`,
  dismissed: `
  WITH ${BROWSERS}
  SELECT DISTINCT item_id FROM visitor_items WHERE site_id = ?1 AND anonymous_id IN (SELECT id FROM browsers) AND dismissed = 1`,
}

/** A customer's most recent items over all their browsers, newest first. */
export const visitorHistory = (db: D1Database, siteId: string, visitor: string, limit: number) =>
  db.prepare(HISTORY_SQL.history).bind(siteId, visitor, limit)

/** One row of visitorHistory. */
export interface HistoryRow {
  item_id: string
  last_ts: number
  views: number
  adds: number
  purchases: number
  rating: number | null
  dismissed: number
}

/** visitorHistory's rows as the history recommenders read. */
export const historyItems = (rows: HistoryRow[]): HistoryItem[] =>
  rows.map((h) => ({
    item: h.item_id,
    lastTs: h.last_ts,
    views: h.views,
    adds: h.adds,
    purchases: h.purchases,
    rating: h.rating,
    dismissed: h.dismissed === 1,
  }))

/** Items the customer said "not interested" to, on any of their browsers. */
export const dismissedItems = (db: D1Database, siteId: string, visitor: string) =>
  db.prepare(HISTORY_SQL.dismissed).bind(siteId, visitor)

/** The hottest items (optionally of one category) with their log-space trend. */
export const trendingItems = (db: D1Database, siteId: string, limit: number, category?: string) =>
  category === undefined
    ? db
        .prepare('SELECT item_id, trend, category FROM item_stats WHERE site_id = ? ORDER BY trend DESC LIMIT ?')
        .bind(siteId, limit)
    : db
        .prepare(
          'SELECT item_id, trend, category FROM item_stats WHERE site_id = ? AND category = ? ORDER BY trend DESC LIMIT ?',
        )
        .bind(siteId, category, limit)

/** The strongest co-occurring items of one source, with each one's own count (one index range). */
export const neighbourList = (db: D1Database, siteId: string, kind: 'seen' | 'bought', item: string, limit: number) =>
  db
    .prepare(
      `SELECT p.b AS item_id, p.weight, COALESCE(${kind === 'seen' ? 's.visitors' : 's.buyers'}, 1) AS support
       FROM item_pairs p LEFT JOIN item_stats s ON s.site_id = p.site_id AND s.item_id = p.b
       WHERE p.site_id = ? AND p.kind = ? AND p.a = ? ORDER BY p.weight DESC, p.b LIMIT ?`,
    )
    .bind(siteId, kind, item, limit)

/** How many shoppers interacted with and bought each of `items`. */
export const itemSupport = (db: D1Database, siteId: string, items: string[]) =>
  inChunks(items, (ids) =>
    db
      .prepare(`SELECT item_id, visitors, buyers FROM item_stats WHERE site_id = ? AND item_id IN (${marks(ids)})`)
      .bind(siteId, ...ids),
  )

/** Catalog rows of `items` (unknown ids are simply absent). */
export const catalogItems = (db: D1Database, siteId: string, items: string[]) =>
  inChunks(items, (ids) =>
    db
      .prepare(
        `SELECT id, title, category, price, image, in_stock FROM items WHERE site_id = ? AND id IN (${marks(ids)})`,
      )
      .bind(siteId, ...ids),
  )

/** Logs an answer so later clicks and orders that carry its id can be attributed. */
export const logRecommendation = (
  db: D1Database,
  siteId: string,
  rec: { id: string; visitor: string | null; strategy: string; items: string[]; at: number },
) =>
  db
    .prepare(
      'INSERT INTO recommendations (site_id, id, anonymous_id, strategy, items, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    )
    .bind(siteId, rec.id, rec.visitor, rec.strategy, JSON.stringify(rec.items), rec.at)
    .run()

/** The newest in-stock catalog items: what a shop with no activity yet can still show. */
export const newestItems = (db: D1Database, siteId: string, limit: number) =>
  db
    .prepare('SELECT id, category FROM items WHERE site_id = ? AND in_stock = 1 ORDER BY updated_at DESC, id LIMIT ?')
    .bind(siteId, limit)
