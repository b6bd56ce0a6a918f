// Ingest must cost the same for a site's first event and its millionth: the statements that fold
// pending events into the model read them through the partial index of pending events only, and
// never scan a shopper table.
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { INDEX_SQL } from '../../worker/events/fold'
import { HISTORY_SQL, SHARED_SQL } from '../../worker/recommend/store'
import { EXPERIMENT_FOLD_SQL } from '../../worker/experiments/store'

/** SQLite's plan for `sql`, one line per step. */
const plan = async (sql: string) => {
  const params = Math.max(0, ...(sql.match(/\?\d+/g) ?? []).map((p) => Number(p.slice(1))))
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...Array.from({ length: params }, () => 1))
    .all<{ detail: string }>()
  return results.map((r) => r.detail)
}

/** Tables that grow with the site, and what every plan step reading one must look like. */
const RULES: Record<string, RegExp> = {
  events: /^SEARCH \S+ USING (COVERING )?INDEX (events_pending|events_by_visitor) /,
  // An automatic index is built by reading the whole table, a scan in disguise.
  visitor_items: /^SEARCH \S+ USING (?!AUTOMATIC)/,
  visitors: /^SEARCH \S+ USING (?!AUTOMATIC)/,
}

const NOT_ALIASES = new Set([
  'as',
  'indexed',
  'not',
  'where',
  'on',
  'set',
  'using',
  'left',
  'join',
  'inner',
  'cross',
  'natural',
])

/** The names a plan may give `table` in `sql`: its own, and every alias it is read under. */
function namesOf(sql: string, table: string): Set<string> {
  const names = new Set([table])
  // The plan prints an alias, not the table (`SEARCH e USING ...` for `FROM events e`).
  for (const [, alias] of sql.matchAll(new RegExp(`\\b(?:FROM|JOIN|UPDATE)\\s+${table}\\s+(?:AS\\s+)?(\\w+)`, 'gi'))) {
    if (!NOT_ALIASES.has(alias!.toLowerCase())) names.add(alias!)
  }
  return names
}

describe('query plans', () => {
  for (const [name, sql] of Object.entries(INDEX_SQL)) {
    it(`${name} reads events only through the pending index and scans no shopper table`, async () => {
      const steps = await plan(sql)
      const read = Object.keys(RULES).filter((table) =>
        new RegExp(`\\b(?:FROM|JOIN|UPDATE)\\s+${table}\\b`, 'i').test(sql),
      )
      expect(read).toContain('events')
      for (const table of read) {
        const names = namesOf(sql, table)
        const checked = steps.filter((d) => names.has(/^(?:SCAN|SEARCH) (\S+)/.exec(d)?.[1] ?? ''))
        // A table the statement reads but no step names means the check missed it: fail, never pass empty.
        expect(checked.length, `steps reading ${table} in ${steps.join(' | ')}`).toBeGreaterThan(0)
        for (const step of checked) expect(step, `${table} read as ${[...names].join(' or ')}`).toMatch(RULES[table]!)
      }
    })
  }

  it('reaches decisions only by their primary key, not by walking the site', async () => {
    for (const sql of [INDEX_SQL.arms, INDEX_SQL.outcomes]) {
      const steps = (await plan(sql)).filter((d) => /^(SCAN|SEARCH) (decisions|d)\b/.test(d))
      expect(steps.length).toBeGreaterThan(0)
      for (const step of steps) expect(step).toMatch(/USING PRIMARY KEY \(site_id=\? AND id=\?\)/)
    }
  })
})

describe('query plans of what a recommendation reads of the customer', () => {
  // The browsers of a verified customer are found through the identity graph's indexes, and their
  // items by primary key: the cost follows the customer's own history, never the site's.
  const rule = /^SEARCH \S+ USING (COVERING )?(INDEX|PRIMARY KEY) (?!.*AUTOMATIC)/
  for (const [name, sql] of Object.entries(HISTORY_SQL)) {
    it(`${name} searches identities and visitor_items by index`, async () => {
      const steps = await plan(sql)
      for (const table of ['identities', 'visitor_items']) {
        const names = namesOf(sql, table)
        const checked = steps.filter((d) => names.has(/^(?:SCAN|SEARCH) (\S+)/.exec(d)?.[1] ?? ''))
        expect(checked.length, `steps reading ${table} in ${steps.join(' | ')}`).toBeGreaterThan(0)
        for (const step of checked) {
          expect(step).toMatch(rule)
          // A search keyed by the site alone walks every row of the site.
          expect(step).not.toMatch(/\(site_id=\?\)$/)
        }
      }
    })
  }
})

describe('query plans of the shared parts of an answer', () => {
  // Each part is a bounded index range (the top of a trend, newest or pair index) or a key, whatever
  // the catalog's size: no table walked, no site's rows sorted.
  const statements = {
    trending: SHARED_SQL.trending,
    categoryTrending: SHARED_SQL.categoryTrending,
    newest: SHARED_SQL.newest,
    item: SHARED_SQL.item,
    seenNeighbours: SHARED_SQL.neighbours('seen'),
    boughtNeighbours: SHARED_SQL.neighbours('bought'),
    nextNeighbours: SHARED_SQL.neighbours('next'),
  }
  for (const [name, sql] of Object.entries(statements)) {
    it(`${name} reads item_stats, items and item_pairs by index, with no sort`, async () => {
      const steps = await plan(sql)
      const reads = steps.filter((d) => /^(SCAN|SEARCH) (s|i|p|item_stats|items|item_pairs)\b/.test(d))
      expect(reads.length, steps.join(' | ')).toBeGreaterThan(0)
      for (const step of reads)
        expect(step).toMatch(/^SEARCH \S+ USING (COVERING )?(INDEX|PRIMARY KEY) (?!.*AUTOMATIC)/)
      expect(steps.join(' | ')).not.toMatch(/TEMP B-TREE/)
    })
  }
})

describe('query plans of the A/B rollup', () => {
  // Folded with every batch: pending events through their index, the exposed shoppers by browser,
  // their recommendations and stops by key; never a walk over the site's shoppers or answers.
  it('reads events through the pending index and every other table by a key narrower than the site', async () => {
    const steps = await plan(EXPERIMENT_FOLD_SQL)
    const rules: Record<string, RegExp> = {
      events: RULES.events!,
      experiment_shoppers: /^SEARCH \S+ USING (COVERING )?(INDEX|PRIMARY KEY) (?!.*AUTOMATIC)/,
      recommendations: /^SEARCH \S+ USING (COVERING )?(INDEX|PRIMARY KEY) (?!.*AUTOMATIC)/,
      experiment_stops: /^SEARCH \S+ USING (COVERING )?(INDEX|PRIMARY KEY) (?!.*AUTOMATIC)/,
    }
    for (const [table, rule] of Object.entries(rules)) {
      const names = namesOf(EXPERIMENT_FOLD_SQL, table)
      const checked = steps.filter((d) => names.has(/^(?:SCAN|SEARCH) (\S+)/.exec(d)?.[1] ?? ''))
      expect(checked.length, `steps reading ${table} in ${steps.join(' | ')}`).toBeGreaterThan(0)
      for (const step of checked) {
        expect(step, table).toMatch(rule)
        if (table !== 'events') expect(step, table).not.toMatch(/\(site_id=\?\)$/)
      }
    }
  })
})
