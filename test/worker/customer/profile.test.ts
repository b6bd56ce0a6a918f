import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { VistaEvent } from '../../../contract'
import { upsertItems } from '../../../worker/admin/store'
import app from '../../../worker/app'
import { makeEvent, SITE } from '../../fixtures/events'
import { giveIdentitySecret, seedSite, signIds, storeAsReceived } from '../helpers'

const DAY = 24 * 3600_000
const NOW = Date.now()

const order = (visitor: string, daysAgo: number, revenue: number, product = 'tea-1') =>
  makeEvent(
    'Order Completed',
    { order_id: `${visitor}-${daysAgo}`, revenue, products: [{ product_id: product, quantity: 1 }] },
    { anonymousId: visitor, timestamp: NOW - daysAgo * DAY },
  )
const views = (visitor: string, daysAgo: number, n: number, product = 'tea-1') =>
  Array.from({ length: n }, (_, i) =>
    makeEvent(
      'Product Viewed',
      { product_id: product },
      { anonymousId: visitor, timestamp: NOW - daysAgo * DAY + i * 1000 },
    ),
  )

beforeAll(async () => {
  await seedSite()
  await upsertItems(env.DB, SITE.id, [
    { id: 'tea-1', title: 'Sencha', category: 'tea', price: 9, image: null, description: null, in_stock: 1 },
    { id: 'pot-1', title: 'Teapot', category: 'kitchen', price: 40, image: null, description: null, in_stock: 1 },
  ])
  // Ten ordinary buyers, so that quintiles have a population.
  for (let i = 0; i < 10; i++) await storeAsReceived([order(`crowd-${i}`, 20 + i, 20 + i)])
  // A loyal shopper on two browsers: a phone (anonymous, weeks of steady activity and orders) and a
  // laptop, then a login on both; lately they went quiet.
  const phone: VistaEvent[] = []
  // Mid-week days, so every week's six events land in one weekly bucket.
  for (let week = 9; week >= 2; week--) phone.push(...views('phone', week * 7 + 3, 5), order('phone', week * 7 + 3, 60))
  await storeAsReceived(phone)
  await storeAsReceived(views('laptop', 1, 1, 'pot-1'))
  await giveIdentitySecret(SITE.id)
  const signatures = await signIds({ userId: 'dana' })
  for (const anonymousId of ['phone', 'laptop']) {
    await app.request(
      '/v1/identify',
      {
        method: 'POST',
        headers: { Origin: SITE.origin },
        body: JSON.stringify({ site: SITE.id, key: SITE.key, anonymousId, userId: 'dana', signatures }),
      },
      env,
    )
  }
})

const profile = async (anonymousId: string, origin?: string) => {
  const q = new URLSearchParams({ site: SITE.id, key: SITE.key, anonymousId })
  const res = await app.request(`/v1/profile?${q}`, { headers: origin ? { Origin: origin } : {} }, env)
  return { status: res.status, body: (await res.json()) as any }
}

describe('GET /v1/profile', () => {
  it('gathers every browser of the shopper, history from before login included', async () => {
    const { status, body } = await profile('laptop')
    expect(status).toBe(200)
    expect(body.uid).toMatch(/^uid_/)
    // The other browser's id is its credential: shown by its first characters only.
    expect([...body.browsers].sort()).toEqual(['laptop', 'phone…'])
    expect(body.identities.map((i: { kind: string }) => i.kind).sort()).toEqual(['anonymous', 'anonymous', 'user'])
    expect(body.summary).toMatchObject({ orders: 8, revenue: 480, events: 8 * 6 + 1 })
    expect(body.summary.categories).toEqual({ tea: 8 * 5 + 8 * 5, kitchen: 1 })
  })

  it('explains each segment: RFM, lifecycle, churn below their own baseline, tier, lifestyle', async () => {
    const { body } = await profile('phone')
    const segments = Object.fromEntries(body.segments.map((s: { id: string; reason: string }) => [s.id, s.reason]))
    // Against ten one-order buyers of 20-29 who last bought 20-29 days ago, 8 orders, 480 spent, 17 days ago.
    expect(body.scores.rfm).toEqual({ r: 5, f: 5, m: 5, group: 'champions' })
    expect(Object.keys(segments)).toEqual(['rfm:champions', 'active', 'churn-warning', 'tier-a', 'likes:tea'])
    expect(segments['rfm:champions']).toBe('R5 F5 M5: last order 17 days ago, 8 orders, 480.00 spent')
    expect(segments['tier-a']).toBe('66.2% of revenue; tier A starts at 480.00')
    expect(body.summary.weeklyActivity).toEqual([6, 6, 6, 6, 6, 6, 6, 6, 0, 1])
    expect(segments['churn-warning']).toBe('0.5 events/week lately against their usual 6.0 (-92%)')
    expect(segments['likes:tea']).toBe('99% of their interest is in tea')
    expect(body.scores.tier).toBe('A')
  })

  it('describes a browser never identified on its own', async () => {
    const { body } = await profile('crowd-3')
    expect(body.uid).toBeNull()
    expect(body.browsers).toEqual(['crowd-3'])
    // Its last order (23 days ago) equals the third recency cut, and 23 is above only the first monetary cut (22).
    expect(body.scores.rfm).toEqual({ r: 3, f: 1, m: 2, group: 'about-to-sleep' })
    expect(body.segments[0]).toEqual({
      id: 'rfm:about-to-sleep',
      reason: 'R3 F1 M2: last order 23 days ago, 1 order, 23.00 spent',
    })
    expect(body.scores.tier).toBe('C')
  })

  it('refuses a bad anonymous id and a foreign origin', async () => {
    expect((await profile('bad id')).status).toBe(400)
    expect((await profile('phone', 'https://evil.example')).status).toBe(403)
  })
})
