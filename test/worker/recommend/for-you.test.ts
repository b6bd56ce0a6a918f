// "For you" over plain data: what shoppers opened next after the latest items, and the weight of the visit under way.
import { afterEach, describe, expect, it } from 'vitest'
import { FOR_YOU, type HistoryItem, type ModelData, VISIT_GAP_MS, visitLength } from '../../../worker/recommend/model'
import { forYou } from '../../../worker/recommend/strategies/for-you'

const NOW = Date.UTC(2026, 11, 2, 12)
const MINUTE = 60_000
const viewed = (item: string, ago: number): HistoryItem => ({
  item,
  lastTs: NOW - ago,
  views: 1,
  adds: 0,
  purchases: 0,
  rating: null,
  dismissed: false,
})
const lists = (entries: Array<[string, Array<[string, number]>]>) =>
  new Map(entries.map(([a, bs]) => [a, bs.map(([item, weight]) => ({ item, weight, support: 4 }))]))
const data = (history: HistoryItem[], more: Partial<ModelData> = {}): ModelData => ({
  now: NOW,
  history,
  seen: new Map(),
  bought: new Map(),
  next: new Map(),
  support: new Map(history.map((h) => [h.item, 4])),
  trending: [],
  catalog: new Map(),
  context: { cart: [] },
  ...more,
})
const defaults = structuredClone(FOR_YOU)
afterEach(() => Object.assign(FOR_YOU, defaults))

describe('for you', () => {
  it('adds what shoppers opened next after the latest item, weighted by FOR_YOU.next, with its reason', () => {
    // x→n in 2 of x's 4 shoppers: P(n | x) = 0.5; n is no co-view of x.
    const input = data([viewed('x', MINUTE)], { seen: lists([['x', [['s', 2]]]]), next: lists([['x', [['n', 2]]]]) })
    Object.assign(FOR_YOU, { next: 3, nextRecency: 0.5, visit: 1 })
    const picks = forYou(input, 5)
    expect(picks.map((p) => p.item)).toEqual(['n', 's'])
    // n: 3 × P(n | x) = 1.5; s: cosine 2 / √(4 · 4) = 0.5.
    expect(picks.map((p) => p.score)).toEqual([1.5, 0.5])
    expect(picks[0]!.reasons).toEqual(['Shoppers often look at this after x'])
    Object.assign(FOR_YOU, { next: 0 })
    expect(forYou(input, 5).map((p) => p.item)).toEqual(['s'])
  })

  it('reads transitions from the nextSources latest items only, each older one by nextRecency less', () => {
    const history = [viewed('x', MINUTE), viewed('y', 2 * MINUTE), viewed('z', 3 * MINUTE)]
    const next = lists([
      ['x', [['after-x', 1]]],
      ['y', [['after-y', 4]]],
      ['z', [['after-z', 4]]],
    ])
    Object.assign(FOR_YOU, { next: 1, nextRecency: 0.5, nextSources: 2, visit: 1 })
    const picks = forYou(data(history, { next }), 5)
    expect(picks.map((p) => [p.item, p.score])).toEqual([
      ['after-y', 0.5],
      ['after-x', 0.25],
    ])
  })

  it('weighs the items of the visit under way by FOR_YOU.visit', () => {
    // b, two days old, has the stronger co-view; a is of this visit.
    const input = data([viewed('a', MINUTE), viewed('b', 2 * 86_400_000)], {
      seen: lists([
        ['a', [['near-a', 2]]],
        ['b', [['near-b', 4]]],
      ]),
    })
    Object.assign(FOR_YOU, { recency: 0.7, visit: 1 })
    expect(forYou(input, 2).map((p) => p.item)).toEqual(['near-b', 'near-a'])
    Object.assign(FOR_YOU, { visit: 2 })
    expect(forYou(input, 2).map((p) => p.item)).toEqual(['near-a', 'near-b'])
  })

  it('adds the trending items of the favourite category, weighted by FOR_YOU.affinity', () => {
    const item = (id: string, category: string) => ({ id, title: id, category, price: 1, image: null, inStock: true })
    const input = data([viewed('x', MINUTE)], {
      catalog: new Map([
        ['x', item('x', 'tea')],
        ['tea-hit', item('tea-hit', 'tea')],
        ['pot-hit', item('pot-hit', 'pots')],
      ]),
      trending: [
        { item: 'pot-hit', score: 2, category: 'pots' },
        { item: 'tea-hit', score: 1, category: 'tea' },
      ],
    })
    Object.assign(FOR_YOU, { trendBlend: 0, affinity: 0 })
    expect(forYou(input, 5)).toEqual([])
    Object.assign(FOR_YOU, { affinity: 0.5 })
    // All of the shopper's interest is in tea: 0.5 × 1 × (1 / 2, tea-hit's trend against the hottest).
    expect(forYou(input, 5)).toEqual([
      { item: 'tea-hit', score: 0.25, reasons: ['Popular in tea, a category you like'] },
    ])
  })

  it('counts a visit back from now while no pause is longer than VISIT_GAP_MS', () => {
    const history = [viewed('a', MINUTE), viewed('b', 20 * MINUTE), viewed('c', 20 * MINUTE + VISIT_GAP_MS + 1)]
    expect(visitLength(history, NOW)).toBe(2)
    expect(visitLength(history, NOW + VISIT_GAP_MS)).toBe(0)
    expect(visitLength([], NOW)).toBe(0)
  })
})
