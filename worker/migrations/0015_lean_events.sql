-- A lean event row: the context (device, viewport, locale, UTM, landing page) is stored once per
-- session, not on every event, and the unused item index goes.
-- Activity per shopper and day moves into visitor_days, so segments and value no longer read raw
-- events, which may then leave D1 for the R2 archive after the hot window.

CREATE TABLE sessions (
  site_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  context TEXT NOT NULL,        -- JSON: the context of the session's first event, without the page's title
  -- Session ids come from the device: keyed under the browser, one cannot touch another's sessions.
  PRIMARY KEY (site_id, anonymous_id, session_id)
) WITHOUT ROWID;
CREATE INDEX sessions_by_time ON sessions (site_id, started_at);

INSERT INTO sessions (site_id, session_id, anonymous_id, started_at, context)
SELECT site_id, session_id, anonymous_id, MIN(ts), json_remove(context, '$.page.title')
FROM events GROUP BY site_id, anonymous_id, session_id;

-- Events per shopper and UTC day, folded with the events; `archived` lists the R2 objects holding that day's events.
CREATE TABLE visitor_days (
  site_id TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  day INTEGER NOT NULL,         -- ms since epoch / 86400000
  events INTEGER NOT NULL,
  page_views INTEGER NOT NULL,
  archived TEXT,                -- JSON array of R2 keys, once the day's events left D1
  PRIMARY KEY (site_id, anonymous_id, day)
) WITHOUT ROWID;
CREATE INDEX visitor_days_by_day ON visitor_days (site_id, day);

INSERT INTO visitor_days (site_id, anonymous_id, day, events, page_views)
SELECT site_id, anonymous_id, ts / 86400000, COUNT(*), SUM(type = 'Page Viewed') FROM events
GROUP BY site_id, anonymous_id, ts / 86400000;

CREATE TABLE events_lean (
  site_id TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  user_id TEXT,
  session_id TEXT NOT NULL,
  ts INTEGER NOT NULL,          -- client time corrected for clock skew, ms since epoch
  client_ts INTEGER NOT NULL,   -- as the device reported it: the device's own order across batches
  received_at INTEGER NOT NULL,
  item_id TEXT,                 -- product_id of single-product events, for item counts
  path TEXT NOT NULL,
  properties TEXT NOT NULL,     -- JSON
  indexed INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, id)
) WITHOUT ROWID;
INSERT INTO events_lean
SELECT site_id, id, type, anonymous_id, user_id, session_id, ts, client_ts, received_at, item_id, path, properties, indexed
FROM events;
DROP TABLE events;
ALTER TABLE events_lean RENAME TO events;
CREATE INDEX events_by_visitor ON events (site_id, anonymous_id, ts);
CREATE INDEX events_by_time ON events (site_id, ts);
CREATE INDEX events_pending ON events (site_id) WHERE indexed = 0;
