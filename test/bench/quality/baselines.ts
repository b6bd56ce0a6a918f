// The simple baselines of the quality bench: MostPopular and item kNN (EASE is in ease.ts, the
// item-transition model in markov.ts).
import { answer, buildIndex, type ItemIndex, type Recency, type Row, sparseRanker, topByScore } from './item-index'
import type { Interaction, Ranker } from './protocol'

/** Recommends the catalog items with the most train users, then the rest in catalog order. */
export function mostPopular(train: Interaction[], catalog: readonly string[]): Ranker {
  const index = buildIndex(train, catalog)
  const none = new Float64Array(0)
  return { name: 'MostPopular', rank: (query) => answer(index, query, [], none) }
}

/** Each item's `size` most cosine-similar items (binary vectors) with their similarities. */
function neighbourRows(index: ItemIndex, size: number): Row[] {
  const n = index.items.length
  const overlap = new Float64Array(n)
  const sims = new Float64Array(n)
  const touched = new Int32Array(n)
  return index.itemUsers.map((users, i) => {
    let count = 0
    for (const u of users) {
      for (const j of index.userItems[u]!) {
        if (j === i) continue
        if (overlap[j] === 0) touched[count++] = j
        overlap[j]! += 1
      }
    }
    for (let t = 0; t < count; t++) {
      const j = touched[t]!
      sims[j] = overlap[j]! / Math.sqrt(users.length * index.itemUsers[j]!.length)
      overlap[j] = 0
    }
    const ids = topByScore(touched, count, sims, size)
    return { ids, weights: Float64Array.from(ids, (j) => sims[j]!) }
  })
}

/** Item kNN options: neighbours kept per item, and the history's position weighting (none by default). */
export interface KnnParams extends Recency {
  neighbours?: number
}

/** Item kNN: score(j) = Σ recency^p · cosine sim(i, j) over history items i having j among their top neighbours. */
export const itemKnn = (train: Interaction[], catalog: readonly string[], params: KnnParams = {}): Ranker =>
  itemKnnFit(train, catalog, params)(params)

/** One item-kNN fit and the rankers over it for any position weighting. */
export function itemKnnFit(
  train: Interaction[],
  catalog: readonly string[],
  { neighbours = 100 }: Pick<KnnParams, 'neighbours'> = {},
): (recency: Recency) => Ranker {
  const index = buildIndex(train, catalog)
  const rows = neighbourRows(index, neighbours)
  return (recency) => sparseRanker('ItemKNN', index, rows, recency)
}
