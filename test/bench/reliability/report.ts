// What each section found, printed as it is found and again as one summary table at the end.
import { formatTable } from '../load'

/** One promise tried, for the summary. */
export interface Outcome {
  name: string
  tried: string
  /** null: this stack cannot tell (the figure says why); not counted as broken. */
  held: boolean | null
  figure: string
}
const outcomes: Outcome[] = []
/** Records one promise tried and prints its line. */
export function report(o: Outcome): void {
  outcomes.push(o)
  console.log(`${o.held === null ? '-' : o.held ? '✓' : '✗'} ${o.name}: ${o.figure}`)
}

/** A count with thousands separators. */
export const int = (n: number) => Math.round(n).toLocaleString('en-US')

/** The summary table's word for `held`. */
export const verdict = (held: boolean | null) => (held === null ? 'n/a' : held ? 'yes' : 'no')

/** Prints every outcome as one table and the verdict line; returns how many promises broke. */
export function printSummary(seconds: number): number {
  console.log(`\n## summary (${seconds.toFixed(0)} s)`)
  console.log(
    formatTable(
      ['case', 'tried', 'held', 'figure'],
      outcomes.map((o) => [o.name, o.tried, verdict(o.held), o.figure]),
      'llll',
    ),
  )
  const broken = outcomes.filter((o) => o.held === false).length
  const unjudged = outcomes.filter((o) => o.held === null).length
  const judged = outcomes.length - unjudged
  const tail = unjudged > 0 ? ` (${unjudged} not judged on this stack)` : ''
  console.log(broken === 0 ? `\nall ${judged} promises held${tail}` : `\n${broken} of ${judged} promises broke${tail}`)
  return broken
}
