-- Sites: the public key the script tag carries is stored only as its SHA-256 hex digest.
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL,
  origins TEXT NOT NULL DEFAULT '[]', -- JSON array of allowed origins; "http://127.0.0.1:*" allows any port
  settings TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);

-- Every accepted event, once: the primary key makes a retried id a no-op.
CREATE TABLE events (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  user_id TEXT,
  session_id TEXT NOT NULL,
  ts INTEGER NOT NULL,          -- client time corrected for clock skew, ms since epoch
  client_ts INTEGER NOT NULL,   -- as the device reported it
  received_at INTEGER NOT NULL,
  item_id TEXT,                 -- product_id of single-product events, for item counts
  path TEXT NOT NULL,
  context TEXT NOT NULL,        -- JSON
  properties TEXT NOT NULL,     -- JSON
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;
CREATE INDEX events_by_visitor ON events (site_id, anonymous_id, ts);
CREATE INDEX events_by_item ON events (site_id, item_id, ts) WHERE item_id IS NOT NULL;
CREATE INDEX events_by_time ON events (site_id, ts);

-- The server's summary of each browser, recomputed from its events in the same transaction as the insert.
CREATE TABLE visitors (
  site_id TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  events INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  page_views INTEGER NOT NULL,
  orders INTEGER NOT NULL,
  revenue REAL NOT NULL,
  PRIMARY KEY (site_id, anonymous_id)
) WITHOUT ROWID;

-- The catalog recommendations draw from.
CREATE TABLE items (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  title TEXT NOT NULL,
  category TEXT NOT NULL,
  price REAL NOT NULL,
  image TEXT,
  description TEXT,
  in_stock INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;
CREATE INDEX items_by_category ON items (site_id, category);
