-- Recommendation poisoning defences (TRUST in worker/db.ts). Shared aggregates now sum weights
-- in units of a first visit: item_pairs.weight, and item_stats.visitors and .buyers (the cosine
-- support, so REAL values appear there) and .trend. views, adds and purchases stay plain counts.

-- What a shopper-item counts for in co-occurrence and support, fixed when it entered the model.
-- Rows indexed before this migration count as shoppers with a history (TRUST.established = 10),
-- and the aggregates they built are rescaled to match.
ALTER TABLE visitor_items ADD COLUMN weight REAL NOT NULL DEFAULT 10;
UPDATE item_pairs SET weight = weight * 10;
UPDATE item_stats SET visitors = visitors * 10, buyers = buyers * 10, trend = trend + ln(10) WHERE trend > -1e307;

-- Per browser, on the server's clock (a client can backdate its events, not our receipt times):
-- when its first item event arrived, how many items it has, and how many new items it brought
-- into the shared model on budget_day (days since the epoch, UTC).
ALTER TABLE visitors ADD COLUMN first_received INTEGER;
ALTER TABLE visitors ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visitors ADD COLUMN budget_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visitors ADD COLUMN budget_used INTEGER NOT NULL DEFAULT 0;
UPDATE visitors SET first_received = first_seen, item_count = (
  SELECT COUNT(*) FROM visitor_items v WHERE v.site_id = visitors.site_id AND v.anonymous_id = visitors.anonymous_id
);
