import { Hono } from 'hono'
import { z } from 'zod'
import { anonymousIdsOf, customerFacts, identitiesOf, populationStats, uidOf } from '../db'
import type { AppEnv, Bindings } from '../env'
import { toIssues } from '../ingest'
import { ACTIVITY_WEEKS, DEFAULT_LIFECYCLE, segmentOne, summarise, type Population } from '../segments'
import { authenticate, checkOrigin } from '../sites'
import { invalid } from './body'

/** Seconds the site's population statistics (quintile cuts, tier thresholds) stay cached in KV. */
export const POPULATION_TTL = 600

const query = z.object({
  site: z.string().min(1).max(128),
  key: z.string().min(1).max(200),
  anonymousId: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/),
})

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

/** GET /v1/profile: what Vista knows about the shopper behind this browser, with reasons. */
export default new Hono<AppEnv>().get('/', async (c) => {
  const parsed = query.safeParse(c.req.query())
  if (!parsed.success) throw invalid('invalid query', toIssues(parsed.error))
  const { anonymousId } = parsed.data
  const site = await authenticate(c.env, parsed.data.site, parsed.data.key)
  const origin = c.req.header('Origin')
  if (origin) checkOrigin(site, origin)
  const now = Date.now()
  const uid = await uidOf(c.env.DB, site.id, anonymousId)
  // History from before login joins in: every browser linked to the UID counts.
  const browsers = uid ? await anonymousIdsOf(c.env.DB, site.id, uid) : [anonymousId]
  const [facts, population, identities] = await Promise.all([
    customerFacts(c.env.DB, site.id, browsers, now, ACTIVITY_WEEKS),
    sitePopulation(c.env, site.id),
    uid ? identitiesOf(c.env.DB, site.id, uid) : Promise.resolve([]),
  ])
  const summary = summarise(uid ?? anonymousId, facts, now)
  const settings = { ...DEFAULT_LIFECYCLE, ...site.settings?.lifecycle }
  const view = segmentOne(summary, population, now, settings)
  return c.json({
    uid,
    browsers,
    identities,
    summary: {
      firstSeen: summary.firstSeen,
      lastSeen: summary.lastSeen,
      events: facts.totals?.events ?? 0,
      orders: summary.orders,
      revenue: summary.revenue,
      lastOrderAt: summary.lastOrderAt,
      weeklyActivity: summary.weeklyActivity,
      categories: summary.categories,
    },
    scores: { rfm: view.rfm, lifecycle: view.lifecycle, churnRisk: view.churnRisk, tier: view.tier },
    segments: view.segments.map((id) => ({ id, reason: view.reasons[id] })),
  })
})
