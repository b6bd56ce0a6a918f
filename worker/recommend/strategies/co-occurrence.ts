// Item-to-item recommenders over co-occurrence counts, cosine-normalised.
import { byScore, titleOf, type ModelData, type Neighbour, type Recommender, type Scored } from '../model'
import { trending } from './popular'

/** Cosine similarity of two items from their co-occurrence count and their own counts. */
export const cosine = (n: Neighbour, sourceSupport: number) =>
  n.weight / Math.sqrt(Math.max(1, sourceSupport) * Math.max(1, n.support))

/** Neighbours of `source` in `pairs`, scored by cosine and labelled with `reason`. */
export function similar(data: ModelData, pairs: Map<string, Neighbour[]>, source: string, reason: string): Scored[] {
  const support = data.support.get(source) ?? 1
  return (pairs.get(source) ?? [])
    .filter((n) => n.item !== source)
    .map((n) => ({ item: n.item, score: cosine(n, support), reasons: [reason] }))
}

// When an item has no neighbours yet, the page's category keeps the slot useful.
const orTrending = (data: ModelData, scored: Scored[], limit: number) =>
  scored.length > 0 ? scored.sort(byScore).slice(0, limit) : trending(data, limit)

/** Shoppers who viewed the item on screen also viewed these. */
export const alsoViewed: Recommender = (data, limit) => {
  const source = data.context.item
  if (!source) return trending(data, limit)
  const reason = `Shoppers who viewed ${titleOf(data, source)} also viewed this`
  return orTrending(data, similar(data, data.seen, source, reason), limit)
}

/** Often bought together with the item on screen; co-views when nobody bought it yet. */
export const alsoBought: Recommender = (data, limit) => {
  const source = data.context.item
  if (!source) return trending(data, limit)
  const bought = similar(data, data.bought, source, `Often bought with ${titleOf(data, source)}`)
  return bought.length > 0 ? bought.sort(byScore).slice(0, limit) : alsoViewed(data, limit)
}

/** Complements for the whole cart: items bought (or viewed) with its contents, summed over them. */
export const cartComplements: Recommender = (data, limit) => {
  const scores = new Map<string, Scored>()
  for (const source of data.context.cart) {
    const title = titleOf(data, source)
    const bought = similar(data, data.bought, source, `Goes with ${title} in your cart`)
    // Co-views say less about complements than co-purchases.
    const seen = similar(data, data.seen, source, `Shoppers who viewed ${title} also viewed this`).map((s) => ({
      ...s,
      score: s.score * 0.3,
    }))
    for (const s of [...bought, ...seen]) {
      const entry = scores.get(s.item)
      if (entry) {
        entry.score += s.score
        if (!entry.reasons.includes(s.reasons[0]!)) entry.reasons.push(s.reasons[0]!)
      } else scores.set(s.item, { ...s, reasons: [...s.reasons] })
    }
  }
  const inCart = new Set(data.context.cart)
  return orTrending(
    data,
    [...scores.values()].filter((s) => !inCart.has(s.item)),
    limit,
  )
}
