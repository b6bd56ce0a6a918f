// Ingest must cost the same for a site's first event and its millionth: the statements that fold
// pending events into the model read them through the partial index of pending events only.
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { INDEX_SQL } from '../../worker/db'

/** SQLite's plan for `sql`, one line per step. */
const plan = async (sql: string) => {
  const params = Math.max(0, ...(sql.match(/\?\d+/g) ?? []).map((p) => Number(p.slice(1))))
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...Array.from({ length: params }, () => 1))
    .all<{ detail: string }>()
  return results.map((r) => r.detail)
}

describe('query plans', () => {
  for (const [name, sql] of Object.entries(INDEX_SQL)) {
    it(`${name} reads events only through the pending index`, async () => {
      const steps = (await plan(sql)).filter((d) => /\bevents\b/.test(d) && !/\bevents_/.test(d.replace(/USING .*/, '')))
      for (const step of steps) expect(step).toMatch(/events_pending|events_by_visitor/)
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
