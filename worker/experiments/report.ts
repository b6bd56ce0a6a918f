// The A/B report's arithmetic, pure: per-arm means with 95% intervals, each variant against the
// control (Welch's difference, the delta method's relative lift, Bonferroni across variants), and a
// verdict in plain words that waits for the fixed horizon (docs/marketers.md#ab-tests).
import { HOLDOUT, type Experiment } from './config'
import type { ArmCounts } from './store'

/** Fixed horizon: no verdict but "not yet significant" before every variant has this many shoppers. */
export const MIN_SHOPPERS = 1000
/** Fixed horizon: no verdict before the experiment has run this many days (whole weeks even out weekdays). */
export const MIN_DAYS = 7
/** The family-wise error rate: 5%, split over the comparisons (Bonferroni). */
export const ALPHA = 0.05

/** A value and its interval; the interval is null when the data cannot give one (fewer than 2 shoppers). */
export interface Estimate {
  value: number
  interval: [number, number] | null
}

/** One arm of the report. */
export interface ArmReport {
  name: string
  holdout: boolean
  shoppers: number
  impressions: number
  clicks: number
  ctr: number
  orders: number
  revenue: number
  attributedOrders: number
  attributedRevenue: number
  /** Share of shoppers with at least one order after exposure, with its 95% interval (normal approximation). */
  conversion: Estimate
  /** Mean revenue per exposed shopper (every order after exposure), with its 95% interval. */
  revenuePerShopper: Estimate
}

/** A variant against the control, on revenue per shopper. */
export interface Comparison {
  variant: string
  control: string
  /** The confidence level of both intervals, after Bonferroni (0.95 with one comparison). */
  level: number
  /** Difference of means, Welch's standard error. */
  difference: Estimate
  /** Relative lift (variant / control - 1), delta method; null while the control's mean is 0. */
  lift: Estimate | null
  significant: boolean
  verdict: string
}

/** The report of an experiment. */
export interface ExperimentReport {
  id: string
  slot: string
  status: Experiment['status']
  days: number
  /** Whether the fixed horizon (MIN_DAYS, MIN_SHOPPERS in every variant) is reached. */
  ready: boolean
  /** What the horizon still needs, in plain words; null once ready. */
  waiting: string | null
  arms: ArmReport[]
  comparisons: Comparison[]
  verdict: string
}

/**
 * The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9):
 * normalQuantile(0.975) = 1.959964.
 */
export function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ]
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ]
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)))
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)))
  const q = p - 0.5
  const r = q * q
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  )
}

const Z95 = normalQuantile(0.975)

/** Mean of per-shopper values and the squared standard error of that mean, from n, Σx and Σx². */
export function meanAndError(n: number, sum: number, sumSq: number): { mean: number; se2: number | null } {
  if (n === 0) return { mean: 0, se2: null }
  const mean = sum / n
  if (n < 2) return { mean, se2: null }
  // The sample variance; max(0, …) absorbs rounding when every value is equal.
  const variance = Math.max(0, (sumSq - n * mean * mean) / (n - 1))
  return { mean, se2: variance / n }
}

const around = (value: number, se2: number | null, z: number): Estimate => ({
  value,
  interval: se2 === null ? null : [value - z * Math.sqrt(se2), value + z * Math.sqrt(se2)],
})

/** One arm's figures from its sums. */
export function armReport(c: ArmCounts): ArmReport {
  const { mean, se2 } = meanAndError(c.shoppers, c.revenue, c.revenue_sq)
  const p = c.shoppers > 0 ? c.converted / c.shoppers : 0
  return {
    name: c.variant,
    holdout: c.variant === HOLDOUT,
    shoppers: c.shoppers,
    impressions: c.impressions,
    clicks: c.clicks,
    ctr: c.impressions > 0 ? c.clicks / c.impressions : 0,
    orders: c.orders,
    revenue: c.revenue,
    attributedOrders: c.attributed_orders,
    attributedRevenue: c.attributed_revenue,
    conversion: around(p, c.shoppers >= 2 ? (p * (1 - p)) / c.shoppers : null, Z95),
    revenuePerShopper: around(mean, se2, Z95),
  }
}

