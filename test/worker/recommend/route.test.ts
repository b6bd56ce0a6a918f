import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertItems } from '../../../worker/admin/store'
import app from '../../../worker/app'
import type { RecommendationAnswer } from '../../../contract'
import { makeEvent, SITE } from '../../fixtures/events'
import { batch, catalogRow, postEvents, seedSite } from '../helpers'

const CATALOG = [
  ['tea-1', 'Sencha', 'tea', 9],
  ['tea-2', 'Assam', 'tea', 8],
  ['tea-3', 'Oolong', 'tea', 15],
  ['tea-4', 'Rooibos', 'tea', 7],
  ['pot-1', 'Teapot', 'kitchen', 40],
  ['cup-1', 'Cup', 'kitchen', 12],
  ['kettle', 'Kettle', 'kitchen', 60],
  ['book-1', 'Tea book', 'books', 20],
  ['gone', 'Sold out', 'tea', 5],
] as const

beforeAll(async () => {
  await seedSite()
  await upsertItems(
    env.DB,
    SITE.id,
    CATALOG.map(([id, title, category, price]) =>
      catalogRow(id, title, category, price, { in_stock: id === 'gone' ? 0 : 1 }),
    ),
  )
  // Shoppers s1..s6 view tea-1 with tea-2 (4 of them) or pot-1 (2); s5 buys tea-1 with pot-1 and cup-1.
  const views = (visitor: string, items: string[]) =>
    items.map((product_id) => makeEvent('Product Viewed', { product_id }, { anonymousId: visitor }))
  await postEvents(
    batch([
      ...views('s1', ['tea-1', 'tea-2']),
      ...views('s2', ['tea-1', 'tea-2', 'pot-1']),
      ...views('s3', ['tea-1', 'tea-2', 'gone']),
      ...views('s4', ['tea-1', 'pot-1', 'book-1']),
      ...views('s6', ['tea-1', 'tea-2']),
      makeEvent(
        'Order Completed',
        {
          order_id: 's5-1',
          revenue: 61,
          products: [{ product_id: 'tea-1' }, { product_id: 'pot-1' }, { product_id: 'cup-1' }],
        },
        { anonymousId: 's5' },
      ),
    ]),
  )
})

const get = async (params: Record<string, string>) => {
  const q = new URLSearchParams({ site: SITE.id, key: SITE.key, ...params })
  // These tests read back each change of the shared model at once: test/worker/recommend/cache.test.ts
  // covers the edge cache, which serves shared lists up to SHARED_TTL old.
  const res = await app.request(`/v1/recommendations?${q}`, {}, { ...env, SHARED_CACHE: 'off' })
  return {
    status: res.status,
    body: (await res.json()) as RecommendationAnswer & { error?: string; issues?: Array<{ path: string }> },
  }
}
const ids = (a: RecommendationAnswer) => a.items.map((i) => i.id)

