// The experiments feature's SQL: the config on the site row, exposures, the fold's per-shopper
// rollup, and the counts the report reads.
import type { Arm } from './assign'
import type { Experiment } from './config'

/**
 * Replaces the site's experiments if they are still `before` (read from D1 by the caller): false
 * when another call changed them meanwhile, so two marketers never undo each other's change.
 */
export const saveExperiments = (db: D1Database, siteId: string, before: string, after: Experiment[]) =>
  db
    .prepare('UPDATE sites SET experiments = ?3 WHERE id = ?1 AND experiments = ?2')
    .bind(siteId, before, JSON.stringify(after))
    .run()
    .then((r) => r.meta.changes > 0)

/**
 * Folds pending events into the rollup of the shoppers they come from, in the transaction that
 * stores them (before they are marked indexed). Only exposed shoppers, and only what happened
 * after their first exposure and before the experiment stopped: impressions (of answers with
 * items) and clicks naming a recommendation of the shopper's variant; every order (revenue, the
 * fair A/B metric, the holdout's too); attributed orders and revenue from the order lines that
 * carry a recommendation of the shopper's variant (price × quantity, as the daily report counts).
 * INDEXED BY and the IN list: without them SQLite walks the site's shoppers by the primary key's prefix.
 * Exported for the query-plan test.
 */
export const EXPERIMENT_FOLD_SQL = `
  WITH fresh AS MATERIALIZED (
    SELECT id, anonymous_id, ts, type, properties FROM events INDEXED BY events_pending
    WHERE site_id = ?1 AND indexed = 0
      AND type IN ('Recommendation Shown', 'Recommendation Clicked', 'Order Completed')
  ),
  exposed AS MATERIALIZED (
    SELECT xs.experiment_id, xs.anonymous_id, xs.variant, xs.first_at, COALESCE(s.stopped_at, 9e15) AS until
    FROM experiment_shoppers xs INDEXED BY experiment_shoppers_browser
    LEFT JOIN experiment_stops s ON s.site_id = ?1 AND s.experiment_id = xs.experiment_id
    WHERE xs.site_id = ?1 AND xs.anonymous_id IN (SELECT anonymous_id FROM fresh)
  ),
  touches AS (
    SELECT x.experiment_id, x.anonymous_id,
           f.type = 'Recommendation Shown' AND json_array_length(r.items) > 0 AS shown,
           f.type = 'Recommendation Clicked' AS clicked
    FROM fresh f JOIN exposed x ON x.anonymous_id = f.anonymous_id AND f.ts >= x.first_at AND f.ts < x.until
    JOIN recommendations r ON r.site_id = ?1 AND r.id = f.properties ->> '$.recommendation_id'
      AND r.experiment_id = x.experiment_id AND r.variant = x.variant
    WHERE f.type IN ('Recommendation Shown', 'Recommendation Clicked')
  ),
  orders AS (
    SELECT x.experiment_id, x.anonymous_id, f.id, MAX(f.properties ->> '$.revenue') AS revenue,
           COUNT(r.id) > 0 AS attributed,
           TOTAL(CASE WHEN r.id IS NOT NULL THEN (p.value ->> '$.price') * COALESCE(p.value ->> '$.quantity', 1) END)
             AS attributed_revenue
    FROM fresh f JOIN exposed x ON x.anonymous_id = f.anonymous_id AND f.ts >= x.first_at AND f.ts < x.until
    JOIN json_each(f.properties, '$.products') p
    LEFT JOIN recommendations r ON r.site_id = ?1 AND r.id = p.value ->> '$.recommendation_id'
      AND r.experiment_id = x.experiment_id AND r.variant = x.variant
    WHERE f.type = 'Order Completed'
    GROUP BY x.experiment_id, x.anonymous_id, f.id
  ),
  deltas AS (
    SELECT experiment_id, anonymous_id, SUM(shown) AS shown, SUM(clicked) AS clicked, SUM(ordered) AS ordered,
           TOTAL(spent) AS spent, SUM(credited) AS credited, TOTAL(credited_revenue) AS credited_revenue
    FROM (
      SELECT experiment_id, anonymous_id, shown, clicked, 0 AS ordered, 0 AS spent, 0 AS credited,
             0 AS credited_revenue FROM touches
      UNION ALL
      SELECT experiment_id, anonymous_id, 0, 0, 1, revenue, attributed, attributed_revenue FROM orders
    )
    GROUP BY experiment_id, anonymous_id
  )
  UPDATE experiment_shoppers SET impressions = impressions + d.shown, clicks = clicks + d.clicked,
    orders = orders + d.ordered, revenue = revenue + d.spent, attributed_orders = attributed_orders + d.credited,
    attributed_revenue = attributed_revenue + d.credited_revenue
  FROM deltas d
  WHERE experiment_shoppers.site_id = ?1
    AND (experiment_shoppers.experiment_id, experiment_shoppers.anonymous_id) IN (SELECT experiment_id, anonymous_id FROM deltas)
    AND experiment_shoppers.experiment_id = d.experiment_id
    AND experiment_shoppers.anonymous_id = d.anonymous_id`

/** The rollup statement of storeEvents' transaction (one per batch). */
export const foldExperiments = (db: D1Database, siteId: string) => db.prepare(EXPERIMENT_FOLD_SQL).bind(siteId)

/** One arm's sums over its shoppers: what the report's means and variances are computed from. */
export interface ArmCounts {
  variant: string
  shoppers: number
  impressions: number
  clicks: number
  orders: number
  converted: number
  revenue: number
  revenue_sq: number
  attributed_orders: number
  attributed_revenue: number
}

/** Per arm of an experiment: shoppers, counts, and SUM(revenue), SUM(revenue²) for the variance. */
export const experimentCounts = (db: D1Database, siteId: string, experimentId: string) =>
  db
    .prepare(
      `SELECT variant, COUNT(*) AS shoppers, TOTAL(impressions) AS impressions, TOTAL(clicks) AS clicks,
              TOTAL(orders) AS orders, TOTAL(orders > 0) AS converted, TOTAL(revenue) AS revenue,
              TOTAL(revenue * revenue) AS revenue_sq, TOTAL(attributed_orders) AS attributed_orders,
              TOTAL(attributed_revenue) AS attributed_revenue
       FROM experiment_shoppers WHERE site_id = ?1 AND experiment_id = ?2 GROUP BY variant`,
    )
    .bind(siteId, experimentId)
    .all<ArmCounts>()
    .then((r) => r.results)

/** Notes when an experiment stopped, so the fold counts nothing after it. */
export const markStopped = (db: D1Database, siteId: string, experimentId: string, at: number) =>
  db
    .prepare(
      `INSERT INTO experiment_stops (site_id, experiment_id, stopped_at) VALUES (?, ?, ?)
       ON CONFLICT (site_id, experiment_id) DO UPDATE SET stopped_at = excluded.stopped_at`,
    )
    .bind(siteId, experimentId, at)
    .run()

/** Deletes what an experiment measured (its config goes from the site row). */
export const deleteExperimentData = (db: D1Database, siteId: string, experimentId: string) =>
  db.batch([
    db.prepare('DELETE FROM experiment_shoppers WHERE site_id = ? AND experiment_id = ?').bind(siteId, experimentId),
    db.prepare('DELETE FROM experiment_stops WHERE site_id = ? AND experiment_id = ?').bind(siteId, experimentId),
  ])
