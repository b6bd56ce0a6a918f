// The simple baselines of the quality bench: MostPopular and item kNN (EASE is in ease.ts).
import type { Ranker, Rating } from './movielens'
import { buildIndex, markSeen, popularityOrder, topByScore, type ItemIndex } from './item-index'

/** Recommends the most interacted-with train items the user has not seen. */
export function mostPopular(train: Rating[]): Ranker {
  const order = popularityOrder(train)
  return {
    name: 'MostPopular',
    rank(_user, seen, k) {
      const top: string[] = []
      for (const item of order) {
        if (top.length >= k) break
        if (!seen.has(item)) top.push(item)
      }
      return top
    },
  }
}

/** Each item's `size` most cosine-similar items (binary vectors) with their similarities. */
function neighbourLists(index: ItemIndex, size: number) {
  const n = index.items.length
  const overlap = new Float64Array(n)
  const sims = new Float64Array(n)
  const touched = new Int32Array(n)
  const ids: Int32Array[] = []
  const weights: Float32Array[] = []
  for (let i = 0; i < n; i++) {
    let count = 0
    for (const u of index.itemUsers[i] ?? []) {
      for (const j of index.userItems[u] ?? []) {
        if (j === i) continue
        if (overlap[j] === 0) touched[count++] = j
        overlap[j] = (overlap[j] ?? 0) + 1
      }
    }
    const ni = index.itemUsers[i]?.length ?? 0
    for (let t = 0; t < count; t++) {
      const j = touched[t] ?? 0
      sims[j] = (overlap[j] ?? 0) / Math.sqrt(ni * (index.itemUsers[j]?.length ?? 0))
      overlap[j] = 0
    }
    const top = topByScore(touched, count, sims, size)
    ids.push(Int32Array.from(top))
    weights.push(Float32Array.from(top, (j) => sims[j] ?? 0))
  }
  return { ids, weights }
}

/** Item kNN: score(j) = sum of cosine sim(i, j) over seen i having j among its top neighbours. */
export function itemKnn(train: Rating[], neighbours = 100): Ranker {
  const index = buildIndex(train)
  const n = index.items.length
  const { ids, weights } = neighbourLists(index, neighbours)
  const scores = new Float64Array(n)
  const excluded = new Uint8Array(n)
  const touched = new Int32Array(n)
  return {
    name: 'ItemKNN',
    rank(_user, seen, k) {
      const profile = markSeen(index, seen, excluded)
      let count = 0
      for (const i of profile) {
        const near = ids[i] ?? new Int32Array()
        const w = weights[i] ?? new Float32Array()
        for (let t = 0; t < near.length; t++) {
          const j = near[t] ?? 0
          if (excluded[j]) continue
          if (scores[j] === 0) touched[count++] = j
          scores[j] = (scores[j] ?? 0) + (w[t] ?? 0)
        }
      }
      const top = Array.from(topByScore(touched, count, scores, k))
      for (let t = 0; t < count; t++) scores[touched[t] ?? 0] = 0
      top.forEach((j) => (excluded[j] = 1))
      // Users whose neighbourhoods run dry still get k items: the most popular unseen ones.
      for (let j = 0; j < n && top.length < k; j++) if (!excluded[j]) top.push(j)
      profile.forEach((i) => (excluded[i] = 0))
      top.forEach((j) => (excluded[j] = 0))
      return top.map((j) => index.items[j] ?? '')
    },
  }
}
