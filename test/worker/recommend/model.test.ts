import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { VistaEvent } from '../../../contract'
import { makeEvent, SITE } from '../../fixtures/events'
import { batch, postEvents, seedSite } from '../helpers'

beforeAll(() => seedSite())

const view = (visitor: string, item: string, at = Date.now()) =>
  makeEvent('Product Viewed', { product_id: item, category: 'tea' }, { anonymousId: visitor, timestamp: at })
const pairs = async (kind: string, a: string) =>
  Object.fromEntries(
    (
      await env.DB.prepare('SELECT b, weight FROM item_pairs WHERE site_id = ? AND kind = ? AND a = ? ORDER BY b')
        .bind(SITE.id, kind, a)
        .all<{ b: string; weight: number }>()
    ).results.map((r) => [r.b, r.weight]),
  )
const stats = (item: string) =>
  env.DB.prepare('SELECT * FROM item_stats WHERE site_id = ? AND item_id = ?').bind(SITE.id, item).first<{
    visitors: number
    buyers: number
    views: number
    adds: number
    purchases: number
    trend: number
  }>()
const post = async (events: VistaEvent[]) => expect((await postEvents(batch(events))).status).toBe(200)

describe('indexing on ingest', () => {
  it('pairs the items one shopper interacted with, once per pair, in both directions', async () => {
    const events = [view('v1', 'm-a'), view('v1', 'm-b'), view('v1', 'm-c'), view('v1', 'm-a')]
    await post(events)
    await post(events) // a retry changes nothing
    expect(await pairs('seen', 'm-a')).toEqual({ 'm-b': 1, 'm-c': 1 })
    expect(await pairs('seen', 'm-c')).toEqual({ 'm-a': 1, 'm-b': 1 })
  })

  it('counts the same pairs whether events arrive in one batch or many', async () => {
    await post([view('v2', 'm-a')])
    await post([view('v2', 'm-b')])
    await post([view('v2', 'm-a'), view('v2', 'm-d')])
    expect(await pairs('seen', 'm-a')).toEqual({ 'm-b': 2, 'm-c': 1, 'm-d': 1 })
    expect(await pairs('seen', 'm-d')).toEqual({ 'm-a': 1, 'm-b': 1 })
  })

  it('pairs the products of an order, and with earlier purchases, as bought together', async () => {
    const order = (id: string, items: string[]) =>
      makeEvent(
        'Order Completed',
        { order_id: id, revenue: 10, products: items.map((product_id) => ({ product_id, quantity: 1 })) },
        { anonymousId: 'v3' },
      )
    await post([order('o-1', ['b-x', 'b-y'])])
    await post([order('o-2', ['b-z'])])
    expect(await pairs('bought', 'b-x')).toEqual({ 'b-y': 1, 'b-z': 1 })
    expect(await pairs('bought', 'b-z')).toEqual({ 'b-x': 1, 'b-y': 1 })
    expect(await stats('b-x')).toMatchObject({ purchases: 1, buyers: 1, visitors: 1 })
  })

  it('keeps per-item counts and a trend that favours recent activity', async () => {
    const hourAgo = Date.now() - 3600_000
    const weekAgo = Date.now() - 7 * 24 * 3600_000
    await post([
      view('v4', 't-new', hourAgo),
      view('v5', 't-new', hourAgo),
      view('v4', 't-old', weekAgo),
      view('v5', 't-old', weekAgo),
    ])
    await post([makeEvent('Product Added', { product_id: 't-new' }, { anonymousId: 'v4' })])
    const [fresh, old] = [(await stats('t-new'))!, (await stats('t-old'))!]
    expect(fresh).toMatchObject({ visitors: 2, views: 2, adds: 1 })
    expect(old).toMatchObject({ visitors: 2, views: 2, adds: 0 })
    // Two views a week ago weigh half of two views now (half-life 7 days); the cart add weighs 3.
    expect(Math.exp(fresh.trend - old.trend)).toBeCloseTo((2 + 3) / 1 / (2 * 0.5), 1)
  })

  it('remembers the latest rating and "not interested" per shopper and item', async () => {
    const t = Date.now() - 1000
    await post([
      makeEvent('Product Reviewed', { product_id: 'r-1', rating: 5 }, { anonymousId: 'v6', timestamp: t }),
      makeEvent('Product Reviewed', { product_id: 'r-1', rating: 2 }, { anonymousId: 'v6', timestamp: t + 10 }),
      makeEvent('Recommendation Dismissed', { product_id: 'r-2' }, { anonymousId: 'v6' }),
    ])
    const rows = await env.DB.prepare(
      'SELECT item_id, rating, dismissed FROM visitor_items WHERE site_id = ? AND anonymous_id = ? ORDER BY item_id',
    )
      .bind(SITE.id, 'v6')
      .all()
    expect(rows.results).toEqual([
      { item_id: 'r-1', rating: 2, dismissed: 0 },
      { item_id: 'r-2', rating: null, dismissed: 1 },
    ])
  })

  it('leaves no event unindexed', async () => {
    const pending = await env.DB.prepare('SELECT COUNT(*) AS n FROM events WHERE indexed = 0').first<{ n: number }>()
    expect(pending!.n).toBe(0)
  })
})
