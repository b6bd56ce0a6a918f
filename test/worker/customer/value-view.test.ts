import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { VistaEvent } from '../../../contract'
import app from '../../../worker/app'
import {
  expectedPurchases,
  expectedSpend,
  fitBgnbd,
  fitGammaGamma,
  probabilityAlive,
} from '../../../worker/customer/value'
import { VALUE_HORIZON_WEEKS, type ValueModel } from '../../../worker/customer/view'
import { makeEvent, SITE } from '../../fixtures/events'
import { seedSite, storeAsReceived } from '../helpers'

const DAY = 24 * 3600_000
const NOW = Date.now()
const TODAY = Math.floor(NOW / DAY)

// 30 customers over the last ~4 months: some buy often and lately, some once, some stopped.
const ORDERS = new Map<string, Array<{ daysAgo: number; revenue: number }>>()
for (let i = 0; i < 30; i++) {
  const kind = i % 3
  if (kind === 0)
    ORDERS.set(
      `often-${i}`,
      Array.from({ length: Math.ceil((110 - i) / 14) }, (_, k) => ({ daysAgo: 110 - i - 14 * k, revenue: 30 + i })),
    )
  if (kind === 1) ORDERS.set(`once-${i}`, [{ daysAgo: 60 + i, revenue: 25 }])
  if (kind === 2)
    ORDERS.set(
      `stopped-${i}`,
      [118 - i, 104 - i, 90 - i].map((daysAgo) => ({ daysAgo, revenue: 50 })),
    )
}

/** A customer's BG/NBD history in weeks and mean repeat value, worked out from the schedule above. */
const history = (customer: string) => {
  const days = ORDERS.get(customer)!.map((o) => ({ day: Math.floor((NOW - o.daysAgo * DAY) / DAY), amount: o.revenue }))
  const [first, last] = [days[0]!.day, days.at(-1)!.day]
  const x = days.length - 1
  return {
    x,
    tx: (last - first) / 7,
    T: (TODAY - first) / 7,
    monetary: x > 0 ? days.slice(1).reduce((n, d) => n + d.amount, 0) / x : 0,
  }
}

beforeAll(async () => {
  await seedSite()
  const events: VistaEvent[] = []
  for (const [visitor, orders] of ORDERS) {
    for (const { daysAgo, revenue } of orders) {
      events.push(
        makeEvent(
          'Order Completed',
          { order_id: `${visitor}-${daysAgo}`, revenue, products: [{ product_id: 'p', quantity: 1 }] },
          { anonymousId: visitor, timestamp: NOW - daysAgo * DAY },
        ),
      )
    }
  }
  await storeAsReceived(events)
})

const profile = async (anonymousId: string) => {
  const q = new URLSearchParams({ site: SITE.id, key: SITE.key, anonymousId })
  return (await (await app.request(`/v1/profile?${q}`, {}, env)).json()) as any
}

/** The model the Worker fitted and cached, after a first profile asked for it. */
const cachedModel = async () => (await env.CACHE.get<{ model: ValueModel }>(`value:${SITE.id}`, 'json'))!.model

describe('the site value model', () => {
  it('is fitted on the order histories read from D1', async () => {
    await profile('often-3')
    const model = await cachedModel()
    const customers = [...ORDERS.keys()].sort().map(history)
    const bgnbd = fitBgnbd(customers)
    expect(model.bgnbd.r).toBeCloseTo(bgnbd.r, 9)
    expect(model.bgnbd.alpha).toBeCloseTo(bgnbd.alpha, 9)
    expect(model.bgnbd.a).toBeCloseTo(bgnbd.a, 9)
    expect(model.bgnbd.b).toBeCloseTo(bgnbd.b, 9)
    const spend = fitGammaGamma(customers)
    expect(model.spend!.p).toBeCloseTo(spend.p, 9)
    expect(model.spend!.q).toBeCloseTo(spend.q, 9)
    expect(model.spend!.gamma).toBeCloseTo(spend.gamma, 9)
    const orders = [...ORDERS.values()].flat()
    expect(model.averageOrder).toBe(orders.reduce((n, o) => n + o.revenue, 0) / orders.length)
    // The upper median of the 30 customers' revenue: 10 once (25), 10 stopped (150), 10 often (8 or 7 orders).
    expect(model.medians.current).toBe(150)
  })
})

describe('predicted value in the customer view', () => {
  it("is the model's prediction for the customer's own orders", async () => {
    const model = await cachedModel()
    for (const customer of ['often-3', 'stopped-5', 'once-4']) {
      const c = history(customer)
      const purchases = expectedPurchases(model.bgnbd, c, VALUE_HORIZON_WEEKS)
      const perOrder = c.x > 0 ? expectedSpend(model.spend!, c.x, c.monetary) : model.averageOrder
      expect((await profile(customer)).value).toEqual({
        pAlive: probabilityAlive(model.bgnbd, c),
        expectedPurchases: purchases,
        predictedValue: purchases * perOrder,
      })
    }
  })

  it('rates a loyal recent buyer likely alive and worth more than one who stopped', async () => {
    const loyal = await profile('often-3')
    const gone = await profile('stopped-5')
    expect(loyal.value.pAlive).toBeGreaterThan(0.8)
    expect(gone.value.pAlive).toBeLessThan(loyal.value.pAlive)
    expect(loyal.value.predictedValue).toBeGreaterThan(gone.value.predictedValue)
    expect(loyal.value.expectedPurchases).toBeGreaterThan(1)
  })

  it('places customers on the current-against-predicted value 2x2, saying why', async () => {
    const model = await cachedModel()
    const loyal = await profile('often-3')
    const segment = loyal.segments.find((s: { id: string }) => s.id.startsWith('value:'))
    expect(segment).toEqual({
      id: 'value:keep',
      reason: `spent 264.00 (median 150.00), predicted ${loyal.value.predictedValue.toFixed(2)} (median ${model.medians.future.toFixed(2)})`,
    })
    expect(loyal.scores.quadrant).toBe('keep')
    const gone = await profile('stopped-5')
    expect(gone.scores.quadrant).toBe('win-back')
    expect(gone.value.predictedValue).toBeLessThan(model.medians.future)
  })
})

describe('a value model that ran off', () => {
  it('counts as no model: the profile and decide answer 200 without value, never 500', async () => {
    // What KV holds after a fit whose predictions were NaN: JSON writes NaN as null.
    const ranOff = {
      bgnbd: { r: 0.2, alpha: 4, a: 1e6, b: 1e6 },
      spend: null,
      averageOrder: 30,
      medians: { current: 30, future: null },
    }
    await env.CACHE.put(`value:${SITE.id}`, JSON.stringify({ model: ranOff }))
    const loyal = await profile('often-3')
    expect(loyal.value).toBeNull()
    expect(loyal.scores.quadrant).toBeNull()
    const res = await app.request(
      '/v1/decide',
      {
        method: 'POST',
        headers: { Origin: SITE.origin },
        body: JSON.stringify({ site: SITE.id, key: SITE.key, anonymousId: 'often-3', placement: 'top' }),
      },
      env,
    )
    expect(res.status).toBe(200)
    await env.CACHE.delete(`value:${SITE.id}`)
  })
})
