// The customer feature's SQL: facts for segments and value, segment sizes, export and erasure.
import { weighCounts } from '../../contract'
import { D1_MAX_PARAMS, marks } from '../d1'
import { TIER_SHARES } from './segments'

/** Raw facts about one customer (all their browsers) for segmentation, in one round trip. */
export async function customerFacts(
  db: D1Database,
  siteId: string,
  anonymousIds: string[],
  now: number,
  weeks: number,
) {
  const ids = anonymousIds.slice(0, D1_MAX_PARAMS - 3)
  const inIds = `anonymous_id IN (${marks(ids)})`
  // visitor_days counts by UTC day: ms since epoch / 86400000.
  const today = Math.floor(now / 86400000)
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
        `SELECT CAST((? - day) / 7 AS INTEGER) AS weeks_ago, TOTAL(events) AS n FROM visitor_days
         WHERE site_id = ? AND ${inIds} AND day > ? GROUP BY 1`,
      )
      .bind(today, siteId, ...ids, today - weeks * 7),
    db
      .prepare(
        `SELECT DISTINCT day FROM visitor_days WHERE site_id = ? AND ${inIds} AND day > ?
         ORDER BY day DESC LIMIT 400`,
      )
      .bind(siteId, ...ids, today - 400),
    db
      .prepare(
        `SELECT i.category, TOTAL(v.views) AS views, TOTAL(v.adds) AS adds, TOTAL(v.purchases) AS purchases FROM visitor_items v
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
  type Totals = {
    first_seen: number | null
    last_seen: number | null
    events: number
    orders: number
    revenue: number
    last_order_at: number | null
  }
  return {
    totals: (totals?.results?.[0] ?? null) as Totals | null,
    weekly: (weekly?.results ?? []) as Array<{ weeks_ago: number; n: number }>,
    days: ((days?.results ?? []) as Array<{ day: number }>).map((d) => d.day),
    categories: (
      (categories?.results ?? []) as Array<{ category: string; views: number; adds: number; purchases: number }>
    ).map((c) => ({ category: c.category, weight: weighCounts(c) })),
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
    .all<{
      customer: string
      first_day: number
      last_day: number
      x: number
      repeat_revenue: number
      revenue: number
    }>()
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
      .prepare(
        `WITH ${CUSTOMERS} ${cut('recency', 'last_order_at')} UNION ALL ${cut('frequency', 'orders')} UNION ALL ${cut('monetary', 'revenue')} ORDER BY metric, k`,
      )
      .bind(siteId),
    // A customer belongs to the tier in which their revenue starts: `before` is what those ranked above spent.
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

/** The browsers seen most recently (a bounded sample for previews). */
export const recentVisitors = (db: D1Database, siteId: string, limit: number) =>
  db
    .prepare('SELECT anonymous_id FROM visitors WHERE site_id = ? ORDER BY last_seen DESC LIMIT ?')
    .bind(siteId, limit)
    .all<{ anonymous_id: string }>()
    .then((r) => r.results.map((x) => x.anonymous_id))

/** Replaces one day's segment sizes of a site. */
export const saveSegmentSizes = (
  db: D1Database,
  siteId: string,
  day: string,
  sizes: Array<{ segment: string; shoppers: number }>,
  sampled: number,
) =>
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
    .prepare(
      'SELECT day, segment, shoppers, sampled FROM segment_sizes WHERE site_id = ? AND day >= ? ORDER BY day, shoppers DESC, segment',
    )
    .bind(siteId, since)
    .all<{ day: string; segment: string; shoppers: number; sampled: number }>()
    .then((r) => r.results)

/** One event in an export. */
export interface ExportedEvent {
  id: string
  type: string
  ts: number
  session_id: string
  path: string
  properties: Record<string, unknown>
}

/** Where one session in an export began: device, viewport, locale, UTM and landing page. */
export interface ExportedSession {
  session_id: string
  anonymous_id: string
  started_at: number
  context: Record<string, unknown> | null
}

/** Everything stored about these browsers (and their UID), for the shopper's export. */
export async function exportData(
  db: D1Database,
  siteId: string,
  anonymousIds: string[],
  uid: string | null,
  limit: number,
) {
  const ids = anonymousIds.slice(0, D1_MAX_PARAMS - 2)
  const inIds = `anonymous_id IN (${marks(ids)})`
  const [events, sessions, items, decisions, identities, claims] = await db.batch([
    db
      .prepare(
        `SELECT id, type, ts, session_id, path, properties FROM events WHERE site_id = ? AND ${inIds} ORDER BY ts LIMIT ?`,
      )
      .bind(siteId, ...ids, limit),
    db
      .prepare(
        `SELECT session_id, anonymous_id, started_at, context FROM sessions WHERE site_id = ? AND ${inIds} ORDER BY started_at`,
      )
      .bind(siteId, ...ids),
    db
      .prepare(
        `SELECT item_id, first_ts, last_ts, views, adds, purchases, rating, dismissed FROM visitor_items WHERE site_id = ? AND ${inIds}`,
      )
      .bind(siteId, ...ids),
    db
      .prepare(
        `SELECT id, placement, action_id, created_at, reward FROM decisions WHERE site_id = ? AND ${inIds} ORDER BY created_at`,
      )
      .bind(siteId, ...ids),
    db.prepare('SELECT kind, value, linked_at FROM identities WHERE site_id = ? AND uid = ?').bind(siteId, uid ?? ''),
    db
      .prepare(`SELECT anonymous_id, kind, value, claimed_at FROM claims WHERE site_id = ? AND ${inIds}`)
      .bind(siteId, ...ids),
  ])
  const rows = (r: D1Result | undefined) => (r?.results ?? []) as Array<Record<string, unknown>>
  return {
    events: rows(events).map((e) => ({ ...e, properties: JSON.parse(String(e.properties)) })) as ExportedEvent[],
    /** Where each session began: device, viewport, locale, UTM and landing page, once per session. */
    sessions: rows(sessions).map((s) => ({ ...s, context: JSON.parse(String(s.context)) })) as ExportedSession[],
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
export async function eraseShopper(
  db: D1Database,
  siteId: string,
  anonymousIds: string[],
  uid: string | null,
  now: number,
) {
  // The ids as one JSON parameter: no bound-parameter limit on how many browsers a customer has.
  const browsers = `SELECT value FROM identities WHERE site_id = ?1 AND uid = ?2 AND kind = 'anonymous' UNION SELECT value FROM json_each(?3)`
  const params = [siteId, uid ?? '', JSON.stringify(anonymousIds)] as const
  const tables = [
    'events',
    'sessions',
    'visitor_days',
    'visitors',
    'visitor_items',
    'decisions',
    'recommendations',
    'claims',
    'experiment_shoppers',
  ]
  // In order: everything that reads the identities runs before they are deleted.
  const [erased] = await db.batch<{ value: string }>([
    db.prepare(`${browsers} ORDER BY 1`).bind(...params),
    db
      .prepare(
        `INSERT INTO erased (site_id, anonymous_id, erased_at) SELECT ?1, value, ?4 FROM (${browsers}) WHERE true ON CONFLICT DO NOTHING`,
      )
      .bind(...params, now),
    ...tables.map((table) =>
      db.prepare(`DELETE FROM ${table} WHERE site_id = ?1 AND anonymous_id IN (${browsers})`).bind(...params),
    ),
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
