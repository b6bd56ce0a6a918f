// "For you": items similar to the shopper's history, weighted by what they did and how lately.
import { merge, titleOf, byScore, type HistoryItem, type ModelData, type Recommender, type Scored } from '.'
import { alsoViewed, similar } from './co-occurrence'
import { categoryAffinity } from './popular'

/** What an event kind says about taste: a purchase more than a cart add, a cart add more than a view. */
export const KIND_WEIGHTS = { purchase: 5, add: 3, view: 1 } as const
/** Ratings are graded signals: a low rating pushes similar items down. */
export const RATING_FACTORS: Record<number, number> = { 1: -1, 2: -0.5, 3: 0.3, 4: 1.2, 5: 1.5 }
/** Each older item in the history counts this much less than the one after it. */
export const RECENCY = 0.85
/** Share of a popularity signal blended into personal scores. */
export const TREND_BLEND = 0.05

/** How much one history item says about the shopper now. */
export function interest(h: HistoryItem, position: number): number {
  const kind = h.purchases > 0 ? KIND_WEIGHTS.purchase : h.adds > 0 ? KIND_WEIGHTS.add : KIND_WEIGHTS.view
  const rated = h.rating === null ? 1 : (RATING_FACTORS[h.rating] ?? 1)
  return kind * rated * RECENCY ** position
}

const because = (h: HistoryItem, title: string) =>
  h.rating !== null
    ? `Because you rated ${title} ${h.rating}/5`
    : h.purchases > 0
      ? `Because you bought ${title}`
      : h.adds > 0
        ? `Because you added ${title} to your cart`
        : `Because you viewed ${title}`

/** Personal picks from the history; from the first page view, the page's item and category stand in. */
export const forYou: Recommender = (data, limit) => {
  const history = data.history.filter((h) => !h.dismissed)
  if (history.length === 0) {
    const lists = [categoryAffinity(data, limit * 2)]
    if (data.context.item) lists.unshift(alsoViewed(data, limit * 2))
    return merge(lists).sort(byScore).slice(0, limit)
  }
  const lists: Scored[][] = history.map((h, position) => {
    const weight = interest(h, position)
    const reason = because(h, titleOf(data, h.item))
    return similar(data, data.seen, h.item, reason).map((s) => ({ ...s, score: s.score * weight }))
  })
  const top = Math.max(...data.trending.map((t) => t.score), 1e-12)
  lists.push(data.trending.map((t) => ({ item: t.item, score: (TREND_BLEND * t.score) / top, reasons: ['Popular this week'] })))
  const skip = unwanted(data)
  return merge(lists)
    .filter((s) => s.score > 0 && !skip.has(s.item))
    .sort(byScore)
    .slice(0, limit)
}

/** Items personal picks leave out: in the cart or on screen, bought, disliked (rated 1-2) or dismissed. */
export const unwanted = (data: ModelData) =>
  new Set([
    ...data.context.cart,
    ...(data.context.item ? [data.context.item] : []),
    ...data.history.filter((h) => h.purchases > 0 || h.dismissed || (h.rating ?? 3) <= 2).map((h) => h.item),
  ])
