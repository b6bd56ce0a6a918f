import type { SiteSettings } from './admin/settings'
import type { EventBuffer } from './events/buffer'
import type { Experiment } from './experiments/config'

/** The Worker's bindings, as declared in wrangler.toml. */
export type Bindings = {
  /** The control plane (the `sites` directory) and a shard (worker/shards/directory.ts). */
  DB: D1Database
  /** A second shard: a site's data lives on the shard its directory row names. */
  SHARD_1: D1Database
  CACHE: KVNamespace
  ASSETS: Fetcher
  /** One write-behind buffer of events per site (worker/events/buffer.ts). */
  EVENT_BUFFER: DurableObjectNamespace<EventBuffer>
  /** Raw events after the hot window, as NDJSON (worker/events/archive.ts). */
  ARCHIVE: R2Bucket
  /** Requests per site id and window (worker/http/ratelimit.ts). */
  SITE_LIMITER: RateLimit
  /** Requests per client address and window. */
  CLIENT_LIMITER: RateLimit
  /** "off" turns both limiters off (load tests: `wrangler dev --var RATE_LIMITS:off`). */
  RATE_LIMITS?: string
  /** "off" reads every shared part of an answer from D1, not the edge cache (tests that read back a model change at once). */
  SHARED_CACHE?: string
  /** Seals sites' identity secrets at rest (worker/identity/verification.ts): `wrangler secret put IDENTITY_KEK`. */
  IDENTITY_KEK?: string
  /** Authorizes the operator's API (worker/shards/route.ts): `wrangler secret put OPERATOR_KEY`; unset, it answers 503. */
  OPERATOR_KEY?: string
  /** Seconds a shard move waits for every isolate to see the directory (default MOVE_WAIT_SECONDS; 0 for tests and local runs). */
  MOVE_WAIT_SECONDS?: string
}
/** Hono environment: bindings plus what middleware puts on the context. */
export type AppEnv = {
  Bindings: Bindings
  /** `db`: the site's shard (worker/shards/directory.ts shardOf), for every read and write of its data. */
  Variables: { site: Site; db: D1Database }
}

/** A tenant as the Worker sees it after authentication. */
export interface Site {
  id: string
  keyHash: string
  /** SHA-256 of the secret admin key; null until one is issued. */
  adminKeyHash: string | null
  origins: string[]
  settings?: SiteSettings
  /** The site's A/B tests (worker/experiments/); absent in a row cached before they existed. */
  experiments?: Experiment[]
  /** The identity secret, sealed under IDENTITY_KEK; null until one is created. */
  identitySecret?: string | null
  /** The D1 binding that holds the site's data (worker/shards/directory.ts). */
  shard: string
  /** The shard the site's data is being copied to; null unless a move is under way (worker/shards/move.ts). */
  movingTo: string | null
  /** Bumped by every catalog write: names the edge cache's shared parts (worker/recommend/shared.ts). */
  catalogVersion: number
}
