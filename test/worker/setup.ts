import { applyD1Migrations, env } from 'cloudflare:test'
import { SHARDS } from '../../worker/shards/directory'

// The real migrations, applied to each test file's isolated D1 databases: every shard, DB included.
for (const shard of SHARDS) await applyD1Migrations(env[shard], env.TEST_MIGRATIONS)
