// HR@k and NDCG@k of a ranker on the held-out items, and the table they are printed in.
import type { Ranker, Rating } from './movielens'

/** Ranking quality over the evaluated users, and the wall time spent ranking. */
export interface Quality {
  hr: number
  ndcg: number
  users: number
  seconds: number
}

function seenByUser(train: Rating[]): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>()
  for (const r of train) {
    const set = seen.get(r.user) ?? new Set<string>()
    set.add(r.item)
    seen.set(r.user, set)
  }
  return seen
}

/** HR@k and NDCG@k of a ranker on held-out items, each user's train items being the seen ones. */
export async function evaluate(ranker: Ranker, train: Rating[], test: Map<string, Rating>, k = 10): Promise<Quality> {
  const seen = seenByUser(train)
  let hits = 0
  let gain = 0
  const start = performance.now()
  for (const [user, held] of test) {
    const top = (await ranker.rank(user, seen.get(user) ?? new Set(), k)).slice(0, k)
    const position = top.indexOf(held.item)
    if (position < 0) continue
    hits += 1
    gain += 1 / Math.log2(position + 2)
  }
  const seconds = (performance.now() - start) / 1000
  const users = test.size
  return { hr: users ? hits / users : 0, ndcg: users ? gain / users : 0, users, seconds }
}

/** Aligned text table: model, HR@10, NDCG@10, replay and scoring seconds. */
export function formatTable(
  rows: Array<{
    model: string
    hr: number
    ndcg: number
    replaySeconds: number
    scoringSeconds: number
  }>,
): string {
  const header = ['model', 'HR@10', 'NDCG@10', 'replay s', 'scoring s']
  const cells = rows.map((r) => [
    r.model,
    r.hr.toFixed(4),
    r.ndcg.toFixed(4),
    r.replaySeconds.toFixed(1),
    r.scoringSeconds.toFixed(1),
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]?.length ?? 0)))
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}
