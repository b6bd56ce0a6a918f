import { describe, expect, it } from 'vitest'
import type { Experiment } from '../../../worker/experiments/config'
import { compare, experimentReport, meanAndError, normalQuantile } from '../../../worker/experiments/report'
import type { ArmCounts } from '../../../worker/experiments/store'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 11, 1)
const experiment = (over: Partial<Experiment> = {}): Experiment => ({
  id: 'exp',
  slot: 'home',
  variants: [
    { name: 'A', strategy: 'trending', weight: 1 },
    { name: 'B', strategy: 'also-viewed', weight: 1 },
  ],
  holdout: 0,
  status: 'running',
  createdAt: NOW - 9 * DAY,
  startedAt: NOW - 8 * DAY,
  stoppedAt: null,
  ...over,
})
/** An arm's sums from its shoppers' revenues (one order each when above 0). */
const arm = (variant: string, revenues: number[]): ArmCounts => ({
  variant,
  shoppers: revenues.length,
  impressions: 0,
  clicks: 0,
  orders: revenues.filter((r) => r > 0).length,
  converted: revenues.filter((r) => r > 0).length,
  revenue: revenues.reduce((s, r) => s + r, 0),
  revenue_sq: revenues.reduce((s, r) => s + r * r, 0),
  attributed_orders: 0,
  attributed_revenue: 0,
})
/** An arm of n shoppers whose revenue has this mean and sample variance: Σx = n·mean, Σx² = (n-1)·var + n·mean². */
const moments = (variant: string, n: number, mean: number, variance: number): ArmCounts => ({
  ...arm(variant, []),
  shoppers: n,
  revenue: n * mean,
  revenue_sq: (n - 1) * variance + n * mean * mean,
})

describe('normalQuantile()', () => {
  it('matches the tables to six decimals', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9)
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6)
    // Bonferroni over 2 and 3 comparisons at 5%.
    expect(normalQuantile(1 - 0.05 / 4)).toBeCloseTo(2.241403, 6)
    expect(normalQuantile(1 - 0.05 / 6)).toBeCloseTo(2.39398, 5)
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 6)
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232, 6)
  })
})

describe('meanAndError()', () => {
  it('gives the mean and the squared standard error from n, Σx and Σx²', () => {
    // [0, 0, 10, 20]: mean 7.5, sample variance (500 - 4·7.5²) / 3 = 91.67, se² = 91.67 / 4.
    const { mean, se2 } = meanAndError(4, 30, 500)
    expect(mean).toBe(7.5)
    expect(se2).toBeCloseTo(275 / 3 / 4, 12)
    expect(meanAndError(1, 5, 25)).toEqual({ mean: 5, se2: null })
    expect(meanAndError(0, 0, 0)).toEqual({ mean: 0, se2: null })
  })
})

