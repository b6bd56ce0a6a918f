// GET /v1/recommendations: the strategies and the answer.

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
