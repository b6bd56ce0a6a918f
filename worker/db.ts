// Every SQL statement the Worker runs lives here, as small typed functions.
import { chunkRows, D1_MAX_PARAMS } from './chunk'

/** A site row as stored. */
export interface SiteRow {
  id: string
  name: string
  key_hash: string
  origins: string
}

/** The site with this id, or null. */
export const findSite = (db: D1Database, id: string) =>
  db.prepare('SELECT id, name, key_hash, origins FROM sites WHERE id = ?').bind(id).first<SiteRow>()

/** Creates or replaces a site's name, key digest and origins. */
export const upsertSite = (
  db: D1Database,
  site: { id: string; name: string; keyHash: string; origins: string[] },
) =>
  db
    .prepare(
      `INSERT INTO sites (id, name, key_hash, origins, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, key_hash = excluded.key_hash, origins = excluded.origins`,
    )
    .bind(site.id, site.name, site.keyHash, JSON.stringify(site.origins), Date.now())
    .run()

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
 * Inserts events, skipping ids the site already has, and refreshes the visitors they belong to,
 * all in one transaction: either the whole batch is stored and counted, or none of it.
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
  for (let i = 0; i < visitors.length; i += D1_MAX_PARAMS - 1) {
    statements.push(refreshVisitors(db, siteId, visitors.slice(i, i + D1_MAX_PARAMS - 1)))
  }
  const results = await db.batch<{ id: string }>(statements)
  const inserted = results.slice(0, inserts).reduce((n, r) => n + (r.results?.length ?? 0), 0)
  return { inserted }
}
const rowPlaceholders = EVENT_COLUMNS.split(',').map(() => '?').join(', ')

// Recomputing from the events (rather than adding deltas) keeps the summary exact under retries.
const refreshVisitors = (db: D1Database, siteId: string, anonymousIds: string[]) =>
  db
    .prepare(
      `INSERT INTO visitors (site_id, anonymous_id, first_seen, last_seen, events, sessions, page_views, orders, revenue)
       SELECT site_id, anonymous_id, MIN(ts), MAX(ts), COUNT(*), COUNT(DISTINCT session_id),
              SUM(type = 'Page Viewed'), SUM(type = 'Order Completed'),
              TOTAL(CASE WHEN type = 'Order Completed' THEN json_extract(properties, '$.revenue') END)
       FROM events WHERE site_id = ? AND anonymous_id IN (${anonymousIds.map(() => '?').join(', ')})
       GROUP BY anonymous_id
       ON CONFLICT (site_id, anonymous_id) DO UPDATE SET first_seen = excluded.first_seen,
         last_seen = excluded.last_seen, events = excluded.events, sessions = excluded.sessions,
         page_views = excluded.page_views, orders = excluded.orders, revenue = excluded.revenue`,
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

/** A catalog item as stored. */
export interface ItemRow {
  id: string
  title: string
  category: string
  price: number
  image: string | null
  description: string | null
  in_stock: number
}

/** Inserts or updates catalog items, chunked to D1's parameter limit. */
export async function upsertItems(db: D1Database, siteId: string, items: ItemRow[]) {
  const now = Date.now()
  const rows = items.map(
    (i) => [siteId, i.id, i.title, i.category, i.price, i.image, i.description, i.in_stock, now] as const,
  )
  const statements = chunkRows(rows).map((group) =>
    db
      .prepare(
        `INSERT INTO items (site_id, id, title, category, price, image, description, in_stock, updated_at)
         VALUES ${group.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (site_id, id) DO UPDATE SET title = excluded.title, category = excluded.category,
           price = excluded.price, image = excluded.image, description = excluded.description,
           in_stock = excluded.in_stock, updated_at = excluded.updated_at`,
      )
      .bind(...group.flat()),
  )
  if (statements.length > 0) await db.batch(statements)
}

/** Event weights behind "popular now": a cart add says more than a view. */
export const POPULARITY_WEIGHTS = { 'Product Viewed': 1, 'Product Added': 3 } as const

/** In-stock items ranked by weighted views and cart adds since `since`, with their counts. */
export const popularItems = (db: D1Database, siteId: string, since: number, limit: number) =>
  db
    .prepare(
      `SELECT i.id, i.title, i.category, i.price, i.image,
              SUM(e.type = 'Product Viewed') AS views, SUM(e.type = 'Product Added') AS adds
       FROM events e JOIN items i ON i.site_id = e.site_id AND i.id = e.item_id
       WHERE e.site_id = ? AND e.item_id IS NOT NULL AND e.ts >= ? AND i.in_stock = 1
         AND e.type IN ('Product Viewed', 'Product Added')
       GROUP BY i.id
       ORDER BY SUM(e.type = 'Product Viewed') * ? + SUM(e.type = 'Product Added') * ? DESC, i.id
       LIMIT ?`,
    )
    .bind(siteId, since, POPULARITY_WEIGHTS['Product Viewed'], POPULARITY_WEIGHTS['Product Added'], limit)
    .all<Pick<ItemRow, 'id' | 'title' | 'category' | 'price' | 'image'> & { views: number; adds: number }>()
    .then((r) => r.results)
