// The fold's SQL reads its tunables from the model module: what it writes for a shopper's events must be what
// EVENT_WEIGHTS, TRUST and the trend encoding in recommend/model.ts say, and what the loader decodes.
import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { EVENT_WEIGHTS } from '../../../contract'
import { upsertItems } from '../../../worker/admin/store'
import { customerFacts } from '../../../worker/customer/store'
import { foldParams, INDEX_SQL } from '../../../worker/events/fold'
import { NEXT, NO_TREND, TREND_TAU, TRUST, trendAt, trendReference, trendScore } from '../../../worker/recommend/model'
import { makeEvent, SITE } from '../../fixtures/events'
import { storeAsReceived, seedSite } from '../helpers'

const MINUTE = 60_000
const NOW = Date.now()

const stats = (item: string) =>
  env.DB.prepare('SELECT visitors, buyers, trend FROM item_stats WHERE site_id = ? AND item_id = ?')
    .bind(SITE.id, item)
    .first<{ visitors: number; buyers: number; trend: number }>()
const as = (anonymousId: string, timestamp: number) => ({ anonymousId, timestamp })

beforeAll(async () => {
  await seedSite()
  await upsertItems(env.DB, SITE.id, [
    { id: 'w-item', title: 'Weighed', category: 'weights', price: 1, image: null, description: null, in_stock: 1 },
  ])
})

describe('the fold', () => {
  it('writes no tunable into its SQL: every weight, threshold and window is a bound parameter', () => {
    for (const sql of Object.values(INDEX_SQL)) {
      expect(sql).not.toMatch(/(THEN|<=|>=|-) [1-9]/)
      const highest = Math.max(...(sql.match(/\?\d+/g) ?? []).map((p) => Number(p.slice(1))))
      expect(highest).toBeLessThanOrEqual(foldParams(SITE.id).length)
    }
  })

  it('weighs a view, a cart add, an order and a review by EVENT_WEIGHTS in the trend, decayed by trendAt', async () => {
    const [t1, t2, t3, t4] = [NOW - 40 * MINUTE, NOW - 30 * MINUTE, NOW - 20 * MINUTE, NOW - 10 * MINUTE]
    await storeAsReceived([
      makeEvent('Product Viewed', { product_id: 'w-item', category: 'weights' }, as('w-shopper', t1)),
      makeEvent('Product Added', { product_id: 'w-item', category: 'weights' }, as('w-shopper', t2)),
      makeEvent(
        'Order Completed',
        { order_id: 'w-order', revenue: 1, products: [{ product_id: 'w-item', category: 'weights' }] },
        as('w-shopper', t3),
      ),
      makeEvent('Product Reviewed', { product_id: 'w-item', rating: 4 }, as('w-shopper', t4)),
    ])
    // A browser on its first day with one item weighs 1 (TRUST's unit); the review follows a view, so it counts whole.
    const expected =
      EVENT_WEIGHTS['Product Viewed'] * Math.exp(trendAt(t1)) +
      EVENT_WEIGHTS['Product Added'] * Math.exp(trendAt(t2)) +
      EVENT_WEIGHTS['Order Completed'] * Math.exp(trendAt(t3)) +
      EVENT_WEIGHTS['Product Reviewed'] * Math.exp(trendAt(t4))
    const row = (await stats('w-item'))!
    expect(row).toMatchObject({ visitors: 1, buyers: 1 })
    expect(row.trend).toBeCloseTo(Math.log(expected), 9)
    // What the loader decodes is the same sum, each event decayed by its age.
    const decayed = expected * Math.exp(-trendAt(NOW))
    expect(trendScore(row.trend, trendAt(NOW))).toBeCloseTo(decayed, 9)
    expect(decayed).toBeCloseTo(
      EVENT_WEIGHTS['Product Viewed'] * Math.exp(-(NOW - t1) / TREND_TAU) +
        EVENT_WEIGHTS['Product Added'] * Math.exp(-(NOW - t2) / TREND_TAU) +
        EVENT_WEIGHTS['Order Completed'] * Math.exp(-(NOW - t3) / TREND_TAU) +
        EVENT_WEIGHTS['Product Reviewed'] * Math.exp(-(NOW - t4) / TREND_TAU),
      9,
    )
  })

  it('weighs an established browser by TRUST.established', async () => {
    const earlier = Array.from({ length: TRUST.historyItems }, (_, i) =>
      makeEvent('Product Viewed', { product_id: `w-past-${i}` }, as('w-regular', NOW - 50 * MINUTE + i)),
    )
    const later = makeEvent('Product Viewed', { product_id: 'w-new' }, as('w-regular', NOW - MINUTE))
    await storeAsReceived([...earlier, later])
    const row = (await stats('w-new'))!
    expect(row.visitors).toBe(TRUST.established)
    const weight = TRUST.established * EVENT_WEIGHTS['Product Viewed']
    expect(row.trend).toBeCloseTo(Math.log(weight) + trendAt(later.timestamp), 9)
  })

  it("weighs a customer's category interest by the same EVENT_WEIGHTS", async () => {
    const facts = await customerFacts(env.DB, SITE.id, ['w-shopper'], NOW, 4)
    const { 'Product Viewed': view, 'Product Added': add, 'Order Completed': order } = EVENT_WEIGHTS
    expect(facts.categories).toEqual([{ category: 'weights', weight: view + add + order }])
  })
})

