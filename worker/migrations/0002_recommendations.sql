-- Incremental model state, updated in the same transaction that stores the events.

-- Events not yet folded into the tables below; normally none survive their own transaction.
ALTER TABLE events ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_pending ON events (site_id) WHERE indexed = 0;

-- Each shopper's items: the history "for you" and "recently viewed" read, bounded per request.
CREATE TABLE visitor_items (
  site_id TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  item_id TEXT NOT NULL,
  first_ts INTEGER NOT NULL,
  last_ts INTEGER NOT NULL,
  views INTEGER NOT NULL DEFAULT 0,
  adds INTEGER NOT NULL DEFAULT 0,
  purchases INTEGER NOT NULL DEFAULT 0,
  rating INTEGER,              -- latest rating 1-5
  dismissed INTEGER NOT NULL DEFAULT 0, -- "not interested"
  PRIMARY KEY (site_id, anonymous_id, item_id)
) WITHOUT ROWID;
CREATE INDEX visitor_items_recent ON visitor_items (site_id, anonymous_id, last_ts DESC);

-- Item-to-item co-occurrence: 'seen' = the same shopper interacted with both (within their recent
-- items), 'bought' = the same shopper bought both. Stored in both directions.
CREATE TABLE item_pairs (
  site_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  weight REAL NOT NULL,
  PRIMARY KEY (site_id, kind, a, b)
) WITHOUT ROWID;
CREATE INDEX item_pairs_top ON item_pairs (site_id, kind, a, weight DESC);

-- Per-item counters and a time-decayed popularity kept in log space against a fixed epoch
-- (forward decay), so one index orders items by trend whatever the time.
CREATE TABLE item_stats (
  site_id TEXT NOT NULL,
  item_id TEXT NOT NULL,
  category TEXT,
  visitors INTEGER NOT NULL DEFAULT 0,
  buyers INTEGER NOT NULL DEFAULT 0,
  views INTEGER NOT NULL DEFAULT 0,
  adds INTEGER NOT NULL DEFAULT 0,
  purchases INTEGER NOT NULL DEFAULT 0,
  trend REAL NOT NULL DEFAULT -1e308,
  PRIMARY KEY (site_id, item_id)
) WITHOUT ROWID;
CREATE INDEX item_stats_trend ON item_stats (site_id, trend DESC);
CREATE INDEX item_stats_category_trend ON item_stats (site_id, category, trend DESC);

-- Every answer given, so clicks and orders that carry its id can be attributed.
CREATE TABLE recommendations (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  anonymous_id TEXT,
  strategy TEXT NOT NULL,
  items TEXT NOT NULL, -- JSON array of item ids, in order
  created_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;
