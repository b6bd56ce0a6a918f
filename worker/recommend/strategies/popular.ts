// Recommenders that need no item-to-item data: trending, recently viewed, category affinity.
import { byScore, interest, type ModelData, type Recommender, type Scored } from '../model'

/** Hottest items by time-decayed popularity (the fallback that keeps every slot filled). */
export const trending: Recommender = (data, limit) =>
  data.trending.slice(0, limit).map(({ item, score, category, isNew }) => ({
    item,
    score,
    reasons: [
      isNew ? `New in ${category ?? 'the shop'}` : category ? `Popular in ${category} this week` : 'Popular this week',
    ],
  }))

/** What the shopper viewed lately, newest first. */
export const recentlyViewed: Recommender = (data, limit) =>
  data.history
    .filter((h) => h.views > 0 && h.item !== data.context.item)
    .slice(0, limit)
    .map((h, i) => ({ item: h.item, score: 1 / (i + 1), reasons: [`You viewed this ${ago(data.now - h.lastTs)}`] }))

/** The shopper's interest per category: their history weighted by event kind and recency, plus the page's category. */
export function categoryWeights(data: ModelData): Map<string, number> {
  const weights = new Map<string, number>()
  data.history.forEach((h, position) => {
    const category = data.catalog.get(h.item)?.category
    if (category) weights.set(category, (weights.get(category) ?? 0) + Math.max(0, interest(h, position)))
  })
  // The page being looked at right now counts as much as a strong recent interest.
  if (data.context.category) {
    weights.set(data.context.category, (weights.get(data.context.category) ?? 0) + 3)
  }
  return weights
}

/** Trending items in the categories the shopper (or the page) leans to: the cold-start answer. */
export const categoryAffinity: Recommender = (data, limit) => {
  const weights = categoryWeights(data)
  const total = [...weights.values()].reduce((a, b) => a + b, 0)
  if (total === 0) return trending(data, limit)
  const top = Math.max(...data.trending.map((t) => t.score), 1e-12)
  const scored: Scored[] = data.trending
    .filter((t) => t.category && weights.has(t.category))
    .map(({ item, score, category }) => ({
      item,
      score: (weights.get(category!)! / total) * (score / top),
      reasons: [`Popular in ${category}, a category you like`],
    }))
  return (scored.length > 0 ? scored.sort(byScore) : trending(data, limit)).slice(0, limit)
}

/** "just now", "5 minutes ago", "3 hours ago", "2 days ago". */
export function ago(ms: number): string {
  const minutes = Math.floor(ms / 60_000)
  if (minutes < 1) return 'just now'
  const [n, unit] =
    minutes < 60
      ? [minutes, 'minute']
      : minutes < 1440
        ? [Math.floor(minutes / 60), 'hour']
        : [Math.floor(minutes / 1440), 'day']
  return `${n} ${unit}${n === 1 ? '' : 's'} ago`
}
