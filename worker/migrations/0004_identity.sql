-- Single customer view: every identifier of a shopper points to one universal id (UID).
-- Events keep the anonymous id they were sent with; a profile gathers the events of every
-- anonymous id mapped to the UID, so linking and unlinking never rewrite history.
CREATE TABLE identities (
  site_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('anonymous', 'user', 'crm', 'loyalty', 'email')),
  value TEXT NOT NULL,          -- emails only as SHA-256 hex of the trimmed, lower-cased address
  uid TEXT NOT NULL,
  linked_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX identities_by_uid ON identities (site_id, uid);

-- Every change to the graph, so any link can be explained and undone.
CREATE TABLE identity_log (
  site_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('link', 'move', 'unlink')),
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  from_uid TEXT,
  to_uid TEXT,
  reason TEXT NOT NULL
);
CREATE INDEX identity_log_by_value ON identity_log (site_id, kind, value, at);
