import { describe, expect, it } from 'vitest'
import {
  churnRisk,
  DEFAULT_LIFECYCLE,
  lifecycle,
  microSegment,
  population,
  quintile,
  quintileCuts,
  quintiles,
  rfmGroup,
  segment,
  segmentOne,
  tierOf,
  type CustomerSummary,
} from '../../../worker/customer/segments'

const DAY = 24 * 3600_000
const NOW = Date.UTC(2026, 10, 23)
const customer = (over: Partial<CustomerSummary> & { uid: string }): CustomerSummary => ({
  firstSeen: NOW - 300 * DAY,
  lastSeen: NOW - DAY,
  orders: 0,
  revenue: 0,
  lastOrderAt: null,
  weeklyActivity: [],
  previousGapDays: 0,
  categories: {},
  ...over,
})

describe('quintiles()', () => {
  it('scores 1-5 by rank, ties alike', () => {
    expect(quintiles([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    expect(quintiles([5, 5, 5, 5])).toEqual([1, 1, 1, 1])
    expect(quintiles([3, 1, 2])).toEqual([4, 1, 2])
  })
})

describe('rfmGroup()', () => {
  it.each([
    [5, 5, 5, 'champions'],
    [4, 5, 5, 'champions'],
    [4, 4, 4, 'loyal'],
    [3, 5, 4, 'loyal'],
    [5, 2, 3, 'potential-loyalists'],
    [5, 1, 1, 'new-customers'],
    [4, 1, 1, 'promising'],
    [3, 3, 3, 'need-attention'],
    [3, 1, 2, 'about-to-sleep'],
    [1, 5, 5, 'cannot-lose-them'],
    [2, 4, 3, 'at-risk-customers'],
    [2, 1, 2, 'hibernating'],
    [1, 1, 1, 'lost'],
  ])('R%i F%i M%i is %s', (r, f, m, group) => expect(rfmGroup(r, f, m)).toBe(group))

  it('names every one of the 125 score combinations', () => {
    for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) expect(rfmGroup(r, f, m)).toMatch(/^[a-z-]+$/)
  })
})

describe('lifecycle()', () => {
  it.each([
    ['new', { firstSeen: NOW - 10 * DAY, lastSeen: NOW - DAY }, /first seen 10 days ago/],
    ['active', { lastSeen: NOW - 20 * DAY }, /active 20 days ago/],
    ['at-risk', { lastSeen: NOW - 60 * DAY }, /no activity for 60 days \(over 45\)/],
    ['lapsed', { lastSeen: NOW - 200 * DAY }, /over 120/],
    ['reactivated', { lastSeen: NOW - 2 * DAY, previousGapDays: 150 }, /back after 150 days/],
    ['active', { firstSeen: NOW - 10 * DAY, orders: 3 }, /active/],
  ] as const)('%s for %j', (stage, over, reason) => {
    const result = lifecycle(customer({ uid: 'c', ...over }), DEFAULT_LIFECYCLE, NOW)
    expect(result.stage).toBe(stage)
    expect(result.reason).toMatch(reason)
  })

  it('follows the thresholds a marketer sets', () => {
    const c = customer({ uid: 'c', lastSeen: NOW - 60 * DAY })
    expect(lifecycle(c, { ...DEFAULT_LIFECYCLE, activeDays: 90 }, NOW).stage).toBe('active')
  })
})

describe('churnRisk()', () => {
  it("compares recent weeks with the shopper's own usual level", () => {
    const steady = churnRisk([4, 4, 4, 4, 4, 4, 4, 4, 4, 4])!
    expect(steady.risk).toBe(0)
    const fading = churnRisk([4, 4, 4, 4, 4, 4, 4, 4, 1, 0])!
    expect(fading.risk).toBeCloseTo(1 - 0.5 / 4)
    expect(fading.reason).toBe('0.5 events/week lately against their usual 4.0 (-88%)')
  })

  it('warns a light shopper at their own scale, not a global one', () => {
    // 1.5 events a week is low for anyone, but it is this shopper's normal.
    expect(churnRisk([1, 2, 1, 2, 1, 2, 1, 2, 1, 2])!.risk).toBe(0)
    expect(churnRisk([20, 20, 20, 20, 20, 20, 20, 20, 2, 1])!.risk).toBeGreaterThan(0.9)
  })

  it('says nothing without enough history or activity', () => {
    expect(churnRisk([5, 0])).toBeNull()
    expect(churnRisk([0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).toBeNull()
  })
})

describe('population() and tierOf()', () => {
  it('splits customers by cumulative share of revenue (Pareto)', () => {
    const revenue = [500, 200, 100, 80, 60, 30, 20, 10, 0]
    const people = revenue.map((r, i) => customer({ uid: `c${i}`, revenue: r, orders: r > 0 ? 1 : 0, lastOrderAt: r > 0 ? NOW : null }))
    const p = population(people)
    expect(p.tiers).toEqual({ A: 500, B: 100, C: 30 })
    expect(revenue.map((r) => tierOf(r, p)).join('')).toBe('ABBCCCDDD')
    expect(segmentOne(people[0]!, p, NOW).reasons['tier-a']).toBe('50.0% of revenue; tier A starts at 500.00')
  })

  it('has quintile cuts that reproduce quintiles()', () => {
    const values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    const cuts = quintileCuts(values)
    expect(values.map((v) => quintile(v, cuts))).toEqual(quintiles(values))
  })
})

describe('segment()', () => {
  // Ten ordinary buyers around the named ones, so quintiles have a population to rank in.
  const ordinary = Array.from({ length: 10 }, (_, i) =>
    customer({ uid: `o${i}`, orders: 2 + (i % 3), revenue: 40 + 5 * i, lastOrderAt: NOW - (10 + 5 * i) * DAY }),
  )
  const people = [
    ...ordinary,
    customer({ uid: 'star', orders: 12, revenue: 900, lastOrderAt: NOW - 1 * DAY, predictedValue: 400, categories: { tea: 30, books: 5 } }),
    customer({ uid: 'fading', orders: 6, revenue: 300, lastOrderAt: NOW - 90 * DAY, lastSeen: NOW - 50 * DAY, predictedValue: 20, weeklyActivity: [6, 6, 5, 7, 6, 6, 5, 6, 0, 0] }),
    customer({ uid: 'newbie', orders: 1, revenue: 30, lastOrderAt: NOW - 2 * DAY, firstSeen: NOW - 5 * DAY, predictedValue: 150, categories: { garden: 1, tea: 1, books: 1 } }),
    customer({ uid: 'browser', categories: { kitchen: 10 } }),
  ]
  const result = segment(people, NOW)

  it('gives each customer segments with reasons', () => {
    const star = result.get('star')!
    expect(star.segments).toEqual(['rfm:champions', 'active', 'tier-a', 'value:keep', 'likes:tea'])
    expect(star.reasons['rfm:champions']).toBe('R5 F5 M5: last order 1 day ago, 12 orders, 900.00 spent')
    expect(star.reasons['likes:tea']).toBe('86% of their interest is in tea')
  })

  it('flags the drifting customer before they lapse', () => {
    const fading = result.get('fading')!
    expect(fading.segments).toEqual(expect.arrayContaining(['at-risk', 'churn-warning', 'value:win-back']))
    expect(fading.rfm!.group).toBe('cannot-lose-them')
    expect(fading.churnRisk).toBe(1)
  })

  it('keeps prospects out of RFM and puts them in the last tier', () => {
    const browser = result.get('browser')!
    expect(browser.rfm).toBeNull()
    expect(browser.segments).toEqual(['prospect', 'active', 'tier-d', 'likes:kitchen'])
  })

  it('has no lifestyle without a clear leaning', () => {
    expect(result.get('newbie')!.lifestyle).toEqual([])
    expect(result.get('newbie')!.segments).toContain('value:grow')
  })
})

describe('microSegment()', () => {
  it('keys an overlap of segments whatever their order', () => {
    expect(microSegment(['likes:tea', 'at-risk', 'tier-a'])).toBe(microSegment(['tier-a', 'likes:tea', 'at-risk']))
  })
})
