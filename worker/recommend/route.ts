// GET /v1/recommendations, HTTP only: the query, the site, the answer and its log; load.ts reads, rank.ts ranks.
import { Hono } from 'hono'
import { z } from 'zod'
import { logRecommendation } from './store'
import { recentParam, STRATEGIES, siteKey, type RecommendationAnswer } from '../../contract'
import type { AppEnv } from '../env'
import { randomId } from '../ids'
import { RECOMMENDERS } from './strategies'
import { loadModelData } from './load'
import { sharedSource } from './shared'
import { recommend } from './rank'
import { rulesSchema, type Rules } from './rules'
import { siteAuth } from '../http/site-auth'
import { afterResponse } from '../http/body'
import { isMoving } from '../shards/directory'
import { withExperiment } from '../experiments/assign'
import { logExposure } from '../experiments/store'

const list = z
  .string()
  .max(4000)
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )

/** The query of GET /v1/recommendations. */
export const recommendationQuery = siteKey.extend({
  strategy: z.enum(STRATEGIES).default('for-you'),
  limit: z.coerce.number().int().min(1).max(50).default(8),
  anonymousId: z.string().max(200).optional(),
  item: z.string().max(200).optional(),
  category: z.string().max(128).optional(),
  cart: list.optional(),
  recent: recentParam.optional(),
  /** The page's slot (`data-slot-name`): an A/B test running on it sets strategy, rules and limit. */
  slot: z.string().max(64).optional(),
  rules: z
    .string()
    .max(8000)
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' })
        return z.NEVER
      }
    })
    .pipe(rulesSchema)
    .optional(),
})

/** A request for recommendations, after validation. */
export type RecommendationRequest = z.infer<typeof recommendationQuery>

/** GET /v1/recommendations: a strategy's items for a shopper, with reasons and a recommendation id. */
export default new Hono<AppEnv>().get('/', siteAuth('invalid query', recommendationQuery), async (c) => {
  const { site } = c.var
  const { req, arm } = withExperiment(site.experiments, c.var.input)
  const now = Date.now()
  // A/B holdout: an empty answer, so the slot stays hidden; nothing to load for it.
  const holdout = arm?.variant === null
  const source = await sharedSource(c.env, site, c.var.db, (work) => void afterResponse(c, work))
  const data = holdout ? null : await loadModelData(source, { ...req, now })
  const rules: Rules = { ...site.settings?.recommendations?.rules, ...req.rules }
  const items = data ? recommend(data, req.strategy, rules, data.dismissed, req.limit) : []
  const answer: RecommendationAnswer = {
    id: randomId('rec'),
    strategy: req.strategy,
    label: RECOMMENDERS[req.strategy].label,
    items: items.map(({ item, score, reasons }) => {
      const { inStock: _, ...meta } = data!.catalog.get(item)!
      return { ...meta, score: Math.round(score * 1e4) / 1e4, reasons }
    }),
  }
  // How many D1 round trips the answer waited for (0 when the edge cache held every shared part).
  c.header('Server-Timing', `d1;desc=${data?.d1 ?? 0}`)
  // Not logged while the site moves to another shard: its rows must not change under the copy (a
  // click on this answer then counts for no recommendation in reports).
  if (isMoving(site)) return c.json(answer)
  const entry = {
    id: answer.id,
    visitor: req.anonymousId ?? null,
    strategy: req.strategy,
    items: answer.items.map((i) => i.id),
    at: now,
  }
  const log = arm?.counted ? logExposure(c.var.db, site.id, entry, arm) : logRecommendation(c.var.db, site.id, entry)
  await afterResponse(c, log)
  return c.json(answer)
})
