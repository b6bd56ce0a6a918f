// What a recommendation reads: the customer's history over all their browsers, trending items,
// neighbours, catalog rows; and the answer log that attribution reads.
import { chunkRows, inChunks, marks } from '../d1'
import type { HistoryItem } from './model'

/** A database or a read-replica session of it (D1's Sessions API): what a read needs. */
export type Reader = Pick<D1Database, 'prepare'>

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
export const visitorHistory = (db: Reader, siteId: string, visitor: string, limit: number) =>
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
export const dismissedItems = (db: Reader, siteId: string, visitor: string) =>
  db.prepare(HISTORY_SQL.dismissed).bind(siteId, visitor)

/** Catalog rows of `items` (unknown ids are simply absent). */
export const catalogItems = (db: D1Database, siteId: string, items: string[]) =>
  inChunks(items, (ids) =>
    db
      .prepare(
        `SELECT id, title, category, price, image, in_stock FROM items WHERE site_id = ? AND id IN (${marks(ids)})`,
      )
      .bind(siteId, ...ids),
  )

/** One answer's log row: site, id, shopper, strategy, items (JSON), time, and its A/B test's id and variant if counted. */
export type AnswerRow = [string, string, string | null, string, string, number, string | null, string | null]

/**
 * Logs answers so later clicks and orders that carry their ids can be attributed, and the A/B
 * tests' exposed shoppers (first exposure kept): many answers a statement, none of an erased browser.
 */
export const logAnswers = (db: D1Database, rows: AnswerRow[]) =>
  chunkRows(rows, Number.POSITIVE_INFINITY).flatMap((chunk) => {
    const json = JSON.stringify(chunk)
    const kept = `FROM json_each(?) AS r WHERE (r.value ->> 2 IS NULL OR NOT EXISTS
      (SELECT 1 FROM erased e WHERE e.site_id = r.value ->> 0 AND e.anonymous_id = r.value ->> 2))`
    return [
      db
        .prepare(
          `INSERT INTO recommendations (site_id, id, anonymous_id, strategy, items, created_at, experiment_id, variant)
           SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5,
             r.value ->> 6, r.value ->> 7 ${kept} ON CONFLICT DO NOTHING`,
        )
        .bind(json),
      db
        .prepare(
          `INSERT INTO experiment_shoppers (site_id, experiment_id, anonymous_id, variant, first_at)
           SELECT r.value ->> 0, r.value ->> 6, r.value ->> 2, r.value ->> 7, MIN(r.value ->> 5) ${kept}
             AND r.value ->> 6 IS NOT NULL AND r.value ->> 2 IS NOT NULL
           GROUP BY r.value ->> 6, r.value ->> 2 ON CONFLICT DO NOTHING`,
        )
        .bind(json),
    ]
  })

// The shared parts of an answer, each read whole so the edge cache can keep it (shared.ts): the
// catalog row comes along (NULL columns when an item is not in the catalog).
const ROW = 'i.id AS row_id, i.title, i.category AS row_category, i.price, i.image, i.in_stock'

/** The kinds of item pairs: co-interacted ('seen'), co-bought, and opened next (directed, a then b). */
export type PairKind = 'seen' | 'bought' | 'next'

/** What the shared parts read (exported for the query-plan test). */
export const SHARED_SQL = {
  trending: `
  SELECT s.item_id, s.trend, s.category, ${ROW}
  FROM item_stats s LEFT JOIN items i ON i.site_id = s.site_id AND i.id = s.item_id
  WHERE s.site_id = ?1 ORDER BY s.trend DESC LIMIT ?2`,
  categoryTrending: `
  SELECT s.item_id, s.trend, s.category, ${ROW}
  FROM item_stats s LEFT JOIN items i ON i.site_id = s.site_id AND i.id = s.item_id
  WHERE s.site_id = ?1 AND s.category = ?3 ORDER BY s.trend DESC LIMIT ?2`,
  newest: `
  SELECT i.id AS item_id, ${ROW} FROM items i
  WHERE i.site_id = ?1 AND i.in_stock = 1 ORDER BY i.updated_at DESC, i.id LIMIT ?2`,
  item: `
  SELECT ?2 AS item_id, (SELECT visitors FROM item_stats WHERE site_id = ?1 AND item_id = ?2) AS visitors, ${ROW}
  FROM (SELECT 1) LEFT JOIN items i ON i.site_id = ?1 AND i.id = ?2`,
  neighbours: (kind: PairKind) => `
  SELECT p.b AS item_id, p.weight, COALESCE(${kind === 'bought' ? 's.buyers' : 's.visitors'}, 1) AS support, ${ROW}
  FROM item_pairs p LEFT JOIN item_stats s ON s.site_id = p.site_id AND s.item_id = p.b
  LEFT JOIN items i ON i.site_id = p.site_id AND i.id = p.b
  WHERE p.site_id = ?1 AND p.kind = ?2 AND p.a = ?3 ORDER BY p.weight DESC, p.b LIMIT ?4`,
}

/** A shared part's catalog columns: null for an item not in the catalog. */
export interface RowColumns {
  row_id: string | null
  title: string
  row_category: string
  price: number
  image: string | null
  in_stock: number
}

/** The hottest items (optionally of one category), their log-space trend and catalog row. */
export const trendingWithRows = (db: D1Database, siteId: string, limit: number, category?: string) =>
  category === undefined
    ? db.prepare(SHARED_SQL.trending).bind(siteId, limit)
    : db.prepare(SHARED_SQL.categoryTrending).bind(siteId, limit, category)

/** The newest in-stock catalog items: what a shop with no activity yet can still show. */
export const newestWithRows = (db: D1Database, siteId: string, limit: number) =>
  db.prepare(SHARED_SQL.newest).bind(siteId, limit)

/** One item's catalog row and how many shoppers interacted with it. */
export const itemWithSupport = (db: D1Database, siteId: string, item: string) =>
  db.prepare(SHARED_SQL.item).bind(siteId, item)

/** The strongest paired items of one source, each with its own count and catalog row (one index range). */
export const neighboursWithRows = (db: D1Database, siteId: string, kind: PairKind, item: string, limit: number) =>
  db.prepare(SHARED_SQL.neighbours(kind)).bind(siteId, kind, item, limit)
