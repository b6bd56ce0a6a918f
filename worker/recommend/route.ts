// GET /v1/recommendations, HTTP only: the query and the answer's form; answer.ts answers, load.ts reads, rank.ts ranks.
import { Hono } from 'hono'
import { z } from 'zod'
import { recentParam, STRATEGIES, siteKey } from '../../contract'
import type { AppEnv } from '../env'
import { rulesSchema } from './rules'
import { siteAuth } from '../http/site-auth'
import { afterResponse } from '../http/body'
import { answerRecommendations } from './answer'
import { recommendationSlotHtml, requestLocale } from '../render/html'

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
  /** `html`: the slot's HTML (worker/render/html.ts) for a shop that renders on its server, not JSON. */
  format: z.enum(['json', 'html']).default('json'),
  /** With `format=html`, as the slot's data attributes: the heading, the product link with `{id}`, the currency. */
  title: z.string().max(200).optional(),
  link: z.string().max(500).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code')
    .optional(),
  /** The locale prices are formatted in; the first of Accept-Language when absent. */
  locale: z.string().max(35).optional(),
})

/** A request for recommendations, after validation. */
export type RecommendationRequest = z.infer<typeof recommendationQuery>

/** GET /v1/recommendations: a strategy's items for a shopper, with reasons and a recommendation id; `format=html` gives the slot's HTML. */
export default new Hono<AppEnv>().get('/', siteAuth('invalid query', recommendationQuery), async (c) => {
  const { site, db, input } = c.var
  const { answer, d1 } = await answerRecommendations({ env: c.env, site, db, defer: (w) => afterResponse(c, w) }, input)
  // How many D1 round trips the answer waited for (0 when the edge cache held every shared part).
  c.header('Server-Timing', `d1;desc=${d1}`)
  if (input.format === 'json') return c.json(answer)
  const locale = input.locale ?? requestLocale(c.req.header('Accept-Language'))
  return c.html(recommendationSlotHtml(answer, input, locale))
})
