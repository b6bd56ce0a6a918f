-- Identity verification. A site's identity secret signs the ids its backend vouches for
-- (HMAC-SHA256 over "kind:value"); it is kept sealed with AES-GCM under the Worker secret
-- IDENTITY_KEK, so a copy of D1 (or of the KV site cache) alone cannot forge a login.
ALTER TABLE sites ADD COLUMN identity_secret TEXT;

-- Ids a browser named without a signature (and the site does not allow unverified linking): kept
-- on that browser alone, shown to the marketer as unverified, and never joined to any UID.
-- Links made before this migration stay in identities as they were made.
CREATE TABLE claims (
  site_id TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'crm', 'loyalty', 'email')),
  value TEXT NOT NULL,
  claimed_at INTEGER NOT NULL,
  PRIMARY KEY (site_id, anonymous_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX claims_by_time ON claims (site_id, claimed_at);
