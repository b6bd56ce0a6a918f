// HR@k and NDCG@k per case, so every difference between two models can be paired case by case; the summary by
// task (and tied or not), and the table the bench prints.
import { type Case, queryOf, type Ranker } from './protocol'
import { pairedBootstrap } from './stats'

/** One model's outcome on every case, in the order of the cases. */
export interface Outcomes {
  model: string
  /** 1 for a hit in the top k, else 0. */
  hits: number[]
  /** 1 / log2(rank + 1) for a hit, else 0. */
  gains: number[]
  /** Mean ms to answer one query. */
  msPerQuery: number
}

/** Ranks each distinct state of `cases` once, and scores every case against its state's list. */
export async function evaluate(ranker: Ranker, cases: Case[], k = 10): Promise<Outcomes> {
  const lists = new Map<string, string[]>()
  const start = performance.now()
  for (const c of cases) {
    if (lists.has(c.key)) continue
    const top = (await ranker.rank(queryOf(c, k))).slice(0, k)
    lists.set(c.key, top)
  }
  const msPerQuery = lists.size ? (performance.now() - start) / lists.size : 0
  return { model: ranker.name, ...scoreLists(cases, lists), msPerQuery }
}

/** Every case's hit and gain against its state's list (`lists` by case key, best first, cut at k). */
export function scoreLists(cases: Case[], lists: ReadonlyMap<string, string[]>): Pick<Outcomes, 'hits' | 'gains'> {
  const positions = cases.map((c) => lists.get(c.key)!.indexOf(c.target))
  return {
    hits: positions.map((p) => (p < 0 ? 0 : 1)),
    gains: positions.map((p) => (p < 0 ? 0 : 1 / Math.log2(p + 2))),
  }
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0)

/** Indices of the cases of one task, optionally only tied (or untied) ones. */
export const casesOf = (cases: Case[], task: string, tied?: boolean) =>
  cases.flatMap((c, i) => (c.task === task && (tied === undefined || c.tied === tied) ? [i] : []))

/** HR@k and NDCG@k of one model over the cases at `indices`. */
export const quality = (o: Outcomes, indices: number[]) => ({
  hr: mean(indices.map((i) => o.hits[i]!)),
  ndcg: mean(indices.map((i) => o.gains[i]!)),
})

/** A table row: a model's figures on one task and, unless it is the reference, its paired differences to it. */
export interface Row {
  model: string
  hr: number
  ndcg: number
  /** HR@k relative to the reference (mean ratio − 1) with its 95% interval. */
  relative?: { difference: number; low: number; high: number }
  /** HR@k difference to the reference with its 95% interval. */
  hrDifference?: { difference: number; low: number; high: number }
  ndcgDifference?: { difference: number; low: number; high: number }
  msPerQuery: number
}

/** The rows of one task: the reference first, then each other model with intervals of its difference to it. */
export function compare(reference: Outcomes, others: Outcomes[], indices: number[], samples = 2000): Row[] {
  const pick = (xs: number[]) => indices.map((i) => xs[i]!)
  const row = (o: Outcomes): Row => ({ model: o.model, ...quality(o, indices), msPerQuery: o.msPerQuery })
  return [
    row(reference),
    ...others.map((o) => {
      const hr = pairedBootstrap(pick(reference.hits), pick(o.hits), { samples })
      const ndcg = pairedBootstrap(pick(reference.gains), pick(o.gains), { samples })
      return {
        ...row(o),
        hrDifference: { difference: hr.difference, low: hr.low, high: hr.high },
        relative: { difference: hr.relative.value, low: hr.relative.low, high: hr.relative.high },
        ndcgDifference: { difference: ndcg.difference, low: ndcg.low, high: ndcg.high },
      }
    }),
  ]
}

const interval = (d: { difference: number; low: number; high: number } | undefined, digits: number, scale = 1) =>
  d
    ? `${(d.difference * scale).toFixed(digits)} [${(d.low * scale).toFixed(digits)}, ${(d.high * scale).toFixed(digits)}]`
    : ''

/** Aligned text table: model, HR@10, NDCG@10, the reference's lead with 95% intervals, ms per query. */
export function formatTable(rows: Row[]): string {
  const header = ['model', 'HR@10', 'NDCG@10', 'HR lead (ref − model)', 'ref / model − 1, %', 'NDCG lead', 'ms/query']
  const cells = rows.map((r) => [
    r.model,
    r.hr.toFixed(4),
    r.ndcg.toFixed(4),
    interval(r.hrDifference, 4),
    interval(r.relative, 1, 100),
    interval(r.ndcgDifference, 4),
    r.msPerQuery.toFixed(2),
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]?.length ?? 0)))
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}
