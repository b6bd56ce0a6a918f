// Report arithmetic, pure: daily rows merged from counts, rates, and uplift with its interval.

/** One day of one action or strategy. */
export interface ReportRow {
  day: string
  key: string
  impressions: number
  clicks: number
  acceptances: number
  dismissals: number
  ctr: number
  orders: number
  revenue: number
}

/** Merges count rows (any of the numeric fields) by day and key, and derives the click-through rate. */
export function mergeRows(...sources: Array<Array<Partial<ReportRow> & { day: string; key: string }>>): ReportRow[] {
  const rows = new Map<string, ReportRow>()
  for (const source of sources) {
    for (const r of source) {
      const id = `${r.day}\u0000${r.key}`
      const row = rows.get(id) ?? {
        day: r.day,
        key: r.key,
        impressions: 0,
        clicks: 0,
        acceptances: 0,
        dismissals: 0,
        ctr: 0,
        orders: 0,
        revenue: 0,
      }
      for (const field of ['impressions', 'clicks', 'acceptances', 'dismissals', 'orders', 'revenue'] as const)
        row[field] += r[field] ?? 0
      rows.set(id, row)
    }
  }
  return [...rows.values()]
    .map((r) => ({
      ...r,
      revenue: Math.round(r.revenue * 100) / 100,
      ctr: r.impressions > 0 ? (r.clicks + r.acceptances) / r.impressions : 0,
    }))
    .sort((a, b) => (a.day === b.day ? (a.key < b.key ? -1 : 1) : a.day < b.day ? -1 : 1))
}

/** Conversion of treated against holdout shoppers, the difference and its 95% interval (normal approximation). */
export function uplift(
  treated: { shoppers: number; converted: number },
  holdout: { shoppers: number; converted: number },
) {
  const rate = (g: { shoppers: number; converted: number }) => (g.shoppers > 0 ? g.converted / g.shoppers : 0)
  const [p1, p0] = [rate(treated), rate(holdout)]
  const se = Math.sqrt(
    (treated.shoppers > 0 ? (p1 * (1 - p1)) / treated.shoppers : 0) +
      (holdout.shoppers > 0 ? (p0 * (1 - p0)) / holdout.shoppers : 0),
  )
  const difference = p1 - p0
  return {
    treated: { ...treated, rate: p1 },
    holdout: { ...holdout, rate: p0 },
    difference,
    interval: treated.shoppers > 0 && holdout.shoppers > 0 ? [difference - 1.96 * se, difference + 1.96 * se] : null,
  }
}
