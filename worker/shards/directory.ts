// The directory: which D1 database holds a site's data. The `sites` table on DB (the control plane)
// names each site's shard; every shard has the same schema (all migrations run on each).
import type { Bindings } from '../env'

/** The D1 bindings of Bindings. */
type D1Binding = { [K in keyof Bindings]: Bindings[K] extends D1Database ? K : never }[keyof Bindings]

/** Every shard, by binding name; DB, the control plane, is one too. A new one is a binding in both wrangler configs. */
export const SHARDS = ['DB', 'SHARD_1'] as const satisfies readonly D1Binding[]
/** A shard's binding name. */
export type Shard = (typeof SHARDS)[number]
