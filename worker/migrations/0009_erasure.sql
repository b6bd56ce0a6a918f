-- Erased browsers: their late retries are dropped, never stored again.
CREATE TABLE erased (
  site_id TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  erased_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, anonymous_id)
) WITHOUT ROWID;
