// The KV keys of per-site caches, in one place, so a cache and its invalidation name the same key.
// KV holds nothing per shopper: erasure never has to reach it.

/** KV keys by what they cache; each lives as long as its TTL, set where it is written. */
export const CACHE_KEYS = {
  /** The site's key digests, origins and settings (http/site-auth.ts). */
  site: (siteId: string) => `site:${siteId}`,
  /** The site's quintile cuts and tier thresholds (customer/view.ts). */
  population: (siteId: string) => `population:${siteId}`,
  /** The site's fitted value model (customer/view.ts). */
  valueModel: (siteId: string) => `value:${siteId}`,
  /** The site whose pages a shop host serves through the edge pass, or '' for none (edge/route.ts). */
  edgeHost: (host: string) => `edge:${host}`,
} as const
