-- The version of each site's catalog, bumped by every catalog write through the admin API: it names the
-- edge cache's shared parts (worker/recommend/shared.ts), so a changed price or stock is never served
-- from parts read before the change once the site's cached entry (60 s) names the new version.
ALTER TABLE sites ADD COLUMN catalog_version INTEGER NOT NULL DEFAULT 0;
