import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { logAnswer } from '../../../worker/recommend/answer-log'
import type { Arm } from '../../../worker/experiments/assign'

const SITE = 'answer-log'
const arm = (name: string, counted = true): Arm => ({ experimentId: 'exp-1', name, variant: null, counted })
const entry = (id: string, visitor: string | null, at: number) => ({
  id,
  visitor,
  strategy: 'trending',
  items: ['a', 'b'],
  at,
})

describe('the answer log', () => {
  it('writes the answers of one round together, with their A/B exposures, first exposure kept', async () => {
    const first = logAnswer(env.DB, SITE, entry('rec_1', 's1', 1000), arm('B'))
    // Joining an open round costs nothing now: the first answer's write carries them.
    await logAnswer(env.DB, SITE, entry('rec_2', 's1', 1001), arm('B'))
    await logAnswer(env.DB, SITE, entry('rec_3', null, 1002))
    await logAnswer(env.DB, SITE, entry('rec_4', 's2', 1003), arm('A', false))
    const before = await env.DB.prepare('SELECT COUNT(*) AS n FROM recommendations WHERE site_id = ?')
      .bind(SITE)
      .first('n')
    expect(before).toBe(0)
    await first
    const logged = await env.DB.prepare(
      'SELECT id, anonymous_id, strategy, items, created_at, experiment_id, variant FROM recommendations WHERE site_id = ? ORDER BY id',
    )
      .bind(SITE)
      .all()
    expect(logged.results).toEqual([
      {
        id: 'rec_1',
        anonymous_id: 's1',
        strategy: 'trending',
        items: '["a","b"]',
        created_at: 1000,
        experiment_id: 'exp-1',
        variant: 'B',
      },
      {
        id: 'rec_2',
        anonymous_id: 's1',
        strategy: 'trending',
        items: '["a","b"]',
        created_at: 1001,
        experiment_id: 'exp-1',
        variant: 'B',
      },
      {
        id: 'rec_3',
        anonymous_id: null,
        strategy: 'trending',
        items: '["a","b"]',
        created_at: 1002,
        experiment_id: null,
        variant: null,
      },
      // A request without a counted arm (no shopper id) is logged outside the experiment.
      {
        id: 'rec_4',
        anonymous_id: 's2',
        strategy: 'trending',
        items: '["a","b"]',
        created_at: 1003,
        experiment_id: null,
        variant: null,
      },
    ])
    const exposed = await env.DB.prepare(
      'SELECT experiment_id, anonymous_id, variant, first_at FROM experiment_shoppers WHERE site_id = ?',
    )
      .bind(SITE)
      .all()
    expect(exposed.results).toEqual([{ experiment_id: 'exp-1', anonymous_id: 's1', variant: 'B', first_at: 1000 }])
  })

  it('logs nothing for a browser erased before its round is written', async () => {
    await env.DB.prepare('INSERT INTO erased (site_id, anonymous_id, erased_at) VALUES (?, ?, ?)')
      .bind(SITE, 'gone', 1)
      .run()
    await logAnswer(env.DB, SITE, entry('rec_gone', 'gone', 2000), arm('A'))
    const rows = await env.DB.prepare(
      `SELECT (SELECT COUNT(*) FROM recommendations WHERE site_id = ?1 AND anonymous_id = 'gone') AS answers,
              (SELECT COUNT(*) FROM experiment_shoppers WHERE site_id = ?1 AND anonymous_id = 'gone') AS exposures`,
    )
      .bind(SITE)
      .first()
    expect(rows).toEqual({ answers: 0, exposures: 0 })
  })
})
