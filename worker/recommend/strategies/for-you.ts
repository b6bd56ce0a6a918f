// "For you": items similar to the shopper's history and what shoppers open next after their latest items,
// weighted by what they did, how lately and in this visit, with popularity where their taste lies.
import { FOR_YOU, interest, merge, taste, titleOf, byScore, visitLength } from '../model'
import type { HistoryItem, ModelData, Recommender, Scored } from '../model'
import { alsoViewed, similar } from './co-occurrence'
import { categoryAffinity } from './popular'

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
  // The visit under way says most about what the shopper wants now.
  const inVisit = visitLength(history, data.now)
  const visitFactor = (position: number) => (position < inVisit ? FOR_YOU.visit : 1)
  const lists: Scored[][] = history.map((h, position) => {
    const weight = interest(h, position) * visitFactor(position)
    const reason = because(h, titleOf(data, h.item))
    return similar(data, data.seen, h.item, reason).map((s) => ({ ...s, score: s.score * weight }))
  })
  // Co-occurrence has no direction; what shoppers opened next after the latest items is where a visit heads.
  history.slice(0, FOR_YOU.nextSources).forEach((h, position) => {
    const weight =
      (FOR_YOU.next * taste(h) * FOR_YOU.nextRecency ** position * visitFactor(position)) /
      Math.max(1, data.support.get(h.item) ?? 1)
    const reason = `Shoppers often look at this after ${titleOf(data, h.item)}`
    lists.push(
      (data.next.get(h.item) ?? [])
        .filter((n) => n.item !== h.item)
        .map((n) => ({ item: n.item, score: n.weight * weight, reasons: [reason] })),
    )
  })
  const hot = data.trending.filter((t) => !t.isNew)
  const top = Math.max(...hot.map((t) => t.score), 1e-12)
  lists.push(
    hot.map((t) => ({ item: t.item, score: (FOR_YOU.trendBlend * t.score) / top, reasons: ['Popular this week'] })),
  )
  // What is popular where the shopper's taste lies: a fresh pick is often from a favourite category.
  if (FOR_YOU.affinity > 0) {
    const had = new Set(history.map((h) => h.item))
    lists.push(
      categoryAffinity(data, limit)
        .filter((s) => !had.has(s.item))
        .map((s) => ({ ...s, score: s.score * FOR_YOU.affinity })),
    )
  }
  const skip = unwanted(data)
  return merge(lists)
    .filter((s) => s.score > 0 && !skip.has(s.item))
    .sort(byScore)
    .slice(0, limit)
}

/** Items personal picks leave out: in the cart or on screen, bought, rated (already known) or dismissed. */
export const unwanted = (data: ModelData) =>
  new Set([
    ...data.context.cart,
    ...(data.context.item ? [data.context.item] : []),
    ...data.history.filter((h) => h.purchases > 0 || h.dismissed || h.rating !== null).map((h) => h.item),
  ])
