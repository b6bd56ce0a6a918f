-- Raw events the model has folded and no report reads in full leave D1 for the R2 archive after
-- the hot window (worker/events/archive.ts). Recommendation impressions and clicks leave with them,
-- rolled up here per day and strategy first, so the recommendation report still covers the whole
-- retention period.
CREATE TABLE recommendation_days (
  site_id TEXT NOT NULL,
  day TEXT NOT NULL,            -- YYYY-MM-DD, UTC, as the reports group
  strategy TEXT NOT NULL,
  impressions INTEGER NOT NULL,
  clicks INTEGER NOT NULL,
  PRIMARY KEY (site_id, day, strategy)
) WITHOUT ROWID;

-- The rows that may leave D1, oldest first; kept types (worker/events/archive.ts KEPT_IN_D1, the same
-- list) are never in it, so the archive never walks a year of orders to find the next chunk.
CREATE INDEX events_archivable ON events (site_id, ts)
  WHERE type NOT IN ('Order Completed', 'Offer Shown', 'Offer Accepted', 'Offer Dismissed');