const pct = (x: number) => `${Math.round(x * 100)}%`
const signed = (x: number, format: (x: number) => string) => `${x >= 0 ? '+' : ''}${format(x)}`
const money = (x: number) => x.toFixed(2)

/**
 * A variant against the control on revenue per shopper: the difference with Welch's standard
 * error, the relative lift with the delta method's (Var(X/Y) ≈ σx²/μy² + μx²σy²/μy⁴), both at
 * level 1 - ALPHA / comparisons, and the verdict (significant when the lift's interval, or the
 * difference's while the control's mean is 0, leaves out 0).
 */
export function compare(variant: ArmCounts, control: ArmCounts, comparisons: number, ready: boolean): Comparison {
  const z = normalQuantile(1 - ALPHA / comparisons / 2)
  const v = meanAndError(variant.shoppers, variant.revenue, variant.revenue_sq)
  const c = meanAndError(control.shoppers, control.revenue, control.revenue_sq)
  const both = v.se2 !== null && c.se2 !== null
  const difference = around(v.mean - c.mean, both ? v.se2! + c.se2! : null, z)
  const lift =
    c.mean > 0
      ? around(v.mean / c.mean - 1, both ? v.se2! / c.mean ** 2 + (v.mean ** 2 * c.se2!) / c.mean ** 4 : null, z)
      : null
  const decisive = lift ?? difference
  const [low, high] = decisive.interval ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]
  const significant = ready && (low > 0 || high < 0)
  const format = lift ? pct : money
  const figures = `${signed(decisive.value, format)} [${format(low)}, ${format(high)}]`
  const [b, a] = [variant.variant, control.variant]
  const verdict = !ready
    ? `${b} against ${a}: not yet significant`
    : low > 0
      ? `${b} beats ${a} on revenue per shopper, ${figures}`
      : high < 0
        ? `${b} trails ${a} on revenue per shopper, ${figures}`
        : `${b} against ${a}: no significant difference on revenue per shopper, ${figures}`
  return { variant: b, control: a, level: 1 - ALPHA / comparisons, difference, lift, significant, verdict }
}

/**
 * The report of an experiment from its arms' sums: every variant (and the holdout) with its
 * figures, each variant against the first (the control), and the verdict, which is "not yet
 * significant" until the fixed horizon is reached however the numbers look.
 */
export function experimentReport(
  experiment: Experiment,
  counts: ArmCounts[],
  now: number,
  horizon = { minShoppers: MIN_SHOPPERS, minDays: MIN_DAYS },
): ExperimentReport {
  const empty = (variant: string): ArmCounts => ({
    variant,
    shoppers: 0,
    impressions: 0,
    clicks: 0,
    orders: 0,
    converted: 0,
    revenue: 0,
    revenue_sq: 0,
    attributed_orders: 0,
    attributed_revenue: 0,
  })
  const names = [...experiment.variants.map((v) => v.name), ...(experiment.holdout > 0 ? [HOLDOUT] : [])]
  const arms = names.map((name) => counts.find((c) => c.variant === name) ?? empty(name))
  const variants = arms.filter((a) => a.variant !== HOLDOUT)
  const end = experiment.stoppedAt ?? now
  const days = experiment.startedAt === null ? 0 : Math.max(0, (end - experiment.startedAt) / 86_400_000)
  const fewest = Math.min(...variants.map((a) => a.shoppers))
  const needs = [
    ...(days < horizon.minDays ? [`${horizon.minDays} days (ran ${Math.floor(days)})`] : []),
    ...(fewest < horizon.minShoppers
      ? [`${horizon.minShoppers} shoppers in every variant (the smallest has ${fewest})`]
      : []),
  ]
  const ready = experiment.startedAt !== null && needs.length === 0
  const [control, ...rest] = variants as [ArmCounts, ...ArmCounts[]]
  const comparisons = rest.map((v) => compare(v, control, rest.length, ready))
  return {
    id: experiment.id,
    slot: experiment.slot,
    status: experiment.status,
    days,
    ready,
    waiting: ready ? null : `the fixed horizon needs ${needs.join(' and ') || 'the experiment to start'}`,
    arms: arms.map(armReport),
    comparisons,
    verdict: ready ? comparisons.map((c) => c.verdict).join('; ') : 'not yet significant',
  }
}
