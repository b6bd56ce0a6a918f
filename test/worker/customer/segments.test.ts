import { describe, expect, it } from 'vitest'
import {
  churnRisk,
  DEFAULT_LIFECYCLE,
  lifecycle,
  quintile,
  rfmGroup,
  segmentOne,
  tierOf,
  type CustomerSummary,
  type Population,
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

// The cuts and thresholds come from SQL (populationStats, tested on ingested events in
// population.test.ts); here they are given, and only the rules applied to them are under test.
describe('quintile()', () => {
  it('scores 1-5, one more for every cut the value exceeds, a value equal to a cut not above it', () => {
    const cuts = [20, 40, 60, 80]
    expect([10, 20, 21, 40, 59, 60, 80, 81, 100].map((v) => quintile(v, cuts))).toEqual([1, 1, 2, 2, 3, 3, 4, 5, 5])
    expect([1, 5, 9].map((v) => quintile(v, [5, 5, 5, 5]))).toEqual([1, 1, 5])
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
    for (let r = 1; r <= 5; r++)
      for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) expect(rfmGroup(r, f, m)).toMatch(/^[a-z-]+$/)
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

describe('tierOf()', () => {
  it('places revenue against the least revenue of each tier', () => {
    const p: Population = {
      recency: [],
      frequency: [],
      monetary: [],
      tiers: { A: 500, B: 100, C: 30 },
      totalRevenue: 1000,
      medians: null,
    }
    expect([500, 200, 100, 80, 60, 30, 20, 10, 0, -5].map((r) => tierOf(r, p)).join('')).toBe('ABBCCCDDDD')
    const buyer = customer({ uid: 'c', orders: 1, revenue: 500, lastOrderAt: NOW })
    expect(segmentOne(buyer, p, NOW).reasons['tier-a']).toBe('50.0% of revenue; tier A starts at 500.00')
    expect(segmentOne({ ...buyer, revenue: 20 }, p, NOW).reasons['tier-d']).toBe(
      '2.0% of revenue: below the customers who make 95% of it',
    )
  })

  it('puts nobody in an empty tier', () => {
    const p: Population = {
      recency: [],
      frequency: [],
      monetary: [],
      tiers: { A: 90, B: Infinity, C: Infinity },
      totalRevenue: 100,
      medians: null,
    }
    expect([90, 10].map((r) => tierOf(r, p))).toEqual(['A', 'D'])
  })
})

describe('segmentOne()', () => {
  // The population of ten ordinary buyers and the four below, as populationStats and the value model give it.
  const population: Population = {
    recency: [NOW - 50 * DAY, NOW - 35 * DAY, NOW - 25 * DAY, NOW - 10 * DAY],
    frequency: [2, 3, 3, 4],
    monetary: [45, 60, 70, 85],
    tiers: { A: 300, B: 70, C: 45 },
    totalRevenue: 1855,
    medians: { current: 300, future: 150 },
  }
  const star = customer({
    uid: 'star',
    orders: 12,
    revenue: 900,
    lastOrderAt: NOW - 1 * DAY,
    predictedValue: 400,
    categories: { tea: 30, books: 5 },
  })
  const fading = customer({
    uid: 'fading',
    orders: 6,
    revenue: 300,
    lastOrderAt: NOW - 90 * DAY,
    lastSeen: NOW - 50 * DAY,
    predictedValue: 20,
    weeklyActivity: [6, 6, 5, 7, 6, 6, 5, 6, 0, 0],
  })
  const newbie = customer({
    uid: 'newbie',
    orders: 1,
    revenue: 30,
    lastOrderAt: NOW - 2 * DAY,
    firstSeen: NOW - 5 * DAY,
    predictedValue: 150,
    categories: { garden: 1, tea: 1, books: 1 },
  })
  const browser = customer({ uid: 'browser', categories: { kitchen: 10 } })

  it('gives each customer segments with reasons', () => {
    const result = segmentOne(star, population, NOW)
    expect(result.segments).toEqual(['rfm:champions', 'active', 'tier-a', 'value:keep', 'likes:tea'])
    expect(result.rfm).toEqual({ r: 5, f: 5, m: 5, group: 'champions' })
    expect(result.reasons['rfm:champions']).toBe('R5 F5 M5: last order 1 day ago, 12 orders, 900.00 spent')
    expect(result.reasons['tier-a']).toBe('48.5% of revenue; tier A starts at 300.00')
    expect(result.reasons['value:keep']).toBe('spent 900.00 (median 300.00), predicted 400.00 (median 150.00)')
    expect(result.reasons['likes:tea']).toBe('86% of their interest is in tea')
  })

  it('flags the drifting customer before they lapse', () => {
    const result = segmentOne(fading, population, NOW)
    expect(result.segments).toEqual(['rfm:cannot-lose-them', 'at-risk', 'churn-warning', 'tier-a', 'value:win-back'])
    expect(result.rfm).toEqual({ r: 1, f: 5, m: 5, group: 'cannot-lose-them' })
    expect(result.churnRisk).toBe(1)
    expect(result.reasons['churn-warning']).toBe('0.0 events/week lately against their usual 5.9 (-100%)')
  })

  it('keeps prospects out of RFM and puts them in the last tier', () => {
    const result = segmentOne(browser, population, NOW)
    expect(result.rfm).toBeNull()
    expect(result.quadrant).toBeNull()
    expect(result.segments).toEqual(['prospect', 'active', 'tier-d', 'likes:kitchen'])
  })

  it('has no lifestyle without a clear leaning', () => {
    const result = segmentOne(newbie, population, NOW)
    expect(result.lifestyle).toEqual([])
    expect(result.segments).toEqual(['rfm:new-customers', 'new', 'tier-d', 'value:grow'])
  })

  it('follows the lifecycle thresholds it is given', () => {
    expect(segmentOne(fading, population, NOW, { ...DEFAULT_LIFECYCLE, activeDays: 60 }).lifecycle).toBe('active')
  })
})
