import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertItems } from '../../../worker/admin/store'
import app from '../../../worker/app'
import type { RecommendationAnswer } from '../../../contract'
import { makeEvent } from '../../fixtures/events'
import { adminFor, batchFor, catalogRow, queryFor, seedTestSite, sendFor, testSite, type TestSite } from '../helpers'

const shop = testSite('edge-cache')
const other = testSite('edge-cache-other')

const views = (s: TestSite, visitor: string, items: string[]) =>
  sendFor(
    s,
    'POST',
    '/v1/events',
    batchFor(
      s,
      items.map((product_id) => makeEvent('Product Viewed', { product_id }, { anonymousId: visitor })),
    ),
  )

beforeAll(async () => {
  for (const s of [shop, other]) await seedTestSite(s)
  await upsertItems(env.DB, shop.id, [
    catalogRow('tea', 'Sencha', 'tea', 9),
    catalogRow('pot', 'Teapot', 'kitchen', 40),
    catalogRow('cup', 'Cup', 'kitchen', 12),
    catalogRow('book', 'Tea book', 'books', 20),
  ])
  // The same ids on another site, under other titles: a cache shared across sites would show them.
  await upsertItems(env.DB, other.id, [
    catalogRow('tea', 'Other tea', 'tea', 1),
    catalogRow('pot', 'Other pot', 'kitchen', 2),
  ])
  await views(shop, 'a', ['tea', 'pot'])
  await views(shop, 'b', ['tea', 'pot'])
  await views(other, 'x', ['tea', 'pot'])
})

/** An answer and the D1 round trips it says it waited for. */
async function recommend(s: TestSite, params: Record<string, string>) {
  const res = await app.request(`/v1/recommendations?${queryFor(s, { limit: '3', ...params })}`, {}, env)
  expect(res.status).toBe(200)
  const timing = res.headers.get('Server-Timing')
  return { body: (await res.json()) as RecommendationAnswer, d1: Number(/^d1;desc=(\d+)$/.exec(timing ?? '')?.[1]) }
}
const ids = (a: RecommendationAnswer) => a.items.map((i) => i.id)

describe('the edge cache of shared parts', () => {
  it('answers a non-personal strategy with no D1 round trip once its parts are cached', async () => {
    // Cold: the item's parts and trending, then its category's trending (known from the item's row).
    const cold = await recommend(shop, { strategy: 'also-viewed', item: 'tea', anonymousId: 'c' })
    expect(cold.d1).toBe(2)
    const hot = await recommend(shop, { strategy: 'also-viewed', item: 'tea', anonymousId: 'c' })
    expect(hot.d1).toBe(0)
    expect(ids(hot.body)).toEqual(ids(cold.body))
    expect(ids(hot.body)[0]).toBe('pot')
    // Trending is one part every strategy reads: cached already.
    expect((await recommend(shop, { strategy: 'trending' })).d1).toBe(0)
    // The device's items only hide what it dismissed or bought here: no part of theirs is read for that.
    expect(ids((await recommend(shop, { strategy: 'trending' })).body)).toContain('pot')
    const hiding = await recommend(shop, { strategy: 'trending', recent: 'pot.d5,book.v9' })
    expect(hiding.d1).toBe(0)
    expect(ids(hiding.body)).not.toContain('pot')
    expect(ids(hiding.body)).toContain('tea')
  })

  it('answers "for you" with one D1 round trip, the shopper history, and shows her last event at once', async () => {
    await recommend(shop, { strategy: 'for-you', anonymousId: 'a' })
    const hot = await recommend(shop, { strategy: 'for-you', anonymousId: 'a' })
    expect(hot.d1).toBe(1)
    // A new shopper's first view, stored while every shared part is cached: her next answer follows it.
    await views(shop, 'd', ['book'])
    const after = await recommend(shop, { strategy: 'recently-viewed', anonymousId: 'd' })
    expect(after.d1).toBe(1)
    expect(ids(after.body)).toEqual(['book'])
  })

  it('serves shared lists as cached until their TTL: new co-views show only once read again from D1', async () => {
    const before = await recommend(shop, { strategy: 'also-viewed', item: 'book' })
    await views(shop, 'e', ['book', 'cup'])
    await views(shop, 'f', ['book', 'cup'])
    const cached = await recommend(shop, { strategy: 'also-viewed', item: 'book' })
    expect(cached.d1).toBe(0)
    expect(ids(cached.body)).toEqual(ids(before.body))
    const res = await app.request(
      `/v1/recommendations?${queryFor(shop, { strategy: 'also-viewed', item: 'book', limit: '1' })}`,
      {},
      { ...env, SHARED_CACHE: 'off' },
    )
    expect(((await res.json()) as RecommendationAnswer).items.map((i) => i.id)).toEqual(['cup'])
  })

  it('shows a catalog change made through the admin API at once', async () => {
    await recommend(shop, { strategy: 'also-viewed', item: 'tea' })
    expect((await adminFor(shop, 'PATCH', '/catalog/stock', { items: [{ id: 'pot', in_stock: false }] })).status).toBe(
      200,
    )
    const sold = await recommend(shop, { strategy: 'also-viewed', item: 'tea' })
    expect(sold.d1).toBe(2)
    expect(ids(sold.body)).not.toContain('pot')
    const price = await adminFor(shop, 'POST', '/catalog', {
      items: [{ id: 'cup', title: 'Big cup', category: 'kitchen', price: 14, in_stock: true }],
    })
    expect(await price.json()).toEqual({ created: 0, updated: 1, rejected: [] })
    const renamed = await recommend(shop, { strategy: 'trending', limit: '8' })
    expect(renamed.body.items.find((i) => i.id === 'cup')).toMatchObject({ title: 'Big cup', price: 14 })
  })

  it('keeps each site to its own parts, even for the same item ids', async () => {
    const mine = await recommend(other, { strategy: 'also-viewed', item: 'tea' })
    expect(mine.body.items.map((i) => i.title)).toEqual(['Other pot'])
  })
})
