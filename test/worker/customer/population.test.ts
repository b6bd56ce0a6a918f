import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import app from '../../../worker/app'
import { populationStats } from '../../../worker/customer/store'
import { makeEvent, SITE } from '../../fixtures/events'
import { seedSite, storeAsReceived } from '../helpers'

const DAY = 24 * 3600_000
const NOW = Date.now()
// Eight buyers, one order each, c0 the most recent (10 days ago) and the biggest; one browser never bought.
const REVENUE = [500, 200, 100, 80, 60, 30, 20, 10]
const orderedAt = (i: number) => NOW - (10 + i) * DAY

beforeAll(async () => {
  await seedSite()
  await storeAsReceived(
    REVENUE.map((revenue, i) =>
      makeEvent(
        'Order Completed',
        { order_id: `o-${i}`, revenue, products: [{ product_id: 'p', quantity: 1 }] },
        { anonymousId: `c${i}`, timestamp: orderedAt(i) },
      ),
    ),
  )
  await storeAsReceived([makeEvent('Page Viewed', {}, { anonymousId: 'looker', timestamp: NOW - DAY })])
})

const profile = async (anonymousId: string) => {
  const q = new URLSearchParams({ site: SITE.id, key: SITE.key, anonymousId })
  return (await (await app.request(`/v1/profile?${q}`, {}, env)).json()) as any
}

describe('populationStats()', () => {
  it('cuts buyers into quintiles by sorted position and tiers them by cumulative share of revenue', async () => {
    expect(await populationStats(env.DB, SITE.id)).toEqual({
      // Sorted oldest first, the cuts are the 2nd, 4th, 5th and 7th of eight (ceil(k·8/5)).
      recency: [orderedAt(6), orderedAt(4), orderedAt(3), orderedAt(1)],
      // Every buyer has one order: the cuts tie, and so do their scores.
      frequency: [1, 1, 1, 1],
      monetary: [20, 60, 80, 200],
      // 500 makes the first 50%; 200 and 100 start before 80%; 80, 60 and 30 before 95%.
      tiers: { A: 500, B: 100, C: 30 },
      totalRevenue: 1000,
    })
  })
})

describe('GET /v1/profile against the site population', () => {
  it('scores and tiers each customer by the cuts computed in D1 (a value equal to a cut is not above it)', async () => {
    const answers = await Promise.all(REVENUE.map((_, i) => profile(`c${i}`)))
    expect(answers.map((a) => a.scores.tier).join('')).toBe('ABBCCCDD')
    expect(answers.map((a) => [a.scores.rfm.r, a.scores.rfm.f, a.scores.rfm.m])).toEqual([
      [5, 1, 5],
      [4, 1, 4],
      [4, 1, 4],
      [3, 1, 3],
      [2, 1, 2],
      [2, 1, 2],
      [1, 1, 1],
      [1, 1, 1],
    ])
    const reasons = (a: any) =>
      Object.fromEntries(a.segments.map((s: { id: string; reason: string }) => [s.id, s.reason]))
    expect(reasons(answers[0])).toMatchObject({
      'rfm:potential-loyalists': 'R5 F1 M5: last order 10 days ago, 1 order, 500.00 spent',
      'tier-a': '50.0% of revenue; tier A starts at 500.00',
    })
    expect(reasons(answers[7])['tier-d']).toBe('1.0% of revenue: below the customers who make 95% of it')
  })

  it('answers the same from the KV copy of the statistics', async () => {
    expect((await env.CACHE.get(`population:${SITE.id}`, 'json')) as object).toMatchObject({
      tiers: { A: 500, B: 100, C: 30 },
    })
    expect((await profile('c3')).scores).toMatchObject({ tier: 'C', rfm: { r: 3, f: 1, m: 3 } })
  })

  it('keeps a browser that never bought out of RFM, in tier D', async () => {
    const looker = await profile('looker')
    expect(looker.scores).toMatchObject({ rfm: null, tier: 'D' })
    expect(looker.segments.map((s: { id: string }) => s.id)).toEqual(['prospect', 'new', 'tier-d'])
  })
})
