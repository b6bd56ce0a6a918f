// 4. Bad input, the run: each case sent in turn, its answer judged, and D1 checked for writes.
import type { IngestResult, VistaEvent } from '../../../contract'
import type { LocalWorker } from '../../e2e/server'
import { formatTable } from '../load'
import { errorOf, type Answer } from './http'
import { oddButValid, refusals, type Case } from './input-cases'
import { int, report, verdict } from './report'

/** A case tried: `held` null when wrangler dev's proxy answered, so the Worker's own answer is unknown. */
interface Tried {
  c: Case
  answer: Answer
  problem: string | null
  held: boolean | null
}

/** The proxy's plain-text 500 when its upstream request fails (wrangler-dist/ProxyWorker.js). */
const PROXY_FAILURE = /^Error: Network connection lost\.$/

/** Row counts of every table of the app, in one query. */
async function tableCounts(worker: LocalWorker): Promise<Record<string, number>> {
  const tables = await worker.query<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
  )
  const sql = tables.map((t) => `(SELECT COUNT(*) FROM "${t.name}") AS "${t.name}"`).join(', ')
  return (await worker.query<Record<string, number>>(`SELECT ${sql}`))[0] ?? {}
}

/** Runs the cases in order; prints each. */
async function tryCases(cases: Case[]): Promise<Tried[]> {
  const results: Tried[] = []
  for (const c of cases) {
    const answer = await c.send().catch((error: unknown): Answer => ({ status: 0, body: String(error) }))
    if (c.proxyMayAnswer && answer.status === 500 && PROXY_FAILURE.test(answer.body)) {
      results.push({ c, answer, problem: null, held: null })
      continue
    }
    const error = errorOf(answer)
    let problem: string | null = null
    if (answer.status !== c.status) problem = `expected ${c.status}`
    else if (c.accepts === undefined && !error) problem = 'no JSON error field'
    else if (c.accepts !== undefined && c.status === 200 && answer.body.includes('accepted')) {
      const got = (JSON.parse(answer.body) as IngestResult).accepted
      if (got !== c.accepts) problem = `accepted ${got}, expected ${c.accepts}`
    }
    problem ??= (await c.verify?.()) ?? null
    results.push({ c, answer, problem, held: problem === null })
  }
  return results
}

const shortAnswer = (a: Answer) => {
  const error = errorOf(a)
  const text = error ?? a.body.replace(/\s+/g, ' ')
  return `${a.status || 'no answer'} ${text.length > 60 ? `${text.slice(0, 57)}…` : text}`
}

/** Sends every case, prints the table, and reports each case and what was written. */
export async function badInput(worker: LocalWorker, replay: VistaEvent[]): Promise<void> {
  const before = await tableCounts(worker)
  const refused = await tryCases(refusals(worker.url))
  const after = await tableCounts(worker)
  const changed = Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t])
  const odd = await tryCases(oddButValid(worker, replay))
  const [total] = await worker.query<{ n: number; d: number }>(
    "SELECT COUNT(*) AS n, COUNT(DISTINCT site_id || ' ' || id) AS d FROM events",
  )
  const expected = odd.reduce((n, r) => n + (r.c.accepts ?? 0), 0)
  const added = (total?.n ?? 0) - (after.events ?? 0)

  console.log(
    formatTable(
      ['case', 'sent', 'expected', 'answer', 'held'],
      [...refused, ...odd].map(({ c, answer, problem, held }) => [
        c.name,
        c.tried,
        String(c.status),
        shortAnswer(answer),
        verdict(held) + (problem ? `: ${problem}` : ''),
      ]),
      'llrll',
    ),
  )
  for (const { c, answer, problem, held } of [...refused, ...odd]) {
    const why =
      held === null
        ? " (wrangler dev's proxy answered; the Worker's answer is not visible)"
        : problem
          ? ` (${problem})`
          : ''
    report({ name: `input: ${c.name}`, tried: c.tried, held, figure: shortAnswer(answer) + why })
  }
  report({
    name: `input: ${refused.length} refusals wrote nothing`,
    tried: 'row counts of every table, before and after',
    held: changed.length === 0,
    figure:
      changed.length === 0
        ? `${Object.keys(before).length} tables unchanged`
        : `changed: ${changed.map((t) => `${t} ${before[t]}→${after[t]}`).join(', ')}`,
  })
  report({
    name: `input: ${odd.length} odd but valid requests stored once`,
    tried: 'events rows before and after, distinct ids',
    held: added === expected && total?.n === total?.d,
    figure: `+${added} rows for ${expected} new events; ${int(total?.n ?? 0)} rows, ${int(total?.d ?? 0)} distinct`,
  })
}
