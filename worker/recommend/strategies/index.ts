// Recommenders: pure functions from plain data (loaded by the route) to scored items with reasons.
import type { Strategy } from '../../../contract'
import { alsoBought, alsoViewed, cartComplements } from './co-occurrence'
import { forYou } from './for-you'
import type { Recommender } from '../model'
import { categoryAffinity, recentlyViewed, trending } from './popular'

export { STRATEGIES, type Strategy } from '../../../contract'
export * from '../model'

/** The recommender behind each strategy. */
export const RECOMMENDERS: Record<Strategy, Recommender> = {
  'for-you': forYou,
  'also-viewed': alsoViewed,
  'also-bought': alsoBought,
  cart: cartComplements,
  trending,
  'recently-viewed': recentlyViewed,
  category: categoryAffinity,
}

