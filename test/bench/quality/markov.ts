// A first-order item-transition baseline: what users interact with next after an item.
import { buildIndex, type Recency, type Row, sparseRanker } from './item-index'
import { byUser, type Interaction, type Ranker } from './protocol'

/**
 * Each indexed item's row of transition probabilities count(i→j)/out(i), from every user's train sequence in
 * time order, a repeat of the same item merged. A user counts a transition once: a binary signal, like the
 * other models' user-item cells.
 */
export function transitionRows(train: Interaction[], indexOf: Map<string, number>, n: number): Row[] {
  const counts = Array.from({ length: n }, () => new Map<number, number>())
  for (const events of byUser(train).values()) {
    const sequence = events.map((r) => indexOf.get(r.item)!)
    const counted = new Set<string>()
    for (let t = 1; t < sequence.length; t++) {
      const [i, j] = [sequence[t - 1]!, sequence[t]!]
      if (i === j || counted.has(`${i} ${j}`)) continue
      counted.add(`${i} ${j}`)
      counts[i]!.set(j, (counts[i]!.get(j) ?? 0) + 1)
    }
  }
  return counts.map((next) => {
    const out = [...next.values()].reduce((sum, c) => sum + c, 0)
    return { ids: Int32Array.from(next.keys()), weights: Float64Array.from(next.values(), (c) => c / out) }
  })
}

/** Markov options: the history's position weighting. */
export type MarkovParams = Recency

/** Item transitions: score(j) = Σ recency^p · count(i→j)/out(i) over the history's newest distinct items i. */
export function markov(train: Interaction[], catalog: readonly string[], params: MarkovParams = {}): Ranker {
  const { recency = 0.5, window = 5 } = params
  return markovFit(train, catalog)({ recency, window })
}

/** One transition count and the rankers over it for any position weighting. */
export function markovFit(train: Interaction[], catalog: readonly string[]): (recency: Recency) => Ranker {
  const index = buildIndex(train, catalog)
  const rows = transitionRows(train, index.indexOf, index.items.length)
  return (recency) => sparseRanker('Markov', index, rows, recency)
}
