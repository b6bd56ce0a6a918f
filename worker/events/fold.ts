// Folding stored events into the shared model (pairs, item stats, shopper items, arms), in SQL,
// in the transaction that stored them.
import { EVENT_WEIGHTS, NEXT, NO_TREND, PAIR_WINDOW, TREND_EPOCH, TREND_TAU, TRUST } from '../recommend/model'

// The interactions of events not yet indexed (orders expanded to their products); then per shopper
// what they already had (touched), their trust and budget, and what each shopper-item counts for:
// `weight` (fixed when it enters co-occurrence and support) and `event_weight` (this batch's trend).
// Shared by the statements of indexPending, which run in order. Its tunables are bound (foldParams).
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
           CASE WHEN a.last - COALESCE(v.first_received, a.first) >= ?5 OR COALESCE(v.item_count, 0) + a.fresh >= ?6
                THEN ?7 ELSE 1 END AS trust
    FROM arrivals a LEFT JOIN visitors v ON v.site_id = ?1 AND v.anonymous_id = a.visitor
  ),
  weighed AS (
    SELECT t.*, s.trust
             * CASE WHEN t.rated AND COALESCE(t.old_views + t.old_adds + t.old_purchases, 0) = 0
                    THEN ?8 ELSE 1 END
             * (t.known IS NOT NULL OR s.used + ROW_NUMBER() OVER (
                  PARTITION BY t.visitor, t.known IS NULL ORDER BY t.first_ts, t.item) <= ?9)
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

// Pairs each new shopper-item with the shopper's recent items (those of the ?2 latest that qualify:
// not dismissed, or bought), and with the other new ones, once, with the smaller of the two
// weights, so a pair never outweighs the support of either item. Each shopper's items are ranked
// once per statement (ties by item id), not once per new item.
const pairStatement = (kind: 'seen' | 'bought', newOnes: string, old: string) => `
  WITH ${PENDING},
  ranked AS MATERIALIZED (
    SELECT v.anonymous_id AS visitor, v.item_id, v.weight, ${old} AS qualifies,
           ROW_NUMBER() OVER (PARTITION BY v.anonymous_id ORDER BY v.last_ts DESC, v.item_id) AS r
    FROM visitor_items v WHERE v.site_id = ?1 AND v.anonymous_id IN (SELECT visitor FROM ${newOnes})
  ),
  links AS (
    SELECT f.item AS fresh_item, o.item_id AS old_item, min(f.weight, o.weight) AS w FROM ${newOnes} f
    JOIN ranked o ON o.visitor = f.visitor AND o.r <= ?2 AND o.qualifies AND o.weight > 0
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

// "Opened next": each new shopper-item links from the shopper's latest other item before its first event, stored
// or in this batch (same-millisecond events have no known order, so they never link), once, with the smaller of
// the two weights, scaled by how soon it came (?15 / (?15 + gap)) and only within ?16 of it. The weight counts
// squared (over an established browser's, ?7): an item's list of what comes next is sparse and "for you" weighs
// it strongly, so a fresh browser's link counts a hundredth of a regular's, not a tenth, or a few hundred fake
// profiles could put an item at the head of another's list.
const NEXT_PAIRS = `
  WITH ${PENDING},
  arrived AS (
    SELECT f.visitor, f.item, f.weight, t.first_ts FROM fresh f JOIN touched t ON t.visitor = f.visitor AND t.item = f.item
  ),
  earlier AS (
    SELECT a.visitor, a.item, a.weight, a.first_ts, v.item_id AS prev, v.last_ts AS prev_ts, v.weight AS prev_weight
    FROM arrived a JOIN visitor_items v ON v.site_id = ?1 AND v.anonymous_id = a.visitor AND v.item_id != a.item
      AND v.last_ts < a.first_ts AND v.last_ts >= a.first_ts - ?16 AND v.dismissed = 0
    UNION ALL
    SELECT a.visitor, a.item, a.weight, a.first_ts, p.item, p.ts, w.weight
    FROM arrived a JOIN pending p ON p.visitor = a.visitor AND p.item != a.item AND p.ts < a.first_ts
      AND p.ts >= a.first_ts - ?16 AND p.type != 'Recommendation Dismissed'
    JOIN weights w ON w.visitor = p.visitor AND w.item = p.item
  ),
  latest AS (
    SELECT *, min(weight, prev_weight) AS w,
           ROW_NUMBER() OVER (PARTITION BY visitor, item ORDER BY prev_ts DESC, prev) AS r
    FROM earlier
  )
  INSERT INTO item_pairs (site_id, kind, a, b, weight)
  SELECT ?1, 'next', prev, item, SUM(w * w / ?7 * ?15 / (?15 + first_ts - prev_ts)) FROM latest
  WHERE r = 1 AND prev_weight > 0 GROUP BY prev, item
  ON CONFLICT (site_id, kind, a, b) DO UPDATE SET weight = weight + excluded.weight`

// What pending events add to each browser's summary and to its days: deltas, exact because they
// run in the transaction that inserted the events, over the rows that insert made new.
const FRESH_EVENTS = `
  fresh_events AS (
    SELECT anonymous_id AS visitor, session_id AS session, ts, type, properties FROM events INDEXED BY events_pending
    WHERE site_id = ?1 AND indexed = 0
  )`

// The sessions of pending events not yet counted on the day they began: new ones, and ones an
// earlier event moved to another day (counted there once, now to be moved). Read by visitorDays,
// marked counted by countedSessions.
const UNCOUNTED_SESSIONS = `site_id = ?1 AND (anonymous_id, session_id) IN (SELECT DISTINCT visitor, session FROM fresh_events)
    AND (counted_day IS NULL OR counted_day != started_at / 86400000)`
const UNCOUNTED = `
  uncounted AS (
    SELECT anonymous_id AS visitor, started_at / 86400000 AS day, counted_day AS was FROM sessions
    WHERE ${UNCOUNTED_SESSIONS}
  )`

/** The statements that fold pending events into the model (exported for the query-plan test). */
export const INDEX_SQL = {
  // Sessions were upserted first; each counts once, on the day it began (countedSessions then marks
  // it). A moved session's old day has its row: the session's first event made it.
  visitorDays: `
  WITH ${FRESH_EVENTS}, ${UNCOUNTED},
  changes AS (
    SELECT visitor, ts / 86400000 AS day, 1 AS events, type = 'Page Viewed' AS page_views, 0 AS sessions
    FROM fresh_events
    UNION ALL SELECT visitor, day, 0, 0, 1 FROM uncounted
    UNION ALL SELECT visitor, was, 0, 0, -1 FROM uncounted WHERE was IS NOT NULL
  )
  INSERT INTO visitor_days (site_id, anonymous_id, day, events, page_views, sessions)
  SELECT ?1, visitor, day, SUM(events), SUM(page_views), SUM(sessions) FROM changes WHERE true
  GROUP BY visitor, day
  ON CONFLICT (site_id, anonymous_id, day) DO UPDATE SET events = events + excluded.events,
    page_views = page_views + excluded.page_views, sessions = max(0, sessions + excluded.sessions)`,
  countedSessions: `
  WITH ${FRESH_EVENTS}
  UPDATE sessions SET counted_day = started_at / 86400000 WHERE ${UNCOUNTED_SESSIONS}`,
  // After visitorDays, before the statements below: `budget` updates the rows this creates.
  visitors: `
  WITH ${FRESH_EVENTS},
  summed AS (
    SELECT visitor, MIN(ts) AS first, MAX(ts) AS last, COUNT(*) AS events, SUM(type = 'Page Viewed') AS page_views,
           SUM(type = 'Order Completed') AS orders,
           TOTAL(CASE WHEN type = 'Order Completed' THEN json_extract(properties, '$.revenue') END) AS revenue,
           MAX(CASE WHEN type = 'Order Completed' THEN ts END) AS last_order_at
    FROM fresh_events GROUP BY visitor
  )
  INSERT INTO visitors (site_id, anonymous_id, first_seen, last_seen, events, sessions, page_views, orders, revenue, last_order_at)
  SELECT ?1, s.visitor, s.first, s.last, s.events,
         (SELECT SUM(d.sessions) FROM visitor_days d WHERE d.site_id = ?1 AND d.anonymous_id = s.visitor),
         s.page_views, s.orders, s.revenue, s.last_order_at
  FROM summed s WHERE true
  ON CONFLICT (site_id, anonymous_id) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen),
    last_seen = max(last_seen, excluded.last_seen), events = events + excluded.events, sessions = excluded.sessions,
    page_views = page_views + excluded.page_views, orders = orders + excluded.orders,
    revenue = revenue + excluded.revenue, last_order_at = COALESCE(max(last_order_at, excluded.last_order_at),
    last_order_at, excluded.last_order_at)`,
  seenPairs: pairStatement('seen', 'fresh', 'v.dismissed = 0'),
  boughtPairs: pairStatement('bought', 'fresh_buys', 'v.purchases > 0'),
  // Before visitorItems: it reads each shopper's items as they were before this batch.
  nextPairs: NEXT_PAIRS,
  // Trend: log of the sum of w * exp(trendAt(ts)) (recommend/model.ts), merged with the stored one by log-add-exp.
  // Per shopper-item, the first event of each kind counts: a rating only if there was none before,
  // a view, add or order only if it is the first of its kind or the item was last touched a while ago.
  itemStats: `
  WITH ${PENDING},
  counted AS (
    SELECT p.item, MIN(p.ts) AS ts,
           w.event_weight
             * CASE p.type WHEN 'Product Viewed' THEN ?11 WHEN 'Product Added' THEN ?12 WHEN 'Order Completed' THEN ?13
                           WHEN 'Product Reviewed' THEN ?14 END
             * CASE WHEN p.type = 'Product Reviewed' THEN w.old_rating IS NULL
                    ELSE w.known IS NULL OR w.old_ts <= MIN(p.ts) - ?10
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
         COALESCE(s.visitors, 0), COALESCE(b.buyers, 0), c.views, c.adds, c.purchases, COALESCE(t.trend, ?17)
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

// Numbered as the statements read them; `?1` is the site. Values, not SQL text, so each tunable has one source.
/** The fold's bound parameters: the site, then the model's tunables (exported for the fold test). */
export const foldParams = (siteId: string) => [
  siteId, // ?1
  PAIR_WINDOW, // ?2
  TREND_EPOCH, // ?3
  TREND_TAU, // ?4
  TRUST.returnAfterMs, // ?5
  TRUST.historyItems, // ?6
  TRUST.established, // ?7
  TRUST.unviewedRating, // ?8
  TRUST.dailyItems, // ?9
  TRUST.repeatAfterMs, // ?10
  EVENT_WEIGHTS['Product Viewed'], // ?11
  EVENT_WEIGHTS['Product Added'], // ?12
  EVENT_WEIGHTS['Order Completed'], // ?13
  EVENT_WEIGHTS['Product Reviewed'], // ?14
  NEXT.halfAfterMs, // ?15
  NEXT.withinMs, // ?16
  NO_TREND, // ?17
]

// D1 wants exactly as many values as the highest ?N a statement names (unused CTEs count too), so
// each statement's count is read once, here, not on every batch.
const highest = (sql: string) => Math.max(0, ...(sql.match(/\?\d+/g) ?? []).map((p) => Number(p.slice(1))))
const FOLD = [
  INDEX_SQL.visitorDays,
  INDEX_SQL.countedSessions,
  INDEX_SQL.visitors,
  INDEX_SQL.seenPairs,
  INDEX_SQL.boughtPairs,
  INDEX_SQL.nextPairs,
  INDEX_SQL.itemStats,
  INDEX_SQL.budget,
  INDEX_SQL.visitorItems,
  INDEX_SQL.arms,
  INDEX_SQL.outcomes,
  INDEX_SQL.done,
].map((sql) => ({ sql, params: highest(sql) }))

/**
 * Folds every not-yet-indexed event of the site into pairs, item stats, shopper items and the
 * arms of next best actions, then marks them indexed. Run in the transaction that inserted them,
 * so each event counts once.
 */
export const indexPending = (db: D1Database, siteId: string) => {
  const values = foldParams(siteId)
  return FOLD.map(({ sql, params }) => db.prepare(sql).bind(...values.slice(0, params)))
}
