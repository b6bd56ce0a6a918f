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

/** Quintile scores 1-5 of `values` within the population; ties share a score; higher value, higher score. */
export function quintiles(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b)
  const n = sorted.length
  // The score of a value is set by the first position of its tie group, so equal values score equally.
  const first = new Map<number, number>()
  sorted.forEach((v, i) => first.has(v) || first.set(v, i))
  return values.map((v) => Math.min(5, 1 + Math.floor((5 * first.get(v)!) / n)))
}

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
  if (sinceLast > s.lapsedDays) return { stage: 'lapsed', reason: `no activity for ${days(sinceLast)} (over ${s.lapsedDays})` }
  if (sinceLast > s.activeDays) return { stage: 'at-risk', reason: `no activity for ${days(sinceLast)} (over ${s.activeDays})` }
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

/** Tier per customer by cumulative share of revenue, largest first. */
export function tiers(customers: CustomerSummary[]): Map<string, { tier: Tier; reason: string }> {
  const total = customers.reduce((n, c) => n + c.revenue, 0)
  const out = new Map<string, { tier: Tier; reason: string }>()
  let before = 0
  for (const c of [...customers].sort((a, b) => b.revenue - a.revenue || (a.uid < b.uid ? -1 : 1))) {
    // A customer belongs to the tier in which their revenue starts.
    const start = total > 0 ? before / total : 1
    const tier: Tier = c.revenue <= 0 ? 'D' : start < TIER_SHARES.A ? 'A' : start < TIER_SHARES.B ? 'B' : start < TIER_SHARES.C ? 'C' : 'D'
    const share = total > 0 ? (100 * c.revenue) / total : 0
    out.set(c.uid, { tier, reason: `${share.toFixed(1)}% of revenue, after ${(100 * start).toFixed(0)}% from bigger customers` })
    before += c.revenue
  }
  return out
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length === 0 ? 0 : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Segments and scores of every customer of a site, each with its reason. */
export function segment(
  customers: CustomerSummary[],
  now: number,
  settings: LifecycleSettings = DEFAULT_LIFECYCLE,
): Map<string, Segmentation> {
  const buyers = customers.filter((c) => c.orders > 0 && c.lastOrderAt !== null)
  const r = quintiles(buyers.map((c) => -(now - c.lastOrderAt!)))
  const f = quintiles(buyers.map((c) => c.orders))
  const m = quintiles(buyers.map((c) => c.revenue))
  const rfm = new Map(buyers.map((c, i) => [c.uid, { r: r[i]!, f: f[i]!, m: m[i]! }]))
  const tierOf = tiers(customers)
  const predicted = customers.filter((c) => c.predictedValue !== undefined)
  const [currentMid, futureMid] = [median(predicted.map((c) => c.revenue)), median(predicted.map((c) => c.predictedValue!))]

  return new Map(
    customers.map((c) => {
      const reasons: Record<string, string> = {}
      const segments: string[] = []
      const add = (name: string, reason: string) => {
        segments.push(name)
        reasons[name] = reason
      }
      const scores = rfm.get(c.uid)
      const group = scores && rfmGroup(scores.r, scores.f, scores.m)
      if (scores && group) {
        const since = Math.floor((now - c.lastOrderAt!) / DAY)
        add(`rfm:${group}`, `R${scores.r} F${scores.f} M${scores.m}: last order ${days(since)} ago, ${c.orders} orders, ${c.revenue.toFixed(2)} spent`)
      } else add('prospect', 'no order yet')
      const stage = lifecycle(c, settings, now)
      add(stage.stage, stage.reason)
      const churn = churnRisk(c.weeklyActivity)
      if (churn && churn.risk >= 1 - CHURN.warnBelow) add('churn-warning', churn.reason)
      const tier = tierOf.get(c.uid)!
      add(`tier-${tier.tier.toLowerCase()}`, tier.reason)
      let quadrant: ValueQuadrant | null = null
      if (c.predictedValue !== undefined) {
        // At or above the median counts as high, so a two-way split of an even population stays even.
        const high = [c.revenue >= currentMid, c.predictedValue >= futureMid]
        quadrant = high[0] ? (high[1] ? 'keep' : 'win-back') : high[1] ? 'grow' : 'low-priority'
        add(
          `value:${quadrant}`,
          `spent ${c.revenue.toFixed(2)} (median ${currentMid.toFixed(2)}), predicted ${c.predictedValue.toFixed(2)} (median ${futureMid.toFixed(2)})`,
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
      return [
        c.uid,
        {
          rfm: scores && group ? { ...scores, group } : null,
          lifecycle: stage.stage,
          churnRisk: churn?.risk ?? null,
          tier: tier.tier,
          quadrant,
          lifestyle,
          segments,
          reasons,
        },
      ]
    }),
  )
}

/** A stable key for an overlap of segments (a micro-segment), e.g. for learning per segment. */
export const microSegment = (segments: string[]) => [...segments].sort().join('+')
