// The strategies, each registered once: recommenders are pure functions from plain data (loaded by load.ts) to
// scored items with reasons; the entry also says what to load for it and how its answer is finished.
import type { Strategy } from '../../../contract'
import { alsoBought, alsoViewed, cartComplements } from './co-occurrence'
import { forYou } from './for-you'
import type { Recommender } from '../model'
import { categoryAffinity, recentlyViewed, trending } from './popular'

/** What the loader reads for a strategy, beyond what all get (history, trending, newest, the page's item). */
export interface Needs {
  /**
   * Whose neighbours to read: the item on screen, the cart's items, or the shopper's history (the item on screen
   * until there is one), or nobody's.
   */
  sources: 'item' | 'cart' | 'history' | 'none'
  /** Which neighbour lists of each source: co-views, or co-views and co-purchases. */
  pairs: ReadonlyArray<'seen' | 'bought'>
  /** The catalog rows of the shopper's items and the trending items of their two favourite categories. */
  personal: boolean
  /**
   * Whether the shopper's stored history is read (one D1 round trip); without it, the device's recent items
   * are the history, and the answer needs no D1 read at all.
   */
  history: boolean
}

/** Whether an answer shows or names the shopper's own items (history or device): not one the edge gives without consent. */
export const aboutTheShopper = (needs: Needs) => needs.personal || needs.history

/** One strategy: its recommender, the label of its answers, what it needs loaded, and its special cases. */
export interface StrategyEntry {
  recommend: Recommender
  label: string
  needs: Needs
  /** Whether items on screen (the page's item, the cart) are left out of its answer. */
  hideOnScreen: boolean
  /** Whether a short answer is filled with trending items. */
  fill: boolean
}

const SEEN = ['seen'] as const
const BOTH = ['seen', 'bought'] as const

/** Every strategy of the contract's STRATEGIES, and nothing else (the type says so). */
export const RECOMMENDERS: Record<Strategy, StrategyEntry> = {
  'for-you': {
    recommend: forYou,
    label: 'Recommended for you',
    needs: { sources: 'history', pairs: SEEN, personal: true, history: true },
    hideOnScreen: true,
    fill: true,
  },
  'also-viewed': {
    recommend: alsoViewed,
    label: 'Shoppers also viewed',
    needs: { sources: 'item', pairs: SEEN, personal: false, history: false },
    hideOnScreen: true,
    fill: true,
  },
  'also-bought': {
    recommend: alsoBought,
    label: 'Frequently bought together',
    needs: { sources: 'item', pairs: BOTH, personal: false, history: false },
    hideOnScreen: true,
    fill: true,
  },
  cart: {
    recommend: cartComplements,
    label: 'Goes well with your cart',
    needs: { sources: 'cart', pairs: BOTH, personal: false, history: false },
    hideOnScreen: true,
    fill: true,
  },
  trending: {
    recommend: trending,
    label: 'Trending now',
    needs: { sources: 'none', pairs: [], personal: false, history: false },
    hideOnScreen: true,
    fill: true,
  },
  // A history shows what was on screen, as it was, and nothing else.
  'recently-viewed': {
    recommend: recentlyViewed,
    label: 'Recently viewed',
    needs: { sources: 'none', pairs: [], personal: false, history: true },
    hideOnScreen: false,
    fill: false,
  },
  category: {
    recommend: categoryAffinity,
    label: 'Picked from categories you like',
    needs: { sources: 'item', pairs: SEEN, personal: true, history: true },
    hideOnScreen: true,
    fill: true,
  },
}
