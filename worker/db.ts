// Every SQL statement the Worker runs lives here, as small typed functions.
import { chunkRows, D1_MAX_PARAMS } from './chunk'
import type { IdentityKind, Identifier, LinkPlan, Linked } from './identity/link'
import { TIER_SHARES } from './customer/segments'

/** A site row as stored. */
export interface SiteRow {
  id: string
  name: string
  key_hash: string
  admin_key_hash: string | null
  origins: string
  settings: string
  identity_secret: string | null
}

/** The site with this id, or null. */
export const findSite = (db: D1Database, id: string) =>
  db.prepare('SELECT id, name, key_hash, admin_key_hash, origins, settings, identity_secret FROM sites WHERE id = ?').bind(id).first<SiteRow>()

/** Creates or replaces a site's name, key digest and origins. */
export const upsertSite = (
  db: D1Database,
  site: { id: string; name: string; keyHash: string; adminKeyHash?: string; origins: string[]; settings?: object },
) =>
  db
    .prepare(
      `INSERT INTO sites (id, name, key_hash, admin_key_hash, origins, settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
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
      Date.now(),
    )
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
const rowPlaceholders = EVENT_COLUMNS.split(',').map(() => '?').join(', ')

// Recomputing from the events (rather than adding deltas) keeps the summary exact under retries.
const refreshVisitors = (db: D1Database, siteId: string, anonymousIds: string[]) =>
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

/** Forward-decay epoch and time constant of item trend scores (half-life 7 days). */
export const TREND_EPOCH = Date.UTC(2020, 0, 1)
export const TREND_TAU = (7 * 24 * 3600_000) / Math.LN2
/** How many of a shopper's most recent items a new item is paired with. */
export const PAIR_WINDOW = 30

// Poisoning defences. A fresh anonymous id costs an attacker nothing; time on our clock and a real
// history do. So a browser in its first day with fewer than 10 items counts a tenth of one that came
// back later or browsed 10 items; a rating sent with no view, cart add or order of the item in an
// earlier request (a bot sends them at once) counts a tenth again; a shopper-item enters co-occurrence
// and support once, a rating counts once, a repeated view, add or order moves the trend at most daily,
// and a browser brings at most 1,000 new items a day into the shared model (people browse far fewer).
// What is held back is still stored and in the shopper's own items. Cheap: one visitors row per
// shopper and one visitor_items row per shopper-item are read per batch, on the server's clock.
/** What a shopper's events may move in the shared model, in units of a first visit (only ratios matter). */
export const TRUST = {
  /** Weight of a browser with a history: back `returnAfterMs` after its first event, or `historyItems` items. */
  established: 10,
  returnAfterMs: 86_400_000,
  historyItems: 10,
  /** Factor of a shopper-item first rated with no earlier view, cart add or order of it. */
  unviewedRating: 0.1,
  /** New items one browser may bring into the shared model per day (UTC, server clock). */
  dailyItems: 1000,
  /** How long before a repeated view, cart add or order of a shopper-item counts in the trend again. */
  repeatAfterMs: 86_400_000,
} as const

// The interactions of events not yet indexed (orders expanded to their products); then per shopper
// what they already had (touched), their trust and budget, and what each shopper-item counts for:
// `weight` (fixed when it enters co-occurrence and support) and `event_weight` (this batch's trend).
// Shared by the statements of indexPending, which run in order.
// INDEXED BY: events is WITHOUT ROWID and these reads need columns the partial index lacks, so
// SQLite would otherwise walk every event of the site (ingest slowing as the site grows).
const PENDING = `
  pending AS MATERIALIZED (
    SELECT anonymous_id AS visitor, item_id AS item, ts, received_at AS received, type,
           CASE WHEN type = 'Product Reviewed' THEN json_extract(properties, '$.rating') END AS rating,
           json_extract(properties, '$.category') AS category
    FROM events INDEXED BY events_pending WHERE site_id = ?1 AND indexed = 0 AND item_id IS NOT NULL
      AND type IN ('Product Viewed', 'Product Added', 'Product Reviewed', 'Recommendation Dismissed')
    UNION ALL
    SELECT e.anonymous_id, json_extract(p.value, '$.product_id'), e.ts, e.received_at, e.type, NULL,
           json_extract(p.value, '$.category')
    FROM events e INDEXED BY events_pending, json_each(e.properties, '$.products') p
    WHERE e.site_id = ?1 AND e.indexed = 0 AND e.type = 'Order Completed'
  ),
  touched AS (
    SELECT p.visitor, p.item, MIN(p.ts) AS first_ts, MIN(p.received) AS received,
           MAX(p.type = 'Product Reviewed') AS rated, MAX(p.type = 'Order Completed') AS bought,
           v.weight AS known, v.views AS old_views, v.adds AS old_adds, v.purchases AS old_purchases,
           v.rating AS old_rating, v.last_ts AS old_ts
    FROM pending p LEFT JOIN visitor_items v ON v.site_id = ?1 AND v.anonymous_id = p.visitor AND v.item_id = p.item
    WHERE p.type != 'Recommendation Dismissed' GROUP BY p.visitor, p.item
  ),
  arrivals AS (
    SELECT visitor, MIN(received) AS first, MAX(received) AS last, MAX(received) / 86400000 AS day,
           SUM(known IS NULL) AS fresh
    FROM touched GROUP BY visitor
  ),
  shoppers AS (
    SELECT a.visitor, CASE WHEN a.day = v.budget_day THEN v.budget_used ELSE 0 END AS used,
           CASE WHEN a.last - COALESCE(v.first_received, a.first) >= ${TRUST.returnAfterMs}
                  OR COALESCE(v.item_count, 0) + a.fresh >= ${TRUST.historyItems}
                THEN ${TRUST.established} ELSE 1 END AS trust
    FROM arrivals a LEFT JOIN visitors v ON v.site_id = ?1 AND v.anonymous_id = a.visitor
  ),
  weighed AS (
    SELECT t.*, s.trust
             * CASE WHEN t.rated AND COALESCE(t.old_views + t.old_adds + t.old_purchases, 0) = 0
                    THEN ${TRUST.unviewedRating} ELSE 1 END
             * (t.known IS NOT NULL OR s.used + ROW_NUMBER() OVER (
                  PARTITION BY t.visitor, t.known IS NULL ORDER BY t.first_ts, t.item) <= ${TRUST.dailyItems})
             AS event_weight
    FROM touched t JOIN shoppers s ON s.visitor = t.visitor
  ),
  weights AS MATERIALIZED (SELECT *, COALESCE(known, event_weight) AS weight FROM weighed),
  fresh AS (SELECT visitor, item, weight FROM weights WHERE known IS NULL AND weight > 0),
  fresh_buys AS (
    SELECT visitor, item, weight FROM weights WHERE bought AND COALESCE(old_purchases, 0) = 0 AND weight > 0
  )`

// The decisions that pending offer events name, with what each knew before (was_*) and after this
// batch. Only the browser a decision was made for, naming the action it chose, can answer it: an
// event from anyone else, or for a holdout (action_id null), matches no decision.
const OFFERS = `
  offers AS (
    SELECT d.id, d.action_id, d.segment_key,
           d.shown_at IS NOT NULL AS was_shown, d.accepted_at IS NOT NULL AS was_accepted,
           COALESCE(d.shown_at, MIN(CASE WHEN e.type = 'Offer Shown' THEN e.received_at END)) AS shown_at,
           COALESCE(d.accepted_at, MIN(CASE WHEN e.type = 'Offer Accepted' THEN e.received_at END)) AS accepted_at,
           d.shown_at IS NOT NULL OR MAX(e.type = 'Offer Shown') AS shown,
           d.accepted_at IS NOT NULL OR MAX(e.type = 'Offer Accepted') AS accepted
    FROM events e INDEXED BY events_pending
    JOIN decisions d ON d.site_id = ?1 AND d.id = json_extract(e.properties, '$.decision_id')
      AND d.anonymous_id = e.anonymous_id AND d.action_id = json_extract(e.properties, '$.action_id')
    WHERE e.site_id = ?1 AND e.indexed = 0 AND e.type IN ('Offer Shown', 'Offer Accepted')
    GROUP BY d.id
  )`

// Pairs each new shopper-item with the shopper's recent items (and with the other new ones), once,
// with the smaller of the two weights, so a pair never outweighs the support of either item.
const pairStatement = (kind: 'seen' | 'bought', newOnes: string, old: string) => `
  WITH ${PENDING},
  links AS (
    SELECT f.item AS fresh_item, v.item_id AS old_item, min(f.weight, v.weight) AS w FROM ${newOnes} f
    JOIN visitor_items v ON v.site_id = ?1 AND v.anonymous_id = f.visitor AND ${old} AND v.weight > 0
    WHERE v.item_id IN (SELECT item_id FROM visitor_items WHERE site_id = ?1 AND anonymous_id = f.visitor AND ${old}
                        ORDER BY last_ts DESC LIMIT ?2)
  ),
  pairs AS (
    SELECT fresh_item AS a, old_item AS b, w FROM links
    UNION ALL SELECT old_item, fresh_item, w FROM links
    UNION ALL SELECT f1.item, f2.item, min(f1.weight, f2.weight)
              FROM ${newOnes} f1 JOIN ${newOnes} f2 ON f1.visitor = f2.visitor AND f1.item != f2.item
  )
  INSERT INTO item_pairs (site_id, kind, a, b, weight)
  SELECT ?1, '${kind}', a, b, SUM(w) FROM pairs WHERE true GROUP BY a, b
  ON CONFLICT (site_id, kind, a, b) DO UPDATE SET weight = weight + excluded.weight`

/** The statements that fold pending events into the model (exported for the query-plan test). */
export const INDEX_SQL = {
  seenPairs: pairStatement('seen', 'fresh', 'v.dismissed = 0'),
  boughtPairs: pairStatement('bought', 'fresh_buys', 'v.purchases > 0'),
  // Trend: log of the sum of w * exp((ts - epoch) / tau), merged with the stored value by log-add-exp.
  // Per shopper-item, the first event of each kind counts: a rating only if there was none before,
  // a view, add or order only if it is the first of its kind or the item was last touched a while ago.
  itemStats: `
  WITH ${PENDING},
  counted AS (
    SELECT p.item, MIN(p.ts) AS ts,
           w.event_weight * CASE p.type WHEN 'Product Added' THEN 3 WHEN 'Order Completed' THEN 5 ELSE 1 END
             * CASE WHEN p.type = 'Product Reviewed' THEN w.old_rating IS NULL
                    ELSE w.known IS NULL OR w.old_ts <= MIN(p.ts) - ${TRUST.repeatAfterMs}
                      OR CASE p.type WHEN 'Product Viewed' THEN w.old_views WHEN 'Product Added' THEN w.old_adds
                                     ELSE w.old_purchases END = 0 END AS w
    FROM pending p JOIN weights w ON w.visitor = p.visitor AND w.item = p.item
    WHERE p.type != 'Recommendation Dismissed' GROUP BY p.visitor, p.item, p.type
  ),
  scored AS (SELECT item, (ts - ?3) / ?4 AS x, w FROM counted WHERE w > 0),
  peaks AS (SELECT item, MAX(x) AS m FROM scored GROUP BY item),
  trends AS (
    SELECT s.item, p.m + ln(SUM(s.w * exp(s.x - p.m))) AS trend FROM scored s JOIN peaks p ON p.item = s.item
    GROUP BY s.item
  ),
  support AS (SELECT item, TOTAL(weight) AS visitors FROM fresh GROUP BY item),
  buys AS (SELECT item, TOTAL(weight) AS buyers FROM fresh_buys GROUP BY item),
  counts AS (
    SELECT item, MAX(category) AS category, SUM(type = 'Product Viewed') AS views, SUM(type = 'Product Added') AS adds,
           SUM(type = 'Order Completed') AS purchases
    FROM pending WHERE type != 'Recommendation Dismissed' GROUP BY item
  )
  INSERT INTO item_stats (site_id, item_id, category, visitors, buyers, views, adds, purchases, trend)
  SELECT ?1, c.item, COALESCE(c.category, (SELECT category FROM items WHERE site_id = ?1 AND id = c.item)),
         COALESCE(s.visitors, 0), COALESCE(b.buyers, 0), c.views, c.adds, c.purchases, COALESCE(t.trend, -1e308)
  FROM counts c LEFT JOIN support s ON s.item = c.item LEFT JOIN buys b ON b.item = c.item
  LEFT JOIN trends t ON t.item = c.item WHERE true
  ON CONFLICT (site_id, item_id) DO UPDATE SET category = COALESCE(excluded.category, category),
    visitors = visitors + excluded.visitors, buyers = buyers + excluded.buyers, views = views + excluded.views,
    adds = adds + excluded.adds, purchases = purchases + excluded.purchases,
    trend = max(trend, excluded.trend) + ln(1 + exp(-abs(trend - excluded.trend)))`,
  // Runs after the statements above have read each shopper's trust and budget for this batch.
  budget: `
  WITH ${PENDING}
  UPDATE visitors SET first_received = COALESCE(first_received, a.first), item_count = item_count + a.fresh,
    budget_used = CASE WHEN budget_day = a.day THEN budget_used ELSE 0 END + a.fresh, budget_day = a.day
  FROM arrivals a WHERE visitors.site_id = ?1 AND visitors.anonymous_id = a.visitor`,
  // The latest rating of a batch: ts * 10 + rating keeps the rating of the newest review.
  visitorItems: `
  WITH ${PENDING}
  INSERT INTO visitor_items (site_id, anonymous_id, item_id, first_ts, last_ts, views, adds, purchases, rating, dismissed, weight)
  SELECT ?1, p.visitor, p.item, MIN(p.ts), MAX(p.ts), SUM(p.type = 'Product Viewed'), SUM(p.type = 'Product Added'),
         SUM(p.type = 'Order Completed'), MAX(CASE WHEN p.rating IS NOT NULL THEN p.ts * 10 + p.rating END) % 10,
         MAX(p.type = 'Recommendation Dismissed'), COALESCE(MAX(w.weight), 1)
  FROM pending p LEFT JOIN weights w ON w.visitor = p.visitor AND w.item = p.item WHERE true GROUP BY p.visitor, p.item
  ON CONFLICT (site_id, anonymous_id, item_id) DO UPDATE SET first_ts = min(first_ts, excluded.first_ts),
    last_ts = max(last_ts, excluded.last_ts), views = views + excluded.views, adds = adds + excluded.adds,
    purchases = purchases + excluded.purchases, rating = COALESCE(excluded.rating, rating),
    dismissed = max(dismissed, excluded.dismissed)`,
  // Each decision is one trial: a failure once shown, a success once shown and accepted (in any
  // order, in any batches). The delta is the new state less the stored one, read before `outcomes`
  // stores it, so a late acceptance turns its failure into a success and a repeat changes nothing.
  // max(0, ...): arms folded before 0012 may hold fewer failures than their shown decisions.
  arms: `
  WITH ${OFFERS},
  moved AS (
    SELECT action_id, segment_key,
           (shown AND accepted) - (was_shown AND was_accepted) AS successes,
           (shown AND NOT accepted) - (was_shown AND NOT was_accepted) AS failures
    FROM offers
  )
  INSERT INTO arms (site_id, action_id, segment_key, successes, failures)
  SELECT ?1, action_id, segment_key, SUM(successes), SUM(failures) FROM moved WHERE true
  GROUP BY action_id, segment_key HAVING SUM(successes) != 0 OR SUM(failures) != 0
  ON CONFLICT (site_id, action_id, segment_key) DO UPDATE SET successes = successes + excluded.successes,
    failures = max(0, failures + excluded.failures)`,
  // The IN list makes SQLite look the decisions up by id rather than walk all of the site's.
  outcomes: `
  WITH ${OFFERS}
  UPDATE decisions SET shown_at = o.shown_at, accepted_at = o.accepted_at, reward = o.shown AND o.accepted
  FROM offers o WHERE decisions.site_id = ?1 AND decisions.id IN (SELECT id FROM offers) AND decisions.id = o.id`,
  done: `UPDATE events INDEXED BY events_pending SET indexed = 1 WHERE site_id = ?1 AND indexed = 0`,
}

/**
 * Folds every not-yet-indexed event of the site into pairs, item stats, shopper items and the
 * arms of next best actions, then marks them indexed. Run in the transaction that inserted them,
 * so each event counts once.
 */
export const indexPending = (db: D1Database, siteId: string) => [
  db.prepare(INDEX_SQL.seenPairs).bind(siteId, PAIR_WINDOW),
  db.prepare(INDEX_SQL.boughtPairs).bind(siteId, PAIR_WINDOW),
  db.prepare(INDEX_SQL.itemStats).bind(siteId, PAIR_WINDOW, TREND_EPOCH, TREND_TAU),
  db.prepare(INDEX_SQL.budget).bind(siteId),
  db.prepare(INDEX_SQL.visitorItems).bind(siteId),
  db.prepare(INDEX_SQL.arms).bind(siteId),
  db.prepare(INDEX_SQL.outcomes).bind(siteId),
  db.prepare(INDEX_SQL.done).bind(siteId),
]

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

const marks = (ids: string[]) => ids.map(() => '?').join(', ')
// One statement per D1_MAX_PARAMS - 1 ids (the site id takes a parameter too).
const inChunks = (ids: string[], statement: (chunk: string[]) => D1PreparedStatement) => {
  const chunks: D1PreparedStatement[] = []
  for (let i = 0; i < ids.length; i += D1_MAX_PARAMS - 1) chunks.push(statement(ids.slice(i, i + D1_MAX_PARAMS - 1)))
  return chunks
}

/** The newest in-stock catalog items: what a shop with no activity yet can still show. */
export const newestItems = (db: D1Database, siteId: string, limit: number) =>
  db
    .prepare('SELECT id, category FROM items WHERE site_id = ? AND in_stock = 1 ORDER BY updated_at DESC, id LIMIT ?')
    .bind(siteId, limit)

/** Stored identifiers among `ids` with their UIDs, and the login (user id) each of those UIDs holds. */
export async function findIdentities(db: D1Database, siteId: string, ids: Identifier[]) {
  const pairs = ids.map((_, n) => `(?${2 * n + 2}, ?${2 * n + 3})`).join(', ')
  const { results } = await db
    .prepare(
      `WITH hit AS (SELECT kind, value, uid FROM identities WHERE site_id = ?1 AND (kind, value) IN (VALUES ${pairs}))
       SELECT kind, value, uid, 1 AS asked FROM hit
       UNION ALL
       SELECT kind, value, uid, 0 FROM identities WHERE site_id = ?1 AND kind = 'user' AND uid IN (SELECT uid FROM hit)`,
    )
    .bind(siteId, ...ids.flatMap((i) => [i.kind, i.value]))
    .all<Linked & { asked: number }>()
  const logins: Record<string, string> = {}
  for (const r of results) if (r.kind === 'user') logins[r.uid] = r.value
  const known = results.filter((r) => r.asked === 1).map(({ kind, value, uid }) => ({ kind, value, uid }))
  return { known, logins }
}

/** Carries out a link plan and its audit log in one transaction. */
export async function applyLink(db: D1Database, siteId: string, plan: LinkPlan, now: number): Promise<void> {
  const statements = plan.merges.flatMap((from) => [
    db
      .prepare(
        `INSERT INTO identity_log (site_id, at, action, kind, value, from_uid, to_uid, reason)
         SELECT site_id, ?, 'move', kind, value, uid, ?, ? FROM identities WHERE site_id = ? AND uid = ?`,
      )
      .bind(now, plan.uid, plan.reason, siteId, from),
    db.prepare('UPDATE identities SET uid = ?, linked_at = ? WHERE site_id = ? AND uid = ?').bind(plan.uid, now, siteId, from),
  ])
  for (const m of plan.moves) {
    statements.push(
      db
        .prepare(
          `INSERT INTO identity_log (site_id, at, action, kind, value, from_uid, to_uid, reason)
           VALUES (?, ?, 'move', ?, ?, ?, ?, ?)`,
        )
        .bind(siteId, now, m.kind, m.value, m.uid, plan.uid, `${plan.reason} (kept apart from the other login of ${m.uid})`),
      db.prepare('UPDATE identities SET uid = ?, linked_at = ? WHERE site_id = ? AND kind = ? AND value = ?').bind(plan.uid, now, siteId, m.kind, m.value),
    )
  }
  for (const i of plan.links) {
    statements.push(
      // A concurrent identify may have linked it first: then it keeps that link, and nothing is logged.
      db
        .prepare(
          'INSERT INTO identities (site_id, kind, value, uid, linked_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        )
        .bind(siteId, i.kind, i.value, plan.uid, now),
      db
        .prepare(
          `INSERT INTO identity_log (site_id, at, action, kind, value, from_uid, to_uid, reason)
           SELECT ?, ?, 'link', ?, ?, NULL, ?, ? WHERE changes() = 1`,
        )
        .bind(siteId, now, i.kind, i.value, plan.uid, plan.reason),
    )
  }
  if (statements.length > 0) await db.batch(statements)
}

/** The UID an identifier had before its last move, if it ever moved. */
export const previousUid = (db: D1Database, siteId: string, id: Identifier) =>
  db
    .prepare(
      `SELECT from_uid FROM identity_log WHERE site_id = ? AND kind = ? AND value = ? AND action = 'move' ORDER BY at DESC LIMIT 1`,
    )
    .bind(siteId, id.kind, id.value)
    .first<{ from_uid: string }>()
    .then((r) => r?.from_uid ?? null)

/** Points one identifier at another UID and logs why; false if the identifier is unknown. */
export async function moveIdentity(db: D1Database, siteId: string, id: Identifier, to: string, reason: string, now: number) {
  const [log, update] = await db.batch([
    db
      .prepare(
        `INSERT INTO identity_log (site_id, at, action, kind, value, from_uid, to_uid, reason)
         SELECT site_id, ?, 'unlink', kind, value, uid, ?, ? FROM identities WHERE site_id = ? AND kind = ? AND value = ?`,
      )
      .bind(now, to, reason, siteId, id.kind, id.value),
    db.prepare('UPDATE identities SET uid = ?, linked_at = ? WHERE site_id = ? AND kind = ? AND value = ?').bind(to, now, siteId, id.kind, id.value),
  ])
  return (update?.meta.changes ?? 0) > 0 && (log?.meta.changes ?? 0) > 0
}

/** Keeps ids a browser named without a signature as claims of that browser alone: they link nothing. */
export const saveClaims = (db: D1Database, siteId: string, anonymousId: string, ids: Identifier[], now: number) =>
  db.batch(
    ids.map((i) =>
      db
        .prepare(
          `INSERT INTO claims (site_id, anonymous_id, kind, value, claimed_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (site_id, anonymous_id, kind, value) DO UPDATE SET claimed_at = excluded.claimed_at`,
        )
        .bind(siteId, anonymousId, i.kind, i.value, now),
    ),
  )

/** The unverified claims of these browsers, oldest first (bounded). */
export const claimsOf = (db: D1Database, siteId: string, anonymousIds: string[]) => {
  const ids = anonymousIds.slice(0, D1_MAX_PARAMS - 1)
  return db
    .prepare(
      `SELECT anonymous_id, kind, value, claimed_at FROM claims WHERE site_id = ? AND anonymous_id IN (${marks(ids)})
       ORDER BY claimed_at, kind, value LIMIT 100`,
    )
    .bind(siteId, ...ids)
    .all<{ anonymous_id: string; kind: IdentityKind; value: string; claimed_at: number }>()
    .then((r) => r.results)
}

/** Every identifier of a UID. */
export const identitiesOf = (db: D1Database, siteId: string, uid: string) =>
  db
    .prepare('SELECT kind, value, linked_at FROM identities WHERE site_id = ? AND uid = ? ORDER BY kind, value')
    .bind(siteId, uid)
    .all<{ kind: IdentityKind; value: string; linked_at: number }>()
    .then((r) => r.results)

/** The audit log of a UID's identifiers, oldest first. */
export const identityLog = (db: D1Database, siteId: string, uid: string) =>
  db
    .prepare(
      `SELECT at, action, kind, value, from_uid, to_uid, reason FROM identity_log
       WHERE site_id = ? AND (from_uid = ? OR to_uid = ?) ORDER BY at, rowid`,
    )
    .bind(siteId, uid, uid)
    .all()
    .then((r) => r.results)

/** The anonymous ids behind a UID. */
export const anonymousIdsOf = (db: D1Database, siteId: string, uid: string) =>
  db
    .prepare(`SELECT value FROM identities WHERE site_id = ? AND uid = ? AND kind = 'anonymous' LIMIT 100`)
    .bind(siteId, uid)
    .all<{ value: string }>()
    .then((r) => r.results.map((x) => x.value))

/** The UID a browser belongs to, if it was ever identified. */
export const uidOf = (db: D1Database, siteId: string, anonymousId: string) =>
  db
    .prepare(`SELECT uid FROM identities WHERE site_id = ? AND kind = 'anonymous' AND value = ?`)
    .bind(siteId, anonymousId)
    .first<{ uid: string }>()
    .then((r) => r?.uid ?? null)

/** Raw facts about one customer (all their browsers) for segmentation, in one round trip. */
export async function customerFacts(db: D1Database, siteId: string, anonymousIds: string[], now: number, weeks: number) {
  const ids = anonymousIds.slice(0, D1_MAX_PARAMS - 3)
  const inIds = `anonymous_id IN (${marks(ids)})`
  const [totals, weekly, days, categories, orders] = await db.batch([
    db
      .prepare(
        `SELECT MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen, TOTAL(events) AS events,
                TOTAL(orders) AS orders, TOTAL(revenue) AS revenue, MAX(last_order_at) AS last_order_at
         FROM visitors WHERE site_id = ? AND ${inIds}`,
      )
      .bind(siteId, ...ids),
    db
      .prepare(
        `SELECT CAST((? - ts) / 604800000 AS INTEGER) AS weeks_ago, COUNT(*) AS n FROM events
         WHERE site_id = ? AND ${inIds} AND ts > ? GROUP BY 1`,
      )
      .bind(now, siteId, ...ids, now - weeks * 604800000),
    db
      .prepare(
        `SELECT DISTINCT ts / 86400000 AS day FROM events WHERE site_id = ? AND ${inIds} AND ts > ?
         ORDER BY day DESC LIMIT 400`,
      )
      .bind(siteId, ...ids, now - 400 * 86400000),
    db
      .prepare(
        `SELECT i.category, TOTAL(v.views + 3 * v.adds + 5 * v.purchases) AS weight FROM visitor_items v
         JOIN items i ON i.site_id = v.site_id AND i.id = v.item_id
         WHERE v.site_id = ? AND v.${inIds} GROUP BY i.category`,
      )
      .bind(siteId, ...ids),
    db
      .prepare(
        `SELECT ts / 86400000 AS day, TOTAL(json_extract(properties, '$.revenue')) AS amount FROM events
         WHERE site_id = ? AND ${inIds} AND type = 'Order Completed' GROUP BY 1 ORDER BY 1 LIMIT 1000`,
      )
      .bind(siteId, ...ids),
  ])
  type Totals = { first_seen: number | null; last_seen: number | null; events: number; orders: number; revenue: number; last_order_at: number | null }
  return {
    totals: (totals?.results?.[0] ?? null) as Totals | null,
    weekly: (weekly?.results ?? []) as Array<{ weeks_ago: number; n: number }>,
    days: ((days?.results ?? []) as Array<{ day: number }>).map((d) => d.day),
    categories: (categories?.results ?? []) as Array<{ category: string; weight: number }>,
    orderDays: (orders?.results ?? []) as Array<{ day: number; amount: number }>,
  }
}

/** Every customer's purchase history by day (same-day orders are one transaction), for the value model. */
export const orderHistories = (db: D1Database, siteId: string, limit: number) =>
  db
    .prepare(
      `WITH orders AS (
         SELECT COALESCE(i.uid, e.anonymous_id) AS customer, e.ts / 86400000 AS day,
                TOTAL(json_extract(e.properties, '$.revenue')) AS amount
         FROM events e LEFT JOIN identities i ON i.site_id = e.site_id AND i.kind = 'anonymous' AND i.value = e.anonymous_id
         WHERE e.site_id = ?1 AND e.type = 'Order Completed' GROUP BY 1, 2
       ),
       firsts AS (SELECT customer, MIN(day) AS first_day FROM orders GROUP BY customer)
       SELECT o.customer, f.first_day, MAX(o.day) AS last_day, COUNT(*) - 1 AS x,
              TOTAL(CASE WHEN o.day > f.first_day THEN o.amount END) AS repeat_revenue, TOTAL(o.amount) AS revenue
       FROM orders o JOIN firsts f ON f.customer = o.customer GROUP BY o.customer LIMIT ?2`,
    )
    .bind(siteId, limit)
    .all<{ customer: string; first_day: number; last_day: number; x: number; repeat_revenue: number; revenue: number }>()
    .then((r) => r.results)

// Customers are browsers grouped by UID (a browser never identified is a customer of its own).
const CUSTOMERS = `
  customers AS (
    SELECT COALESCE(i.uid, v.anonymous_id) AS customer, TOTAL(v.orders) AS orders, TOTAL(v.revenue) AS revenue,
           MAX(v.last_order_at) AS last_order_at
    FROM visitors v LEFT JOIN identities i ON i.site_id = v.site_id AND i.kind = 'anonymous' AND i.value = v.anonymous_id
    WHERE v.site_id = ?1 GROUP BY 1
  ),
  buyers AS (SELECT * FROM customers WHERE orders > 0 AND last_order_at IS NOT NULL)`

/** The site's quintile cuts (recency, frequency, monetary) and tier thresholds, computed in SQL. */
export async function populationStats(db: D1Database, siteId: string) {
  const cut = (metric: string, column: string) => `
    SELECT '${metric}' AS metric, v, k FROM (
      SELECT ${column} AS v, ROW_NUMBER() OVER (ORDER BY ${column}) AS rn, COUNT(*) OVER () AS n FROM buyers
    ), (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4)
    WHERE rn = CAST(ceil(k * n / 5.0) AS INTEGER)`
  const [cuts, tiers] = await db.batch([
    db
      .prepare(`WITH ${CUSTOMERS} ${cut('recency', 'last_order_at')} UNION ALL ${cut('frequency', 'orders')} UNION ALL ${cut('monetary', 'revenue')} ORDER BY metric, k`)
      .bind(siteId),
    db
      .prepare(
        `WITH ${CUSTOMERS},
         ranked AS (SELECT revenue, SUM(revenue) OVER (ORDER BY revenue DESC, customer ROWS UNBOUNDED PRECEDING) - revenue AS before,
                           SUM(revenue) OVER () AS total FROM buyers)
         SELECT MIN(CASE WHEN before < ?2 * total AND revenue > 0 THEN revenue END) AS a,
                MIN(CASE WHEN before >= ?2 * total AND before < ?3 * total AND revenue > 0 THEN revenue END) AS b,
                MIN(CASE WHEN before >= ?3 * total AND before < ?4 * total AND revenue > 0 THEN revenue END) AS c,
                (SELECT TOTAL(revenue) FROM customers) AS total
         FROM ranked`,
      )
      .bind(siteId, TIER_SHARES.A, TIER_SHARES.B, TIER_SHARES.C),
  ])
  const byMetric = (metric: string) =>
    ((cuts?.results ?? []) as Array<{ metric: string; v: number }>).filter((r) => r.metric === metric).map((r) => r.v)
  const t = (tiers?.results?.[0] ?? {}) as { a: number | null; b: number | null; c: number | null; total: number }
  return {
    recency: byMetric('recency'),
    frequency: byMetric('frequency'),
    monetary: byMetric('monetary'),
    tiers: { A: t.a ?? Infinity, B: t.b ?? Infinity, C: t.c ?? Infinity },
    totalRevenue: t.total ?? 0,
  }
}

/** Saves actions (already validated by actionSchema). */
export const upsertActions = (db: D1Database, siteId: string, actions: Array<{ id: string }>, now: number) =>
  db.batch(
    actions.map((a) =>
      db
        .prepare(
          `INSERT INTO actions (site_id, id, definition, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (site_id, id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
        )
        .bind(siteId, a.id, JSON.stringify(a), now),
    ),
  )

/** A site's actions as saved (JSON definitions). */
export const listActions = (db: D1Database, siteId: string) =>
  db.prepare('SELECT definition FROM actions WHERE site_id = ? ORDER BY id LIMIT 200').bind(siteId)

/** The arms of a segment for the site's actions. */
export const segmentArms = (db: D1Database, siteId: string, segmentKey: string) =>
  db.prepare('SELECT action_id, successes, failures FROM arms WHERE site_id = ? AND segment_key = ?').bind(siteId, segmentKey)

/** A customer's offer contacts since `since` on all their browsers, newest first (bounded): caps are per person. */
export const offerContacts = (db: D1Database, siteId: string, anonymousIds: string[], since: number) => {
  const ids = anonymousIds.slice(0, D1_MAX_PARAMS - 2)
  return db
    .prepare(
      `SELECT json_extract(properties, '$.action_id') AS action_id, ts, type FROM events
       WHERE site_id = ? AND anonymous_id IN (${marks(ids)}) AND ts > ? AND type IN ('Offer Shown', 'Offer Accepted', 'Offer Dismissed')
       ORDER BY ts DESC LIMIT 500`,
    )
    .bind(siteId, ...ids, since)
}

/** Logs a decision (context, action, probability, the marketer's trace) for attribution and offline evaluation. */
export const logDecision = (
  db: D1Database,
  siteId: string,
  d: { id: string; anonymousId: string; placement: string; actionId: string | null; segmentKey: string; probability: number; propensity: number; holdout: boolean; context: object; trace: object; at: number },
) =>
  db
    .prepare(
      `INSERT INTO decisions (site_id, id, anonymous_id, placement, action_id, segment_key, probability, propensity, holdout, context, trace, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(siteId, d.id, d.anonymousId, d.placement, d.actionId, d.segmentKey, d.probability, d.propensity, d.holdout ? 1 : 0, JSON.stringify(d.context), JSON.stringify(d.trace), d.at)
    .run()

/** Deletes one action; false if the site had none with that id. */
export const deleteAction = (db: D1Database, siteId: string, id: string) =>
  db
    .prepare('DELETE FROM actions WHERE site_id = ? AND id = ?')
    .bind(siteId, id)
    .run()
    .then((r) => r.meta.changes > 0)

/** The ids among `ids` the site's catalog already has (to tell created from updated). */
export const existingItems = (db: D1Database, siteId: string, ids: string[]) =>
  db
    .batch(inChunks(ids, (chunk) => db.prepare(`SELECT id FROM items WHERE site_id = ? AND id IN (${marks(chunk)})`).bind(siteId, ...chunk)))
    .then((results) => new Set(results.flatMap((r) => (r.results as Array<{ id: string }>).map((x) => x.id))))

/** Replaces a site's allowed origins and settings. */
export const updateSiteConfig = (db: D1Database, siteId: string, origins: string[], settings: object) =>
  db
    .prepare('UPDATE sites SET origins = ?, settings = ? WHERE id = ?')
    .bind(JSON.stringify(origins), JSON.stringify(settings), siteId)
    .run()

/** Stores the digest of a new public or admin key. */
export const setKeyHash = (db: D1Database, siteId: string, which: 'public' | 'admin', hash: string) =>
  db.prepare(`UPDATE sites SET ${which === 'admin' ? 'admin_key_hash' : 'key_hash'} = ? WHERE id = ?`).bind(hash, siteId).run()

/** Stores a site's sealed identity secret (worker/verification.ts), replacing the one before. */
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
export const setStock = (db: D1Database, siteId: string, items: Array<{ id: string; in_stock: boolean }>, now: number) =>
  db
    .batch(
      items.map((i) =>
        db.prepare('UPDATE items SET in_stock = ?, updated_at = ? WHERE site_id = ? AND id = ?').bind(i.in_stock ? 1 : 0, now, siteId, i.id),
      ),
    )
    .then((results) => results.reduce((n, r) => n + r.meta.changes, 0))

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
        `SELECT ${DAY_OF('e.ts')} AS day, r.strategy AS key, SUM(e.type = 'Recommendation Shown') AS impressions,
                SUM(e.type = 'Recommendation Clicked') AS clicks
         FROM events e JOIN recommendations r ON r.site_id = e.site_id AND r.id = json_extract(e.properties, '$.recommendation_id')
         WHERE e.site_id = ?1 AND e.type IN ('Recommendation Shown', 'Recommendation Clicked') AND e.ts BETWEEN ?2 AND ?3
         GROUP BY 1, 2`,
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

/** The browsers seen most recently (a bounded sample for previews). */
export const recentVisitors = (db: D1Database, siteId: string, limit: number) =>
  db
    .prepare('SELECT anonymous_id FROM visitors WHERE site_id = ? ORDER BY last_seen DESC LIMIT ?')
    .bind(siteId, limit)
    .all<{ anonymous_id: string }>()
    .then((r) => r.results.map((x) => x.anonymous_id))

/** Replaces one day's segment sizes of a site. */
export const saveSegmentSizes = (db: D1Database, siteId: string, day: string, sizes: Array<{ segment: string; shoppers: number }>, sampled: number) =>
  db.batch([
    db.prepare('DELETE FROM segment_sizes WHERE site_id = ? AND day = ?').bind(siteId, day),
    ...sizes.map((s) =>
      db
        .prepare('INSERT INTO segment_sizes (site_id, day, segment, shoppers, sampled) VALUES (?, ?, ?, ?, ?)')
        .bind(siteId, day, s.segment, s.shoppers, sampled),
    ),
  ])

/** A site's segment sizes since `since` (YYYY-MM-DD), by day. */
export const segmentSizes = (db: D1Database, siteId: string, since: string) =>
  db
    .prepare('SELECT day, segment, shoppers, sampled FROM segment_sizes WHERE site_id = ? AND day >= ? ORDER BY day, shoppers DESC, segment')
    .bind(siteId, since)
    .all<{ day: string; segment: string; shoppers: number; sampled: number }>()
    .then((r) => r.results)

/** Every site's id (for scheduled work). */
export const siteIds = (db: D1Database) =>
  db.prepare('SELECT id FROM sites ORDER BY id').all<{ id: string }>().then((r) => r.results.map((x) => x.id))

/** Which of `anonymousIds` were erased (their events are dropped on arrival). */
export const erasedAmong = (db: D1Database, siteId: string, anonymousIds: string[]) =>
  db
    .batch(inChunks(anonymousIds, (ids) => db.prepare(`SELECT anonymous_id FROM erased WHERE site_id = ? AND anonymous_id IN (${marks(ids)})`).bind(siteId, ...ids)))
    .then((results) => new Set(results.flatMap((r) => (r.results as Array<{ anonymous_id: string }>).map((x) => x.anonymous_id))))

/** Everything stored about these browsers (and their UID), for the shopper's export. */
export async function exportData(db: D1Database, siteId: string, anonymousIds: string[], uid: string | null, limit: number) {
  const ids = anonymousIds.slice(0, D1_MAX_PARAMS - 2)
  const inIds = `anonymous_id IN (${marks(ids)})`
  const [events, items, decisions, identities, claims] = await db.batch([
    db.prepare(`SELECT id, type, ts, context, properties FROM events WHERE site_id = ? AND ${inIds} ORDER BY ts LIMIT ?`).bind(siteId, ...ids, limit),
    db.prepare(`SELECT item_id, first_ts, last_ts, views, adds, purchases, rating, dismissed FROM visitor_items WHERE site_id = ? AND ${inIds}`).bind(siteId, ...ids),
    db.prepare(`SELECT id, placement, action_id, created_at, reward FROM decisions WHERE site_id = ? AND ${inIds} ORDER BY created_at`).bind(siteId, ...ids),
    db.prepare('SELECT kind, value, linked_at FROM identities WHERE site_id = ? AND uid = ?').bind(siteId, uid ?? ''),
    db.prepare(`SELECT anonymous_id, kind, value, claimed_at FROM claims WHERE site_id = ? AND ${inIds}`).bind(siteId, ...ids),
  ])
  const rows = (r: D1Result | undefined) => (r?.results ?? []) as Array<Record<string, unknown>>
  return {
    events: rows(events).map((e) => ({ ...e, context: JSON.parse(String(e.context)), properties: JSON.parse(String(e.properties)) })),
    items: rows(items),
    decisions: rows(decisions),
    identities: rows(identities) as Array<{ kind: string; value: string; linked_at: number }>,
    /** Ids this browser named that nobody vouched for: they joined nothing. */
    claims: rows(claims),
  }
}

/**
 * Deletes every row about these browsers and every browser of their UID (read in SQL, however many),
 * and tombstones the browsers so late retries are dropped; answers the browsers erased. Aggregates
 * that name no shopper (item pairs, item stats, arms) stay.
 */
export async function eraseShopper(db: D1Database, siteId: string, anonymousIds: string[], uid: string | null, now: number) {
  // The ids as one JSON parameter: no bound-parameter limit on how many browsers a customer has.
  const browsers = `SELECT value FROM identities WHERE site_id = ?1 AND uid = ?2 AND kind = 'anonymous' UNION SELECT value FROM json_each(?3)`
  const params = [siteId, uid ?? '', JSON.stringify(anonymousIds)] as const
  const tables = ['events', 'visitors', 'visitor_items', 'decisions', 'recommendations', 'claims']
  // In order: everything that reads the identities runs before they are deleted.
  const [erased] = await db.batch<{ value: string }>([
    db.prepare(`${browsers} ORDER BY 1`).bind(...params),
    db
      .prepare(`INSERT INTO erased (site_id, anonymous_id, erased_at) SELECT ?1, value, ?4 FROM (${browsers}) WHERE true ON CONFLICT DO NOTHING`)
      .bind(...params, now),
    ...tables.map((table) => db.prepare(`DELETE FROM ${table} WHERE site_id = ?1 AND anonymous_id IN (${browsers})`).bind(...params)),
    // By identifier too: links made under a UID that later merged into this one name neither side.
    db
      .prepare(
        `DELETE FROM identity_log WHERE site_id = ?1 AND (from_uid = ?2 OR to_uid = ?2
           OR (kind, value) IN (SELECT kind, value FROM identities WHERE site_id = ?1 AND uid = ?2))`,
      )
      .bind(siteId, uid ?? ''),
    db.prepare('DELETE FROM identities WHERE site_id = ? AND uid = ?').bind(siteId, uid ?? ''),
  ])
  return (erased?.results ?? []).map((r) => r.value)
}

// ---- Retention: rows older than a site keeps, deleted a bounded chunk at a time -------------------

// Each statement deletes at most ?3 rows, oldest first, through the time indexes.
const EXPIRE_SQL = {
  events: `DELETE FROM events WHERE site_id = ?1 AND id IN
             (SELECT id FROM events WHERE site_id = ?1 AND ts < ?2 ORDER BY ts LIMIT ?3) RETURNING anonymous_id`,
  decisions: `DELETE FROM decisions WHERE site_id = ?1 AND id IN
                (SELECT id FROM decisions WHERE site_id = ?1 AND created_at < ?2 LIMIT ?3)`,
  recommendations: `DELETE FROM recommendations WHERE site_id = ?1 AND id IN
                      (SELECT id FROM recommendations WHERE site_id = ?1 AND created_at < ?2 LIMIT ?3)`,
  visitorItems: `DELETE FROM visitor_items WHERE site_id = ?1 AND (anonymous_id, item_id) IN
                   (SELECT anonymous_id, item_id FROM visitor_items WHERE site_id = ?1 AND last_ts < ?2 LIMIT ?3)`,
  identityLog: `DELETE FROM identity_log WHERE rowid IN
                  (SELECT rowid FROM identity_log WHERE site_id = ?1 AND at < ?2 LIMIT ?3)`,
  claims: `DELETE FROM claims WHERE site_id = ?1 AND (anonymous_id, kind, value) IN
             (SELECT anonymous_id, kind, value FROM claims WHERE site_id = ?1 AND claimed_at < ?2 LIMIT ?3)`,
  erased: `DELETE FROM erased WHERE site_id = ?1 AND anonymous_id IN
             (SELECT anonymous_id FROM erased WHERE site_id = ?1 AND erased_at < ?2 LIMIT ?3)`,
  // Browsers whose last event is older than the cutoff, then the identifiers that led only to them.
  visitors: `DELETE FROM visitors WHERE site_id = ?1 AND anonymous_id IN
               (SELECT anonymous_id FROM visitors WHERE site_id = ?1 AND last_seen < ?2 LIMIT ?3)`,
  browserIds: `DELETE FROM identities WHERE site_id = ?1 AND kind = 'anonymous' AND value IN
                 (SELECT value FROM identities i WHERE site_id = ?1 AND kind = 'anonymous' AND linked_at < ?2
                    AND NOT EXISTS (SELECT 1 FROM visitors v WHERE v.site_id = ?1 AND v.anonymous_id = i.value) LIMIT ?3)`,
  otherIds: `DELETE FROM identities WHERE site_id = ?1 AND (kind, value) IN
               (SELECT kind, value FROM identities i WHERE site_id = ?1 AND kind != 'anonymous' AND linked_at < ?2
                  AND NOT EXISTS (SELECT 1 FROM identities a WHERE a.site_id = ?1 AND a.uid = i.uid AND a.kind = 'anonymous') LIMIT ?3)`,
} as const
/** What one chunk of retention deleted, per table. */
export type Expired = Record<keyof typeof EXPIRE_SQL, number>

/**
 * Deletes up to `limit` rows older than `cutoff` from each table of a site, and recomputes the
 * summaries of browsers that lost events (those left with none are deleted with their identifiers).
 */
export async function expireChunk(db: D1Database, siteId: string, cutoff: number, limit: number): Promise<Expired> {
  const first = ['events', 'decisions', 'recommendations', 'visitorItems', 'identityLog', 'erased', 'claims'] as const
  const results = await db.batch<{ anonymous_id: string }>(first.map((t) => db.prepare(EXPIRE_SQL[t]).bind(siteId, cutoff, limit)))
  const touched = [...new Set(results[0]!.results.map((r) => r.anonymous_id))]
  const last = ['visitors', 'browserIds', 'otherIds'] as const
  const after = await db.batch([
    ...inChunks(touched, (ids) => refreshVisitors(db, siteId, ids)),
    ...last.map((t) => db.prepare(EXPIRE_SQL[t]).bind(siteId, cutoff, limit)),
  ])
  const counted = (tables: readonly string[], rs: D1Result[]) => tables.map((t, i) => [t, rs[i]?.meta.changes ?? 0])
  return Object.fromEntries([...counted(first, results), ...counted(last, after.slice(-last.length))]) as Expired
}
