// Every table that holds a site's rows, with its primary key after site_id: what a move copies,
// counts and deletes. The list is derived from the migrations, and test/worker/shards/tables.test.ts
// reads the migrated schema and fails when a table with a site_id column is missing here or its key
// differs, so a new table cannot be left behind on the old shard.

/** A site-scoped table and its primary key after site_id, in order; [] when it has none (it is copied in rowid order). */
export interface SiteTable {
  name: string
  key: readonly string[]
}

/** The control plane's tables keyed by site (env.DB only): they stay where they are when a site's data moves. */
export const CONTROL_TABLES = ['sites', 'edge_hosts'] as const

/** Every site-scoped table, in migration order; the control plane's (CONTROL_TABLES) are not among them. */
export const SITE_TABLES: readonly SiteTable[] = [
  { name: 'events', key: ['id'] },
  { name: 'visitors', key: ['anonymous_id'] },
  { name: 'items', key: ['id'] },
  { name: 'visitor_items', key: ['anonymous_id', 'item_id'] },
  { name: 'item_pairs', key: ['kind', 'a', 'b'] },
  { name: 'item_stats', key: ['item_id'] },
  { name: 'recommendations', key: ['id'] },
  { name: 'identities', key: ['kind', 'value'] },
  { name: 'identity_log', key: [] },
  { name: 'actions', key: ['id'] },
  { name: 'arms', key: ['action_id', 'segment_key'] },
  { name: 'decisions', key: ['id'] },
  { name: 'segment_sizes', key: ['day', 'segment'] },
  { name: 'erased', key: ['anonymous_id'] },
  { name: 'claims', key: ['anonymous_id', 'kind', 'value'] },
  { name: 'sessions', key: ['anonymous_id', 'session_id'] },
  { name: 'visitor_days', key: ['anonymous_id', 'day'] },
  { name: 'recommendation_days', key: ['day', 'strategy'] },
  { name: 'experiment_shoppers', key: ['experiment_id', 'anonymous_id'] },
  { name: 'experiment_stops', key: ['experiment_id'] },
]