describe('GET /v1/recommendations', () => {
  it('answers also-viewed from co-views, with reasons, an id and no sold-out item', async () => {
    const { status, body } = await get({ strategy: 'also-viewed', item: 'tea-1', limit: '3' })
    expect(status).toBe(200)
    expect(body.id).toMatch(/^rec_[0-9a-f]{24}$/)
    expect(ids(body)).toEqual(['tea-2', 'pot-1', 'book-1'])
    expect(body.items[0]).toMatchObject({ title: 'Assam', category: 'tea', price: 8 })
    expect(body.items[0]!.reasons).toEqual(['Shoppers who viewed Sencha also viewed this'])
    const logged = await env.DB.prepare('SELECT strategy, items FROM recommendations WHERE id = ?')
      .bind(body.id)
      .first()
    expect(logged).toEqual({ strategy: 'also-viewed', items: JSON.stringify(ids(body)) })
  })

  it('changes its answer as soon as a new event is accepted', async () => {
    const before = await get({ strategy: 'also-viewed', item: 'kettle', limit: '2' })
    expect(ids(before.body)).not.toContain('cup-1')
    await postEvents(
      batch(
        ['kettle', 'cup-1'].map((product_id) => makeEvent('Product Viewed', { product_id }, { anonymousId: 's9' })),
      ),
    )
    const after = await get({ strategy: 'also-viewed', item: 'kettle', limit: '2' })
    expect(ids(after.body)[0]).toBe('cup-1')
    expect(after.body.items[0]!.reasons[0]).toBe('Shoppers who viewed Kettle also viewed this')
  })

  it('answers frequently bought together from orders', async () => {
    const { body } = await get({ strategy: 'also-bought', item: 'pot-1', limit: '2' })
    expect(ids(body).sort()).toEqual(['cup-1', 'tea-1'])
    expect(body.items[0]!.reasons[0]).toBe('Often bought with Teapot')
  })

  it('complements the whole cart without repeating what is in it', async () => {
    const { body } = await get({ strategy: 'cart', cart: 'tea-1,pot-1', limit: '3' })
    expect(ids(body)[0]).toBe('cup-1')
    expect(ids(body)).not.toContain('tea-1')
    expect(body.items[0]!.reasons).toContain('Goes with Sencha in your cart')
  })

  it('personalises for a shopper from their history, saying why', async () => {
    await postEvents(batch([makeEvent('Product Added', { product_id: 'tea-1' }, { anonymousId: 'me' })]))
    const { body } = await get({ strategy: 'for-you', anonymousId: 'me', limit: '3' })
    expect(ids(body)[0]).toBe('tea-2')
    expect(body.items[0]!.reasons[0]).toBe('Because you added Sencha to your cart')
  })

  it('lets a low rating push similar items down', async () => {
    const rate = (visitor: string, rating: number) =>
      postEvents(batch([makeEvent('Product Reviewed', { product_id: 'tea-1', rating }, { anonymousId: visitor })]))
    await rate('fan', 5)
    await rate('critic', 1)
    const fan = await get({ strategy: 'for-you', anonymousId: 'fan', limit: '3' })
    const critic = await get({ strategy: 'for-you', anonymousId: 'critic', limit: '3' })
    expect(ids(fan.body)[0]).toBe('tea-2')
    expect(fan.body.items[0]!.reasons[0]).toBe('Because you rated Sencha 5/5')
    expect(ids(critic.body)).not.toContain('tea-2')
    expect(ids(critic.body)).not.toContain('tea-1')
  })

  it('personalises the very first page view from its context', async () => {
    const { body } = await get({ strategy: 'for-you', anonymousId: 'brand-new', category: 'kitchen', limit: '3' })
    expect(body.items.length).toBe(3)
    expect(body.items[0]!.category).toBe('kitchen')
    expect(body.items[0]!.reasons[0]).toBe('Popular in kitchen, a category you like')
  })

  it('lists recently viewed items, newest first', async () => {
    const { body } = await get({ strategy: 'recently-viewed', anonymousId: 's2', limit: '5' })
    expect(ids(body).sort()).toEqual(['pot-1', 'tea-1', 'tea-2'])
    expect(body.items[0]!.reasons[0]).toMatch(/^You viewed this /)
  })

  it('applies filters, boosts, pins, exclusions and diversity', async () => {
    const rules = (r: object) => JSON.stringify(r)
    const only = await get({
      strategy: 'trending',
      limit: '8',
      rules: rules({ categories: ['kitchen'], maxPrice: 50 }),
    })
    expect(new Set(only.body.items.map((i) => i.category))).toEqual(new Set(['kitchen']))
    expect(only.body.items.every((i) => i.price <= 50)).toBe(true)
    const pinned = await get({
      strategy: 'trending',
      limit: '3',
      rules: rules({ pin: ['kettle'], exclude: ['tea-1'] }),
    })
    expect(ids(pinned.body)[0]).toBe('kettle')
    expect(pinned.body.items[0]!.reasons).toEqual(['Featured by the shop'])
    expect(ids(pinned.body)).not.toContain('tea-1')
    const boosted = await get({
      strategy: 'trending',
      limit: '1',
      rules: rules({ boost: [{ category: 'books', factor: 100 }] }),
    })
    expect(ids(boosted.body)).toEqual(['book-1'])
    const diverse = await get({ strategy: 'trending', limit: '3', rules: rules({ maxPerCategory: 1 }) })
    expect(new Set(diverse.body.items.map((i) => i.category)).size).toBe(3)
  })

  it('never shows an item the shopper is not interested in', async () => {
    await postEvents(batch([makeEvent('Recommendation Dismissed', { product_id: 'tea-2' }, { anonymousId: 'picky' })]))
    // "For you" reads the stored history: a dismissal on any of the customer's browsers counts.
    const personal = await get({ strategy: 'for-you', item: 'tea-1', anonymousId: 'picky', limit: '8' })
    expect(ids(personal.body)).toEqual(['pot-1', 'cup-1', 'kettle', 'book-1', 'tea-3', 'tea-4'])
    // Also-viewed reads no history (no D1 read): the device's recent items say what it dismissed.
    const shared = { strategy: 'also-viewed', item: 'tea-1', anonymousId: 'picky', limit: '8' }
    expect(ids((await get(shared)).body)).toContain('tea-2')
    const { body } = await get({ ...shared, recent: 'tea-2.d5' })
    expect(ids(body)).toEqual(['pot-1', 'book-1', 'cup-1', 'kettle', 'tea-3', 'tea-4'])
  })

  it('uses the site defaults set by the marketer, which a request may override', async () => {
    await seedSite(undefined, { recommendations: { rules: { exclude: ['tea-2'] } } })
    await env.CACHE.delete(`site:${SITE.id}`)
    expect(ids((await get({ strategy: 'also-viewed', item: 'tea-1' })).body)).not.toContain('tea-2')
    const override = await get({ strategy: 'also-viewed', item: 'tea-1', rules: JSON.stringify({ exclude: [] }) })
    expect(ids(override.body)).toContain('tea-2')
    await seedSite()
    await env.CACHE.delete(`site:${SITE.id}`)
  })

  it.each([
    [{ strategy: 'nope' }, 'strategy'],
    [{ limit: '500' }, 'limit'],
    [{ rules: '{bad' }, 'rules'],
    [{ rules: JSON.stringify({ maxPrice: -1 }) }, 'rules.maxPrice'],
  ])('names the bad parameter %j with 400', async (params, path) => {
    const { status, body } = await get(params as Record<string, string>)
    expect(status).toBe(400)
    expect(body.issues?.[0]?.path).toBe(path)
  })
})
