// The directory: which D1 database holds a site's data. The `sites` table on DB (the control plane)
// names each site's shard; every shard has the same schema (all migrations run on each). Requests
// find it through loadSite (KV-cached for SITE_CACHE_TTL), so a change reaches every isolate within
// that time: the move (move.ts) waits it out before it relies on it.
import { HTTPException } from 'hono/http-exception'
import type { ApiError } from '../../contract'
import type { Bindings, Site } from '../env'

/** The D1 bindings of Bindings. */
type D1Binding = { [K in keyof Bindings]: Bindings[K] extends D1Database ? K : never }[keyof Bindings]

/** Every shard, by binding name; DB, the control plane, is one too. A new one is a binding in both wrangler configs. */
export const SHARDS = ['DB', 'SHARD_1'] as const satisfies readonly D1Binding[]
/** A shard's binding name. */
export type Shard = (typeof SHARDS)[number]

/** Whether `name` is one of SHARDS. */
export const isShard = (name: string): name is Shard => (SHARDS as readonly string[]).includes(name)

/** The D1 database that holds `site`'s data: the shard its directory row names. */
export function shardOf(env: Bindings, site: Pick<Site, 'shard'>): D1Database {
  if (!isShard(site.shard)) throw new Error(`no D1 binding for shard "${site.shard}"`)
  return env[site.shard]
}

/**
 * Whether the site's rows are being copied to another shard: then nothing may write them (the copy
 * would miss it), while reads go on from the source. Once the copy is verified the directory names
 * the new shard and `movingTo` stays set, equal to it, only while the old copies are deleted; writes
 * go to the new shard by then. The events buffer holds a site's events while this is true and
 * flushes them to shardOf(site) after, so no event reaches the source once its rows are copied (its
 * route passes siteAuth `whileMoving: 'accept'`: a move never refuses an event).
 */
export const isMoving = (site: Pick<Site, 'shard' | 'movingTo'>) =>
  site.movingTo != null && site.movingTo !== site.shard

/** Seconds a refused write is asked to wait: a move of a typical site takes a few minutes. */
export const MOVE_RETRY_AFTER = 30

/** Throws 503 with Retry-After while `site` is moving: writes wait until its rows are on the new shard. */
export function refuseWhileMoving(site: Site): void {
  if (!isMoving(site)) return
  const message = 'site is moving to another shard; retry shortly'
  const headers = { 'Retry-After': String(MOVE_RETRY_AFTER) }
  throw new HTTPException(503, {
    message,
    res: Response.json({ error: message } satisfies ApiError, { status: 503, headers }),
  })
}
