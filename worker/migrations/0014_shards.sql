-- Shards. The control plane's `sites` rows are the directory: `shard` names the D1 binding that holds
-- the site's data, and `moving_to` the one it is being copied to (null unless a move is under way:
-- worker/shards/move.ts). Every shard runs every migration, so these columns exist everywhere but are
-- read only on DB.
ALTER TABLE sites ADD COLUMN shard TEXT NOT NULL DEFAULT 'DB';
ALTER TABLE sites ADD COLUMN moving_to TEXT;
