import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { VistaEvent } from '../../../contract'
import app from '../../../worker/app'
import { makeEvent, SITE } from '../../fixtures/events'
import { seedSite, storeAsReceived } from '../helpers'

const DAY = 24 * 3600_000
const NOW = Date.now()

const order = (visitor: string, daysAgo: number, revenue: number) =>
  makeEvent(
    'Order Completed',
    { order_id: `${visitor}-${daysAgo}`, revenue, products: [{ product_id: 'p', quantity: 1 }] },
    { anonymousId: visitor, timestamp: NOW - daysAgo * DAY },
  )

beforeAll(async () => {
  await seedSite()
  // 30 customers over the last ~4 months: some buy often and lately, some once, some stopped.
  const events: VistaEvent[] = []
  for (let i = 0; i < 30; i++) {
    const kind = i % 3
    if (kind === 0) for (let d = 110 - i; d > 0; d -= 14) events.push(order(`often-${i}`, d, 30 + i))
    if (kind === 1) events.push(order(`once-${i}`, 60 + i, 25))
    if (kind === 2) for (const d of [118 - i, 104 - i, 90 - i]) events.push(order(`stopped-${i}`, d, 50))
  }
  await storeAsReceived(events)
})

const profile = async (anonymousId: string) => {
  const q = new URLSearchParams({ site: SITE.id, key: SITE.key, anonymousId })
  return (await (await app.request(`/v1/profile?${q}`, {}, env)).json()) as any
}

describe('predicted value in the customer view', () => {
  it('rates a loyal recent buyer likely alive and worth more than one who stopped', async () => {
    const loyal = await profile('often-3')
    const gone = await profile('stopped-5')
    expect(loyal.value.pAlive).toBeGreaterThan(0.8)
    expect(gone.value.pAlive).toBeLessThan(loyal.value.pAlive)
    expect(loyal.value.predictedValue).toBeGreaterThan(gone.value.predictedValue)
    expect(loyal.value.expectedPurchases).toBeGreaterThan(1)
  })

  it('places customers on the current-against-predicted value 2x2, saying why', async () => {
    const loyal = await profile('often-3')
    const segment = loyal.segments.find((s: { id: string }) => s.id.startsWith('value:'))
    expect(segment.id).toBe('value:keep')
    expect(segment.reason).toMatch(/^spent \d+\.\d\d \(median \d+\.\d\d\), predicted \d+\.\d\d \(median \d+\.\d\d\)$/)
    expect(loyal.scores.quadrant).toBe('keep')
    const gone = await profile('stopped-5')
    expect(gone.scores.quadrant).toBe('win-back')
  })
})

describe('a value model that ran off', () => {
  it('counts as no model: the profile and decide answer 200 without value, never 500', async () => {
    // What KV holds after a fit whose predictions were NaN: JSON writes NaN as null.
    const ranOff = { bgnbd: { r: 0.2, alpha: 4, a: 1e6, b: 1e6 }, spend: null, averageOrder: 30, medians: { current: 30, future: null } }
    await env.CACHE.put(`value:${SITE.id}`, JSON.stringify({ model: ranOff }))
    const loyal = await profile('often-3')
    expect(loyal.value).toBeNull()
    expect(loyal.scores.quadrant).toBeNull()
    const res = await app.request('/v1/decide', { method: 'POST', headers: { Origin: SITE.origin }, body: JSON.stringify({ site: SITE.id, key: SITE.key, anonymousId: 'often-3', placement: 'top' }) }, env)
    expect(res.status).toBe(200)
    await env.CACHE.delete(`value:${SITE.id}`)
  })
})