describe('"opened next" transitions', () => {
  const next = async (a: string) =>
    (
      await env.DB.prepare("SELECT b, weight FROM item_pairs WHERE site_id = ? AND kind = 'next' AND a = ? ORDER BY b")
        .bind(SITE.id, a)
        .all<{ b: string; weight: number }>()
    ).results
  const view = (item: string, shopper: string, ts: number) =>
    makeEvent('Product Viewed', { product_id: item }, as(shopper, ts))
  // A first-day browser weighs 1, so its link weighs 1² / TRUST.established.
  const soon = (gap: number) => NEXT.halfAfterMs / (NEXT.halfAfterMs + gap) / TRUST.established
  const t0 = NOW - 3 * 86_400_000

  it('link each new item from the one opened just before, one way, weighted by how soon it came', async () => {
    await storeAsReceived([
      view('n-a', 'n-1', t0),
      view('n-b', 'n-1', t0 + MINUTE),
      view('n-c', 'n-1', t0 + 61 * MINUTE),
    ])
    expect(await next('n-a')).toEqual([{ b: 'n-b', weight: soon(MINUTE) }])
    expect(await next('n-b')).toEqual([{ b: 'n-c', weight: soon(60 * MINUTE) }])
    expect(await next('n-c')).toEqual([])
  })

  it('link the same way when the items arrive in separate batches, and not for an item seen again', async () => {
    await storeAsReceived([view('n-a', 'n-2', t0)])
    await storeAsReceived([view('n-b', 'n-2', t0 + MINUTE)])
    await storeAsReceived([view('n-a', 'n-2', t0 + 2 * MINUTE), view('n-d', 'n-2', t0 + 3 * MINUTE)])
    expect(await next('n-a')).toEqual([
      { b: 'n-b', weight: 2 * soon(MINUTE) },
      { b: 'n-d', weight: soon(MINUTE) },
    ])
    expect(await next('n-b')).toEqual([{ b: 'n-c', weight: soon(60 * MINUTE) }])
  })

  it('never link items of the same millisecond (no order is known) or farther apart than NEXT.withinMs', async () => {
    await storeAsReceived([view('n-x', 'n-3', t0), view('n-y', 'n-3', t0), view('n-z', 'n-3', t0 + NEXT.withinMs + 1)])
    expect([...(await next('n-x')), ...(await next('n-y'))]).toEqual([])
  })
})

describe('trend scores', () => {
  const YEAR = 365.25 * 86_400_000
  const at = (iso: string) => Date.parse(iso)

  it('are the trends decayed to now wherever a double holds them', () => {
    const trends = [trendAt(NOW - 86_400_000), trendAt(NOW - 7 * 86_400_000)]
    const reference = trendReference(Math.max(...trends), NOW)
    expect(reference).toBe(trendAt(NOW))
    const [day, week] = trends.map((t) => trendScore(t, reference))
    expect(day).toBeCloseTo(Math.exp(-86_400_000 / TREND_TAU), 12)
    expect(week).toBeCloseTo(0.5, 12)
  })

  it('stay finite and keep their ratios read decades before or after the events (a replay, an idle site)', () => {
    const trends = [trendAt(at('2016-10-01')), trendAt(at('2016-09-24')), trendAt(at('1996-05-01'))]
    for (const now of [at('1997-01-01'), at('2016-10-02'), NOW + 50 * YEAR]) {
      const reference = trendReference(Math.max(...trends), now)
      const scores = trends.map((t) => trendScore(t, reference))
      for (const score of scores) expect(Number.isFinite(score)).toBe(true)
      expect(scores[0]).toBeGreaterThan(0)
      expect(scores[1]! / scores[0]!).toBeCloseTo(0.5, 12)
    }
  })

  it('score an item with no counted event 0, and alone read against now', () => {
    expect(trendReference(NO_TREND, NOW)).toBe(trendAt(NOW))
    expect(trendScore(NO_TREND, trendReference(trendAt(NOW), NOW))).toBe(0)
  })
})
