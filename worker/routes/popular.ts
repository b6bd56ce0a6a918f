import { Hono } from 'hono'
import { z } from 'zod'
import { POPULARITY_WEIGHTS, popularItems } from '../db'
import type { AppEnv } from '../env'
import { authenticate, checkOrigin } from '../sites'
import { invalid } from './body'
import { toIssues } from '../ingest'

/** Window behind "popular now". */
export const POPULAR_WINDOW_MS = 7 * 24 * 3600 * 1000

const query = z.object({
  site: z.string().min(1).max(128),
  key: z.string().min(1).max(200),
  limit: z.coerce.number().int().min(1).max(50).default(8),
})

/** The answer of GET /v1/popular: items with the counts that put them there. */
export interface PopularAnswer {
  strategy: 'popular'
  label: string
  items: Array<{
    id: string
    title: string
    category: string
    price: number
    image: string | null
    score: number
    reasons: string[]
  }>
}

/**
 * GET /v1/popular: most viewed and added-to-cart items of the last 7 days, with reasons.
 * Not cached: an event accepted now shows in the next answer (one indexed query per request).
 */
export default new Hono<AppEnv>().get('/', async (c) => {
  const parsed = query.safeParse(c.req.query())
  if (!parsed.success) throw invalid('invalid query', toIssues(parsed.error))
  const { site: siteId, key, limit } = parsed.data
  const site = await authenticate(c.env, siteId, key)
  // Same-origin GETs carry no Origin header; a cross-origin one must be allowed.
  const origin = c.req.header('Origin')
  if (origin) checkOrigin(site, origin)
  const rows = await popularItems(c.env.DB, site.id, Date.now() - POPULAR_WINDOW_MS, limit)
  const answer: PopularAnswer = {
    strategy: 'popular',
    label: 'Popular now',
    items: rows.map(({ views, adds, ...item }) => ({
      ...item,
      score: views * POPULARITY_WEIGHTS['Product Viewed'] + adds * POPULARITY_WEIGHTS['Product Added'],
      reasons: [`${plural(views, 'view')} and ${plural(adds, 'cart add')} this week`],
    })),
  }
  return c.json(answer)
})
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
