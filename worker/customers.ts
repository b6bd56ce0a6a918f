// Loads one customer's 360 view: every browser of their UID, their facts, and their segments
// against the site's population. Used by GET /v1/profile and POST /v1/decide.
import { anonymousIdsOf, customerFacts, identitiesOf, populationStats, uidOf } from './db'
import type { Bindings, Site } from './env'
import { ACTIVITY_WEEKS, DEFAULT_LIFECYCLE, segmentOne, summarise, type Population } from './segments'

/** Seconds the site's population statistics (quintile cuts, tier thresholds) stay cached in KV. */
export const POPULATION_TTL = 600

/** The site's population statistics, from KV when fresh, else computed in D1 and cached. */
async function sitePopulation(env: Bindings, siteId: string): Promise<Population> {
  const key = `population:${siteId}`
  let stats = await env.CACHE.get<Omit<Population, 'medians'>>(key, 'json')
  if (!stats) {
    stats = await populationStats(env.DB, siteId)
    await env.CACHE.put(key, JSON.stringify(stats), { expirationTtl: POPULATION_TTL })
  }
  // JSON has no Infinity: an empty tier comes back from KV as null.
  const { A, B, C } = stats.tiers
  return { ...stats, tiers: { A: A ?? Infinity, B: B ?? Infinity, C: C ?? Infinity }, medians: null }
}

/** The customer behind a browser: UID, browsers, identities, summary and segmentation. */
export async function customerView(env: Bindings, site: Site, anonymousId: string, now: number) {
  const uid = await uidOf(env.DB, site.id, anonymousId)
  // History from before login joins in: every browser linked to the UID counts.
  const browsers = uid ? await anonymousIdsOf(env.DB, site.id, uid) : [anonymousId]
  const [facts, population, identities] = await Promise.all([
    customerFacts(env.DB, site.id, browsers, now, ACTIVITY_WEEKS),
    sitePopulation(env, site.id),
    uid ? identitiesOf(env.DB, site.id, uid) : Promise.resolve([]),
  ])
  const summary = summarise(uid ?? anonymousId, facts, now)
  const view = segmentOne(summary, population, now, { ...DEFAULT_LIFECYCLE, ...site.settings?.lifecycle })
  return { uid, browsers, identities, facts, summary, view }
}