describe('compare()', () => {
  it("computes Welch's difference and the delta method's lift by hand on four shoppers each", () => {
    const c = compare(arm('B', [0, 10, 20, 30]), arm('A', [0, 0, 10, 20]), 1, true)
    // A: mean 7.5, se² 22.917; B: mean 15, se² 41.667.
    const [seA2, seB2] = [275 / 3 / 4, 500 / 3 / 4]
    const z = 1.959964
    const seD = Math.sqrt(seA2 + seB2) // 8.0364
    expect(c.difference.value).toBe(7.5)
    expect(c.difference.interval![0]).toBeCloseTo(7.5 - z * seD, 5) // -8.2512
    expect(c.difference.interval![1]).toBeCloseTo(7.5 + z * seD, 5) // 23.2512
    // Var(B/A) ≈ se_B²/μA² + μB²·se_A²/μA⁴ = 0.7407 + 1.6296 = 2.3704
    const seL = Math.sqrt(seB2 / 7.5 ** 2 + (15 ** 2 * seA2) / 7.5 ** 4)
    expect(c.lift!.value).toBe(1)
    expect(c.lift!.interval![0]).toBeCloseTo(1 - z * seL, 5) // -2.0176
    expect(c.lift!.interval![1]).toBeCloseTo(1 + z * seL, 5) // 4.0176
    expect(c.significant).toBe(false)
    expect(c.verdict).toBe('B against A: no significant difference on revenue per shopper, +100% [-202%, 402%]')
  })

  it('finds a known +20% lift significant: means 10 and 12, variance 100, 1,000 shoppers each', () => {
    const c = compare(moments('B', 1000, 12, 100), moments('A', 1000, 10, 100), 1, true)
    // se² of each mean 0.1: difference 2 ± 1.96·√0.2 = [1.1235, 2.8765];
    // lift 0.2, Var = 0.1/100 + 144·0.1/10⁴ = 0.00244: 0.2 ± 1.96·0.049396 = [0.1032, 0.2968].
    expect(c.difference.interval![0]).toBeCloseTo(1.123477, 5)
    expect(c.difference.interval![1]).toBeCloseTo(2.876523, 5)
    expect(c.lift!.value).toBeCloseTo(0.2, 12)
    expect(c.lift!.interval![0]).toBeCloseTo(0.103184, 5)
    expect(c.lift!.interval![1]).toBeCloseTo(0.296816, 5)
    expect(c.significant).toBe(true)
    expect(c.verdict).toBe('B beats A on revenue per shopper, +20% [10%, 30%]')
    const worse = compare(moments('B', 1000, 8, 100), moments('A', 1000, 10, 100), 1, true)
    // Var = 0.1/100 + 64·0.1/10⁴ = 0.00164: -0.2 ± 1.96·0.040497 = [-0.2794, -0.1206].
    expect(worse.verdict).toBe('B trails A on revenue per shopper, -20% [-28%, -12%]')
  })

  it('widens the intervals by Bonferroni with more than one comparison', () => {
    const c = compare(moments('B', 1000, 12, 100), moments('A', 1000, 10, 100), 2, true)
    expect(c.level).toBe(0.975)
    expect(c.difference.interval![0]).toBeCloseTo(2 - 2.241403 * Math.sqrt(0.2), 5)
  })

  it('says the difference in money while the control has no revenue', () => {
    const c = compare(moments('B', 1000, 2, 4), moments('A', 1000, 0, 0), 1, true)
    expect(c.lift).toBeNull()
    // 2 ± 1.96·√(4/1000)
    expect(c.verdict).toBe('B beats A on revenue per shopper, +2.00 [1.88, 2.12]')
  })
})

describe('experimentReport()', () => {
  it('says "not yet significant" before the fixed horizon, however large the effect', () => {
    const counts = [moments('A', 1000, 10, 100), moments('B', 1000, 20, 100)]
    const early = experimentReport(experiment({ startedAt: NOW - 2 * DAY }), counts, NOW)
    expect(early.ready).toBe(false)
    expect(early.verdict).toBe('not yet significant')
    expect(early.waiting).toBe('the fixed horizon needs 7 days (ran 2)')
    expect(early.comparisons[0]!.significant).toBe(false)
    const small = experimentReport(experiment(), [moments('A', 999, 10, 100), moments('B', 1000, 20, 100)], NOW)
    expect(small.waiting).toBe('the fixed horizon needs 1000 shoppers in every variant (the smallest has 999)')
    const ready = experimentReport(experiment(), counts, NOW)
    expect(ready).toMatchObject({ ready: true, waiting: null, days: 8 })
    // Var = 0.1/100 + 400·0.1/10⁴ = 0.005: 1 ± 1.96·0.070711 = [0.8614, 1.1386].
    expect(ready.verdict).toBe('B beats A on revenue per shopper, +100% [86%, 114%]')
  })

  it('lists every variant and the holdout, with rates and 95% intervals, zeros for an arm nobody reached', () => {
    const report = experimentReport(
      experiment({ holdout: 0.2 }),
      [{ ...arm('A', [0, 0, 10, 20]), impressions: 8, clicks: 2, attributed_orders: 1, attributed_revenue: 10 }],
      NOW,
    )
    expect(report.arms.map((a) => a.name)).toEqual(['A', 'B', 'holdout'])
    const [a, b, holdout] = report.arms
    expect(a).toMatchObject({
      shoppers: 4,
      ctr: 0.25,
      orders: 2,
      revenue: 30,
      attributedOrders: 1,
      attributedRevenue: 10,
    })
    // Conversion 2 of 4: 0.5 ± 1.96·√(0.25/4)
    expect(a!.conversion.value).toBe(0.5)
    expect(a!.conversion.interval![1]).toBeCloseTo(0.5 + 1.959964 * 0.25, 5)
    expect(a!.revenuePerShopper.interval![0]).toBeCloseTo(7.5 - 1.959964 * Math.sqrt(275 / 12), 5)
    expect(b).toMatchObject({ shoppers: 0, revenuePerShopper: { value: 0, interval: null } })
    expect(holdout).toMatchObject({ holdout: true, shoppers: 0 })
    expect(report.comparisons.map((c) => [c.variant, c.control])).toEqual([['B', 'A']])
  })
})
