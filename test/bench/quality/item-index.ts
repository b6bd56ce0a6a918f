// What the baselines share: the train interactions as a sparse binary item index over the catalog, the
// query's position-weighted profile, and the answer every model gives: its best-scored items, filled to k.
import type { Interaction, Query, Ranker } from './protocol'

const integer = /^(0|[1-9]\d*)$/

/** Orders ids numerically when both are plain integers (MovieLens), else by code units. */
function compareIds(a: string, b: string): number {
  if (integer.test(a) && integer.test(b) && a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/** Train items by number of distinct users, most first, ties by item id. */
export function popularityOrder(train: Interaction[]): string[] {
  const users = new Map<string, Set<string>>()
  for (const r of train) users.set(r.item, (users.get(r.item) ?? new Set()).add(r.user))
  const count = (item: string) => users.get(item)?.size ?? 0
  return [...users.keys()].sort((a, b) => count(b) - count(a) || compareIds(a, b))
}

/** Sparse binary user-item matrix; index order is the fill order, so it also breaks score ties. */
export interface ItemIndex {
  /** Train items by popularity, then the catalog's items without train interactions, in catalog order. */
  items: string[]
  indexOf: Map<string, number>
  /** Items [0, trained) have train interactions. */
  trained: number
  /** 1 for the items an answer may hold: the catalog's (a train item outside it only informs the model). */
  inCatalog: Uint8Array
  /** Distinct item indices per user, in the order the users first appear in train. */
  userItems: Int32Array[]
  /** Distinct user indices per item. */
  itemUsers: Int32Array[]
}

/** The train interactions over the catalog as an ItemIndex. */
export function buildIndex(train: Interaction[], catalog: readonly string[]): ItemIndex {
  const popular = popularityOrder(train)
  const trainItems = new Set(popular)
  const items = [...popular, ...new Set(catalog.filter((item) => !trainItems.has(item)))]
  const indexOf = new Map(items.map((item, i) => [item, i]))
  const catalogItems = new Set(catalog)
  const byUser = new Map<string, Set<number>>()
  for (const r of train) byUser.set(r.user, (byUser.get(r.user) ?? new Set()).add(indexOf.get(r.item)!))
  const userItems = [...byUser.values()].map((set) => Int32Array.from(set))
  const users: number[][] = items.map(() => [])
  userItems.forEach((list, u) => list.forEach((i) => users[i]!.push(u)))
  return {
    items,
    indexOf,
    trained: popular.length,
    inCatalog: Uint8Array.from(items, (item) => (catalogItems.has(item) ? 1 : 0)),
    userItems,
    itemUsers: users.map((list) => Int32Array.from(list)),
  }
}

/** How a history is weighted: recency^p for the item at position p (0 = newest), for p < window only. */
export interface Recency {
  recency?: number
  window?: number
}

/**
 * The history's distinct indexed items with their weights, newest first. A repeated item takes its latest
 * position; positions count every distinct history item, known to the model or not, so that a position means the
 * same to every model.
 */
export function profile(
  index: ItemIndex,
  history: readonly Interaction[],
  { recency = 1, window = Number.POSITIVE_INFINITY }: Recency,
): { items: number[]; weights: number[] } {
  const seen = new Set<string>()
  const items: number[] = []
  const weights: number[] = []
  for (let t = history.length - 1; t >= 0 && seen.size < window; t--) {
    const item = history[t]!.item
    if (seen.has(item)) continue
    const weight = recency ** seen.size
    seen.add(item)
    const i = index.indexOf.get(item)
    if (i === undefined || weight === 0) continue
    items.push(i)
    weights.push(weight)
  }
  return { items, weights }
}

/** The `size` entries of `ids[0..count)` with the highest `score`, ties by lower id, best first. */
export function topByScore(ids: Int32Array, count: number, score: Float64Array, size: number): Int32Array {
  const s = (j: number) => score[j]!
  const worse = (a: number, b: number) => s(a) < s(b) || (s(a) === s(b) && a > b)
  // A min-heap of the best so far keeps this linear in `count`: most candidates lose to its root.
  const heap = new Int32Array(Math.max(0, Math.min(size, count)))
  const at = (p: number) => heap[p]!
  const swap = (a: number, b: number) => ([heap[a], heap[b]] = [at(b), at(a)])
  let length = 0
  for (let t = 0; t < count; t++) {
    const j = ids[t]!
    if (length < heap.length) {
      heap[length] = j
      let c = length++
      while (c > 0 && worse(at(c), at((c - 1) >> 1))) {
        swap(c, (c - 1) >> 1)
        c = (c - 1) >> 1
      }
    } else if (length > 0 && worse(at(0), j)) {
      heap[0] = j
      for (let p = 0, m = 1; m < length; p = m, m = 2 * p + 1) {
        if (m + 1 < length && worse(at(m + 1), at(m))) m += 1
        if (!worse(at(m), at(p))) break
        swap(p, m)
      }
    }
  }
  return heap.sort((a, b) => s(b) - s(a) || a - b)
}

/**
 * The query's answer: the best-scored of `candidates` (indices into `scores`), then index order (train
 * popularity, then catalog order) until there are k; never an excluded or non-catalog item. Fewer than k
 * only when the catalog minus the excluded items is smaller.
 */
export function answer(index: ItemIndex, query: Query, candidates: ArrayLike<number>, scores: Float64Array): string[] {
  const allowed = (j: number) => index.inCatalog[j] === 1 && !query.exclude.has(index.items[j]!)
  const ids = Int32Array.from(candidates).filter(allowed)
  const top = Array.from(topByScore(ids, ids.length, scores, query.k))
  const chosen = new Set(top)
  for (let j = 0; j < index.items.length && top.length < query.k; j++) if (!chosen.has(j) && allowed(j)) top.push(j)
  return top.map((j) => index.items[j]!)
}

/** One item's sparse row of an item-item model: the items it points to, with their weights. */
export interface Row {
  ids: Int32Array
  weights: Float64Array
}

/** A ranker over sparse item rows: score(j) = Σ recency^p · row(i)[j] over the history's weighted items i. */
export function sparseRanker(name: string, index: ItemIndex, rows: Row[], recency: Recency): Ranker {
  const scores = new Float64Array(index.items.length)
  // Marks, not score > 0: a weight that underflows to 0 must not list an item twice.
  const marked = new Uint8Array(index.items.length)
  return {
    name,
    rank(query) {
      const { items, weights } = profile(index, query.history, recency)
      const touched: number[] = []
      items.forEach((i, p) => {
        const row = rows[i]!
        for (let t = 0; t < row.ids.length; t++) {
          const j = row.ids[t]!
          if (!marked[j]) touched.push(j)
          marked[j] = 1
          scores[j]! += weights[p]! * row.weights[t]!
        }
      })
      const top = answer(index, query, touched, scores)
      for (const j of touched) scores[j] = marked[j] = 0
      return top
    },
  }
}
