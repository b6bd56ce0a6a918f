// The admin feature's SQL: sites and their keys, the catalog, and the reports' counts.
import { chunkRows, inChunks, marks } from '../d1'

/** A site row as stored. */
export interface SiteRow {
  id: string
  name: string
  key_hash: string
  admin_key_hash: string | null
  origins: string
  settings: string
  experiments: string
  identity_secret: string | null
  shard: string
  moving_to: string | null
  catalog_version: number
}

/** The site with this id, or null. */
export const findSite = (db: D1Database, id: string) =>
  db
    .prepare(
      `SELECT id, name, key_hash, admin_key_hash, origins, settings, experiments, identity_secret, shard, moving_to,
              catalog_version
       FROM sites WHERE id = ?`,
    )
    .bind(id)
    .first<SiteRow>()

/** Marks the site's catalog changed: the edge cache's shared parts of the old version are no longer read. */
export const bumpCatalogVersion = (db: D1Database, id: string) =>
  db.prepare('UPDATE sites SET catalog_version = catalog_version + 1 WHERE id = ?').bind(id).run()

/** Creates or replaces a site's name, key digest and origins; a new site lives on `shard` (default DB), which only a move changes. */
export const upsertSite = (
  db: D1Database,
  site: {
    id: string
    name: string
    keyHash: string
    adminKeyHash?: string
    origins: string[]
    settings?: object
    shard?: string
  },
) =>
  db
    .prepare(
      `INSERT INTO sites (id, name, key_hash, admin_key_hash, origins, settings, shard, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, key_hash = excluded.key_hash,
         admin_key_hash = COALESCE(excluded.admin_key_hash, admin_key_hash), origins = excluded.origins,
         settings = excluded.settings`,
    )
    .bind(
      site.id,
      site.name,
      site.keyHash,
      site.adminKeyHash ?? null,
      JSON.stringify(site.origins),
      JSON.stringify(site.settings ?? {}),
      site.shard ?? 'DB',
      Date.now(),
    )
    .run()

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

/** The ids among `ids` the site's catalog already has (to tell created from updated). */
export const existingItems = (db: D1Database, siteId: string, ids: string[]) =>
  db
    .batch(
      inChunks(ids, (chunk) =>
        db.prepare(`SELECT id FROM items WHERE site_id = ? AND id IN (${marks(chunk)})`).bind(siteId, ...chunk),
      ),
    )
    .then((results) => new Set(results.flatMap((r) => (r.results as Array<{ id: string }>).map((x) => x.id))))

/** Replaces a site's allowed origins and settings. */
export const updateSiteConfig = (db: D1Database, siteId: string, origins: string[], settings: object) =>
  db
    .prepare('UPDATE sites SET origins = ?, settings = ? WHERE id = ?')
    .bind(JSON.stringify(origins), JSON.stringify(settings), siteId)

/** Stores the digest of a new public or admin key. */
export const setKeyHash = (db: D1Database, siteId: string, which: 'public' | 'admin', hash: string) =>
  db
    .prepare(`UPDATE sites SET ${which === 'admin' ? 'admin_key_hash' : 'key_hash'} = ? WHERE id = ?`)
    .bind(hash, siteId)
    .run()

/** Stores a site's sealed identity secret (worker/identity/verification.ts), replacing the one before. */
export const setIdentitySecret = (db: D1Database, siteId: string, sealed: string) =>
  db.prepare('UPDATE sites SET identity_secret = ? WHERE id = ?').bind(sealed, siteId).run()

/** Deletes a catalog item; false if there was none. */
export const deleteItem = (db: D1Database, siteId: string, id: string) =>
  db
    .prepare('DELETE FROM items WHERE site_id = ? AND id = ?')
    .bind(siteId, id)
    .run()
    .then((r) => r.meta.changes > 0)

/** Sets items in or out of stock; answers how many existed. */
export const setStock = (
  db: D1Database,
  siteId: string,
  items: Array<{ id: string; in_stock: boolean }>,
  now: number,
) =>
  db
    .batch(
      items.map((i) =>
        db
          .prepare('UPDATE items SET in_stock = ?, updated_at = ? WHERE site_id = ? AND id = ?')
          .bind(i.in_stock ? 1 : 0, now, siteId, i.id),
      ),
    )
    .then((results) => results.reduce((n, r) => n + r.meta.changes, 0))

/** Every site's id (for scheduled work). */
export const siteIds = (db: D1Database) =>
  db
    .prepare('SELECT id FROM sites ORDER BY id')
    .all<{ id: string }>()
    .then((r) => r.results.map((x) => x.id))

const DAY_OF = (column: string) => `date(${column} / 1000, 'unixepoch')`
/** How long after an accepted offer an order is credited to it (last touch). */
export const ATTRIBUTION_WINDOW_MS = 7 * 86_400_000

