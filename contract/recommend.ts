// GET /v1/recommendations: the strategies, the device's recent items and the answer.
import { z } from 'zod'
import { decodeRecent, MAX_RECENT, MAX_RECENT_CHARS, RECENT_TOKEN } from './recent'

/** Recommendation strategies served by GET /v1/recommendations. */
export const STRATEGIES = [
  'for-you',
  'also-viewed',
  'also-bought',
  'cart',
  'trending',
  'recently-viewed',
  'category',
] as const
export type Strategy = (typeof STRATEGIES)[number]

/** One recommended item: catalog facts, a score and the reasons in plain words. */
export interface RecommendedItem {
  id: string
  title: string
  category: string
  price: number
  image: string | null
  score: number
  reasons: string[]
}

/** GET /v1/recommendations: an id that later clicks and orders carry, a label, the items. */
export interface RecommendationAnswer {
  id: string
  strategy: Strategy
  label: string
  items: RecommendedItem[]
}

/**
 * The device's recent items (`recent`, encoded by encodeRecent): a query parameter of GET
 * /v1/recommendations and a field of POST /v1/decide, decoded onto the Worker's clock.
 */
export const recentParam = z
  .string()
  .max(MAX_RECENT_CHARS, `must be at most ${MAX_RECENT_CHARS} characters`)
  .transform((s) => (s ? s.split(',') : []))
  .pipe(
    z
      .array(z.string().regex(RECENT_TOKEN, 'must be <id>.<v|a|b|d|r1-r5><seconds ago>, e.g. tea-01.v42'))
      .max(MAX_RECENT, `must hold at most ${MAX_RECENT} items`),
  )
  .transform((tokens) => decodeRecent(tokens, Date.now()))
