import type { Rules } from './recommenders/rules'
import type { ContactPolicy } from './decide'
import type { LifecycleSettings } from './segments'

/** The Worker's bindings, as declared in wrangler.toml. */
export type Bindings = { DB: D1Database; CACHE: KVNamespace; ASSETS: Fetcher }
/** Hono environment: bindings plus what middleware puts on the context. */
export type AppEnv = { Bindings: Bindings; Variables: { site: Site } }

/** What a marketer sets per site. */
export interface SiteSettings {
  /** Default business rules for every recommendation request (a request's own rules win). */
  recommendations?: { rules?: Rules }
  /** Lifecycle thresholds in days (see worker/segments.ts for the defaults). */
  lifecycle?: Partial<LifecycleSettings>
  /** Next best action: share of shoppers held out, and the contact policy. */
  decide?: { holdoutShare?: number; policy?: Partial<ContactPolicy> }
}

/** A tenant as the Worker sees it after authentication. */
export interface Site {
  id: string
  keyHash: string
  /** SHA-256 of the secret admin key; null until one is issued. */
  adminKeyHash: string | null
  origins: string[]
  settings?: SiteSettings
}