/** Per day and action: impressions, acceptances, dismissals; orders and revenue credited by last touch. */
export const actionReport = (db: D1Database, siteId: string, from: number, to: number) =>
  db.batch([
    db
      .prepare(
        `SELECT ${DAY_OF('ts')} AS day, json_extract(properties, '$.action_id') AS key,
                SUM(type = 'Offer Shown') AS impressions, SUM(type = 'Offer Accepted') AS acceptances,
                SUM(type = 'Offer Dismissed') AS dismissals
         FROM events WHERE site_id = ?1 AND type IN ('Offer Shown', 'Offer Accepted', 'Offer Dismissed') AND ts BETWEEN ?2 AND ?3
         GROUP BY 1, 2`,
      )
      .bind(siteId, from, to),
    db
      .prepare(
        `SELECT day, key, COUNT(*) AS orders, TOTAL(revenue) AS revenue FROM (
           SELECT ${DAY_OF('o.ts')} AS day, json_extract(o.properties, '$.revenue') AS revenue,
                  (SELECT json_extract(a.properties, '$.action_id') FROM events a
                   WHERE a.site_id = o.site_id AND a.anonymous_id = o.anonymous_id AND a.type = 'Offer Accepted'
                     AND a.ts <= o.ts AND a.ts > o.ts - ?4 ORDER BY a.ts DESC LIMIT 1) AS key
           FROM events o WHERE o.site_id = ?1 AND o.type = 'Order Completed' AND o.ts BETWEEN ?2 AND ?3
         ) WHERE key IS NOT NULL GROUP BY 1, 2`,
      )
      .bind(siteId, from, to, ATTRIBUTION_WINDOW_MS),
  ])

/** Per day and strategy: impressions and clicks; orders and revenue of the lines that carry its ids. */
export const recommendationReport = (db: D1Database, siteId: string, from: number, to: number) =>
  db.batch([
    db
      .prepare(
        // Raw events in D1 for the hot window, the archive's daily rollup before it (worker/events/archive.ts).
        `SELECT day, key, SUM(impressions) AS impressions, SUM(clicks) AS clicks FROM (
           SELECT ${DAY_OF('e.ts')} AS day, r.strategy AS key, SUM(e.type = 'Recommendation Shown') AS impressions,
                  SUM(e.type = 'Recommendation Clicked') AS clicks
           FROM events e JOIN recommendations r ON r.site_id = e.site_id AND r.id = json_extract(e.properties, '$.recommendation_id')
           WHERE e.site_id = ?1 AND e.type IN ('Recommendation Shown', 'Recommendation Clicked') AND e.ts BETWEEN ?2 AND ?3
           GROUP BY 1, 2
           UNION ALL
           SELECT day, strategy, impressions, clicks FROM recommendation_days
           WHERE site_id = ?1 AND day BETWEEN ${DAY_OF('?2')} AND ${DAY_OF('?3')}
         ) GROUP BY 1, 2`,
      )
      .bind(siteId, from, to),
    db
      .prepare(
        `SELECT ${DAY_OF('o.ts')} AS day, r.strategy AS key, COUNT(DISTINCT o.id) AS orders,
                TOTAL(json_extract(p.value, '$.price') * COALESCE(json_extract(p.value, '$.quantity'), 1)) AS revenue
         FROM events o JOIN json_each(o.properties, '$.products') p
         JOIN recommendations r ON r.site_id = o.site_id AND r.id = json_extract(p.value, '$.recommendation_id')
         WHERE o.site_id = ?1 AND o.type = 'Order Completed' AND o.ts BETWEEN ?2 AND ?3
         GROUP BY 1, 2`,
      )
      .bind(siteId, from, to),
  ])

/** Shoppers who were decided for, split into treated and holdout, and how many of each then ordered. */
export const holdoutGroups = (db: D1Database, siteId: string, from: number, to: number) =>
  db
    .prepare(
      `WITH exposed AS (
         SELECT anonymous_id, MAX(holdout) AS holdout, MIN(created_at) AS first FROM decisions
         WHERE site_id = ?1 AND created_at BETWEEN ?2 AND ?3 AND (holdout = 1 OR action_id IS NOT NULL)
         GROUP BY anonymous_id
       )
       SELECT holdout, COUNT(*) AS shoppers,
              SUM(EXISTS (SELECT 1 FROM events o WHERE o.site_id = ?1 AND o.anonymous_id = e.anonymous_id
                          AND o.type = 'Order Completed' AND o.ts >= e.first)) AS converted
       FROM exposed e GROUP BY holdout`,
    )
    .bind(siteId, from, to)
    .all<{ holdout: number; shoppers: number; converted: number }>()
    .then((r) => r.results)
