// What the baselines share: the train ratings as a sparse item index in popularity order, and top-k
// selection by score.
import type { Rating } from './movielens'

const integer = /^(0|[1-9]\d*)$/

/** Orders ids numerically when both are plain integers (MovieLens), else by code units. */
function compareIds(a: string, b: string): number {
  if (integer.test(a) && integer.test(b) && a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/** Items by number of train interactions, most first, ties by item id. */
export function popularityOrder(train: Rating[]): string[] {
  const counts = new Map<string, number>()
  for (const r of train) counts.set(r.item, (counts.get(r.item) ?? 0) + 1)
  return [...counts.keys()].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || compareIds(a, b))
}

/** Sparse binary user-item matrix; item indices follow popularity, so index order breaks ties. */
export interface ItemIndex {
  items: string[]
  indexOf: Map<string, number>
  /** Distinct item indices per user. */
  userItems: Int32Array[]
  /** Distinct user indices per item. */
  itemUsers: Int32Array[]
}

/** The train ratings as an ItemIndex. */
export function buildIndex(train: Rating[]): ItemIndex {
  const items = popularityOrder(train)
  const indexOf = new Map(items.map((item, i) => [item, i]))
  const byUser = new Map<string, Set<number>>()
  for (const r of train) {
    const set = byUser.get(r.user) ?? new Set<number>()
    set.add(indexOf.get(r.item) ?? 0)
    byUser.set(r.user, set)
  }
  const userItems = [...byUser.values()].map((set) => Int32Array.from(set))
  const users: number[][] = items.map(() => [])
  userItems.forEach((list, u) => list.forEach((i) => users[i]?.push(u)))
  return { items, indexOf, userItems, itemUsers: users.map((list) => Int32Array.from(list)) }
}

/** The `size` entries of `ids[0..count)` with the highest `score`, ties by lower id, best first. */
export function topByScore(ids: Int32Array, count: number, score: Float64Array, size: number): Int32Array {
  const s = (j: number) => score[j] ?? 0
  const worse = (a: number, b: number) => s(a) < s(b) || (s(a) === s(b) && a > b)
  // A min-heap of the best so far keeps this linear in `count`: most candidates lose to its root.
  const heap = new Int32Array(Math.min(size, count))
  const at = (p: number) => heap[p] ?? 0
  const swap = (a: number, b: number) => ([heap[a], heap[b]] = [at(b), at(a)])
  let length = 0
  for (let t = 0; t < count; t++) {
    const j = ids[t] ?? 0
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

/** The indexes of the user's seen items, each also marked in `excluded`. */
export function markSeen(index: ReturnType<typeof buildIndex>, seen: Set<string>, excluded: Uint8Array): number[] {
  const profile: number[] = []
  for (const item of seen) {
    const i = index.indexOf.get(item)
    if (i !== undefined) profile.push(i)
  }
  profile.forEach((i) => (excluded[i] = 1))
  return profile
}
