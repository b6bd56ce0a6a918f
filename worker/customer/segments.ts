// Behavioural segmentation: RFM, lifecycle, churn below the shopper's own baseline, value tiers,
// current against predicted value, lifestyle. Pure functions over per-customer summaries; each
// segment comes with the reason it was given.

const DAY = 24 * 3600_000
const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`

/** What segmentation needs to know about one customer (built from their events). */
export interface CustomerSummary {
  uid: string
  firstSeen: number
  lastSeen: number
  orders: number
  revenue: number
  lastOrderAt: number | null
  /** Events per week, oldest first, ending with the current week. */
  weeklyActivity: number[]
  /** Days between the latest run of activity and the one before it (0 if there was no gap). */
  previousGapDays: number
  /** Interest per category (views, cart adds and purchases, weighted). */
  categories: Record<string, number>
  /** Predicted value of future purchases (e.g. BG/NBD × Gamma-Gamma), when known. */
  predictedValue?: number
}

/** Lifecycle thresholds a marketer can set per site, in days. */
export interface LifecycleSettings {
  newDays: number
  activeDays: number
  lapsedDays: number
  reactivationGapDays: number
}

/** Defaults for a shop visited every few weeks. */
export const DEFAULT_LIFECYCLE: LifecycleSettings = {
  newDays: 30,
  activeDays: 45,
  lapsedDays: 120,
  reactivationGapDays: 90,
}

/** Churn warning: recent weeks compared with the shopper's own usual activity. */
export const CHURN = { recentWeeks: 2, baselineWeeks: 8, minimumBaseline: 1, warnBelow: 0.5 }

/** Value tiers by cumulative share of revenue (Pareto): A makes the first 50%, B up to 80%, C up to 95%. */
export const TIER_SHARES = { A: 0.5, B: 0.8, C: 0.95 } as const

/** Share of interest in one category that makes a lifestyle segment. */
export const LIFESTYLE_SHARE = 0.4

export type Lifecycle = 'new' | 'active' | 'at-risk' | 'lapsed' | 'reactivated'
export type Tier = 'A' | 'B' | 'C' | 'D'
export type ValueQuadrant = 'keep' | 'grow' | 'win-back' | 'low-priority'

/** One customer's scores and segments, each segment with its reason. */
export interface Segmentation {
  rfm: { r: number; f: number; m: number; group: string } | null
  lifecycle: Lifecycle
  churnRisk: number | null
  tier: Tier
  quadrant: ValueQuadrant | null
  lifestyle: string[]
  segments: string[]
  reasons: Record<string, string>
}

/** Score 1-5 of a value against quintile cuts: one more for every cut it exceeds. */
export const quintile = (value: number, cuts: number[]) => 1 + cuts.filter((cut) => value > cut).length

/** The usual named RFM groups, from recency and the mean of frequency and monetary scores. */
export function rfmGroup(r: number, f: number, m: number): string {
  const fm = Math.round((f + m) / 2)
  if (r >= 4 && fm >= 4 && r + fm >= 9) return 'champions'
  if (r >= 3 && fm >= 4) return 'loyal'
  if (r >= 4 && fm >= 2) return 'potential-loyalists'
  if (r === 5) return 'new-customers'
  if (r === 4) return 'promising'
  if (r === 3 && fm === 3) return 'need-attention'
  if (r === 3) return 'about-to-sleep'
  if (fm === 5) return 'cannot-lose-them'
  if (fm >= 3) return 'at-risk-customers'
  return r === 2 ? 'hibernating' : 'lost'
}

/** Lifecycle stage from days since first and last activity, with the thresholds given. */
export function lifecycle(c: CustomerSummary, s: LifecycleSettings, now: number): { stage: Lifecycle; reason: string } {
  const sinceLast = Math.floor((now - c.lastSeen) / DAY)
  const sinceFirst = Math.floor((now - c.firstSeen) / DAY)
  if (sinceLast > s.lapsedDays)
    return { stage: 'lapsed', reason: `no activity for ${days(sinceLast)} (over ${s.lapsedDays})` }
  if (sinceLast > s.activeDays)
    return { stage: 'at-risk', reason: `no activity for ${days(sinceLast)} (over ${s.activeDays})` }
  if (sinceFirst <= s.newDays && c.orders <= 1) return { stage: 'new', reason: `first seen ${days(sinceFirst)} ago` }
  if (c.previousGapDays > s.reactivationGapDays) {
    return { stage: 'reactivated', reason: `back after ${days(c.previousGapDays)} away` }
  }
  return { stage: 'active', reason: `active ${days(sinceLast)} ago` }
}

/** Risk 0-1 that a shopper is drifting away: recent activity against their own usual level; null without a baseline. */
export function churnRisk(weekly: number[]): { risk: number; reason: string } | null {
  const recent = weekly.slice(-CHURN.recentWeeks)
  const base = weekly.slice(-CHURN.recentWeeks - CHURN.baselineWeeks, -CHURN.recentWeeks)
  if (base.length < CHURN.baselineWeeks / 2) return null
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const [now, usual] = [mean(recent), mean(base)]
  if (usual < CHURN.minimumBaseline) return null
  const risk = Math.max(0, Math.min(1, 1 - now / usual))
  const change = Math.sign(now - usual) * Math.round(Math.abs(now / usual - 1) * 100)
  return {
    risk,
    reason: `${now.toFixed(1)} events/week lately against their usual ${usual.toFixed(1)} (${change >= 0 ? '+' : ''}${change}%)`,
  }
}

/** What a customer is compared with: quintile cuts and tier thresholds (`populationStats`), value medians. */
export interface Population {
  /** Quintile cuts of buyers' last order time, order count and revenue. */
  recency: number[]
  frequency: number[]
  monetary: number[]
  /** Least revenue of a tier-A, -B and -C customer (Infinity when a tier is empty). */
  tiers: { A: number; B: number; C: number }
  totalRevenue: number
  /** Medians of current and predicted value, among customers with a prediction. */
  medians: { current: number; future: number } | null
}

/** A customer's value tier from their revenue and the site's thresholds. */
export function tierOf(revenue: number, p: Population): Tier {
  if (revenue <= 0) return 'D'
  return revenue >= p.tiers.A ? 'A' : revenue >= p.tiers.B ? 'B' : revenue >= p.tiers.C ? 'C' : 'D'
}

/** One customer's scores and segments against the site's population, each with its reason. */
export function segmentOne(
  c: CustomerSummary,
  p: Population,
  now: number,
  settings: LifecycleSettings = DEFAULT_LIFECYCLE,
): Segmentation {
  const reasons: Record<string, string> = {}
  const segments: string[] = []
  const add = (name: string, reason: string) => {
    segments.push(name)
    reasons[name] = reason
  }
  let rfm: Segmentation['rfm'] = null
  if (c.orders > 0 && c.lastOrderAt !== null) {
    const [r, f, m] = [
      quintile(c.lastOrderAt, p.recency),
      quintile(c.orders, p.frequency),
      quintile(c.revenue, p.monetary),
    ]
    rfm = { r, f, m, group: rfmGroup(r, f, m) }
    const since = Math.floor((now - c.lastOrderAt) / DAY)
    add(
      `rfm:${rfm.group}`,
      `R${r} F${f} M${m}: last order ${days(since)} ago, ${c.orders} order${c.orders === 1 ? '' : 's'}, ${c.revenue.toFixed(2)} spent`,
    )
  } else add('prospect', 'no order yet')
  const stage = lifecycle(c, settings, now)
  add(stage.stage, stage.reason)
  const churn = churnRisk(c.weeklyActivity)
  if (churn && churn.risk >= 1 - CHURN.warnBelow) add('churn-warning', churn.reason)
  const tier = tierOf(c.revenue, p)
  const share = p.totalRevenue > 0 ? (100 * Math.max(0, c.revenue)) / p.totalRevenue : 0
  add(
    `tier-${tier.toLowerCase()}`,
    tier === 'D'
      ? `${share.toFixed(1)}% of revenue: below the customers who make 95% of it`
      : `${share.toFixed(1)}% of revenue; tier ${tier} starts at ${p.tiers[tier].toFixed(2)}`,
  )
  let quadrant: ValueQuadrant | null = null
  if (c.predictedValue !== undefined && p.medians) {
    // At or above the median counts as high, so a two-way split of an even population stays even.
    const high = [c.revenue >= p.medians.current, c.predictedValue >= p.medians.future]
    quadrant = high[0] ? (high[1] ? 'keep' : 'win-back') : high[1] ? 'grow' : 'low-priority'
    add(
      `value:${quadrant}`,
      `spent ${c.revenue.toFixed(2)} (median ${p.medians.current.toFixed(2)}), predicted ${c.predictedValue.toFixed(2)} (median ${p.medians.future.toFixed(2)})`,
    )
  }
  const interest = Object.values(c.categories).reduce((a, b) => a + b, 0)
  const lifestyle = Object.entries(c.categories)
    .filter(([, w]) => interest > 0 && w / interest >= LIFESTYLE_SHARE)
    .sort((a, b) => b[1] - a[1])
    .map(([category, w]) => {
      add(`likes:${category}`, `${Math.round((100 * w) / interest)}% of their interest is in ${category}`)
      return category
    })
  return { rfm, lifecycle: stage.stage, churnRisk: churn?.risk ?? null, tier, quadrant, lifestyle, segments, reasons }
}

/** Weeks of activity behind the churn warning: its baseline plus its recent window. */
export const ACTIVITY_WEEKS = CHURN.baselineWeeks + CHURN.recentWeeks
/** A pause this long or longer separates two runs of activity (for "reactivated"). */
export const RUN_GAP_DAYS = 14

/** The summary segmentation needs, from the facts the database holds about one customer. */
export function summarise(
  uid: string,
  facts: {
    totals: {
      first_seen: number | null
      last_seen: number | null
      orders: number
      revenue: number
      last_order_at: number | null
    } | null
    weekly: Array<{ weeks_ago: number; n: number }>
    days: number[]
    categories: Array<{ category: string; weight: number }>
  },
  now: number,
): CustomerSummary {
  const weeklyActivity = Array.from({ length: ACTIVITY_WEEKS }, (_, i) => {
    const weeksAgo = ACTIVITY_WEEKS - 1 - i
    return facts.weekly.find((w) => w.weeks_ago === weeksAgo)?.n ?? 0
  })
  // Days come newest first: the first long pause is the one before the current run.
  let previousGapDays = 0
  for (let i = 1; i < facts.days.length; i++) {
    const gap = facts.days[i - 1]! - facts.days[i]!
    if (gap >= RUN_GAP_DAYS) {
      previousGapDays = gap
      break
    }
  }
  const t = facts.totals
  return {
    uid,
    firstSeen: t?.first_seen ?? now,
    lastSeen: t?.last_seen ?? now,
    orders: t?.orders ?? 0,
    revenue: t?.revenue ?? 0,
    lastOrderAt: t?.last_order_at ?? null,
    weeklyActivity,
    previousGapDays,
    categories: Object.fromEntries(facts.categories.map((c) => [c.category, c.weight])),
  }
}
