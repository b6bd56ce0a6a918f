import { describe, expect, it } from 'vitest'
import { casesOf, compare, evaluate, formatTable, quality } from './metrics'
import { type Interaction, type Kind, lastTwoVisits, leaveLastTwoOut, queryOf, type Ranker } from './protocol'

let line = 0
/** An interaction at `seconds`, with an explicit tie key. */
const did = (
  user: string,
  item: string,
  seconds: number,
  kind: Kind = 'rate',
  session = 's',
  tie = 0,
): Interaction => ({
  user,
  item,
  kind,
  ts: seconds * 1000,
  session: `${user}-${session}`,
  tie,
  line: line++,
})
const items = (list: Interaction[]) => list.map((i) => `${i.user}:${i.item}`)

describe('leaveLastTwoOut', () => {
  const u1 = [
    did('u1', 'a', 1),
    did('u1', 'b', 2),
    did('u1', 'c', 3, 'rate', 's', 0.9),
    did('u1', 'd', 3, 'rate', 's', 0.1),
  ]
  const u2 = [did('u2', 'a', 5), did('u2', 'b', 6)]
  const race = leaveLastTwoOut([...u1, ...u2].reverse())

  it('holds out the last interaction for test and the one before for validation, ties ordered by the drawn key', () => {
    expect(race.test.cases.map((c) => [c.user, c.target, c.tied])).toEqual([['u1', 'c', true]])
    expect(race.validation.cases.map((c) => [c.user, c.target, c.tied])).toEqual([['u1', 'd', true]])
    expect(race.validation.cases[0]!.history.map((i) => i.item)).toEqual(['a', 'b'])
    expect(race.test.cases[0]!.history.map((i) => i.item)).toEqual(['a', 'b', 'd'])
  })

  it('trains validation without either target, test with the validation target, and users under 3 whole', () => {
    expect(items(race.validation.train)).toEqual(['u1:a', 'u1:b', 'u2:a', 'u2:b'])
    expect(items(race.test.train)).toEqual(['u1:a', 'u1:b', 'u1:d', 'u2:a', 'u2:b'])
  })

  it('asks each model the same query: the history, every item of it excluded, just after its last event', () => {
    const query = queryOf(race.test.cases[0]!, 10)
    expect(query).toMatchObject({ user: 'u1', k: 10, now: 4000 })
    expect([...query.exclude]).toEqual(['a', 'b', 'd'])
  })
})

describe('lastTwoVisits', () => {
  const visits = [
    did('v', 'a', 1, 'view', '1'),
    did('v', 'b', 2, 'view', '1'),
    did('v', 'c', 100, 'view', '2'),
    did('v', 'd', 101, 'view', '2'),
    did('v', 'd', 102, 'add', '2'),
    did('v', 'e', 200, 'view', '3'),
    did('v', 'a', 201, 'view', '3'),
    did('v', 'f', 202, 'view', '3'),
    did('v', 'f', 203, 'add', '3'),
    did('w', 'a', 1, 'view', '1'),
    did('w', 'b', 2, 'view', '2'),
  ]
  const race = lastTwoVisits(visits)
  const summary = (split: typeof race.test) =>
    split.cases.map((c) => `${c.key} ${c.task} ${c.target} after ${c.history.map((i) => i.item).join('')}`)

  it('scores each state of the last two visits: the next new item viewed and the next new item added', () => {
    expect(summary(race.validation)).toEqual([
      'v/validation/0 next viewed d after abc',
      'v/validation/0 next added d after abc',
    ])
    // After e the next view (a) is not new; f is both the next new view and the next new add after a.
    expect(summary(race.test)).toEqual([
      'v/test/0 next added f after abcdde',
      'v/test/1 next viewed f after abcddea',
      'v/test/1 next added f after abcddea',
    ])
  })

  it('trains validation on the visits before both, test on all but the last; users with under 3 visits whole', () => {
    expect(items(race.validation.train)).toEqual(['v:a', 'w:a', 'v:b', 'w:b'])
    expect(items(race.test.train)).toEqual(['v:a', 'w:a', 'v:b', 'w:b', 'v:c', 'v:d', 'v:d'])
  })
})

describe('evaluate and compare', () => {
  const u = (user: string, target: string, task = 't') => ({
    key: user,
    user,
    task,
    history: [did(user, 'seen', 1)],
    target,
    tied: user === 'u4',
  })
  const cases = [u('u1', 'x'), u('u2', 'y'), u('u3', 'z'), u('u4', 'x', 'other'), u('u1', 'q', 'other')]
  const lists: Record<string, string[]> = { u1: ['x', 'p', 'q'], u2: ['p', 'q', 'y'], u3: ['p'], u4: ['x'] }
  const asked: string[] = []
  const fixed = (name: string, shift = false): Ranker => ({
    name,
    rank(query) {
      asked.push(`${name}:${query.user}:${[...query.exclude].join()}`)
      const list = lists[query.user] ?? []
      return shift ? [...list.slice(1), ...list.slice(0, 1)] : list
    },
  })

  it('ranks each state once and scores every case of it, cut at k', async () => {
    asked.length = 0
    const o = await evaluate(fixed('A'), cases, 2)
    expect(asked).toEqual(['A:u1:seen', 'A:u2:seen', 'A:u3:seen', 'A:u4:seen'])
    // u1 hits x at rank 1 and q at rank 3 (cut); u2's y is at rank 3 (cut); u4 hits at rank 1.
    expect(o.hits).toEqual([1, 0, 0, 1, 0])
    expect(o.gains).toEqual([1, 0, 0, 1, 0])
  })

  it('reports each task apart, tied and untied apart, with NDCG discounting by rank', async () => {
    const o = await evaluate(fixed('A'), cases)
    expect(quality(o, casesOf(cases, 't'))).toEqual({ hr: 2 / 3, ndcg: (1 + 0.5) / 3 })
    expect(quality(o, casesOf(cases, 'other', true))).toEqual({ hr: 1, ndcg: 1 })
    expect(quality(o, casesOf(cases, 'other', false))).toEqual({ hr: 1, ndcg: 0.5 })
    expect(quality(o, [])).toEqual({ hr: 0, ndcg: 0 })
  })

  it('pairs each model with the reference case by case, with intervals of the difference', async () => {
    const a = await evaluate(fixed('A'), cases)
    const b = await evaluate(fixed('B', true), cases)
    const rows = compare(a, [b], casesOf(cases, 't'), 200)
    expect(rows.map((r) => [r.model, r.hr])).toEqual([
      ['A', 2 / 3],
      ['B', 2 / 3],
    ])
    // B moves u1's x from rank 1 to 3 and u2's y from 3 to 2.
    expect(rows[1]!.ndcgDifference!.difference).toBeCloseTo((1 + 0.5 - 0.5 - 1 / Math.log2(3)) / 3, 12)
    expect(rows[1]!.hrDifference).toEqual({ difference: 0, low: 0, high: 0 })
    const table = formatTable(rows).split('\n')
    expect(table[0]).toMatch(/^model\s+HR@10\s+NDCG@10\s+HR lead/)
    expect(table[3]).toMatch(/^B\s+0\.6667\s+0\.3770\s+0\.0000 \[0\.0000, 0\.0000\]\s+0\.0 \[0\.0, 0\.0\]/)
  })
})
