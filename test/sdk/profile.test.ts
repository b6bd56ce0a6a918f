import { describe, expect, it } from 'vitest'
import { applyEvent, emptyProfile, type Profile } from '../../sdk/profile'
import { MAX_RECENT, type VistaEvent } from '../../contract'
import { makeEvent } from '../fixtures/events'

const fold = (events: VistaEvent[], start: Profile = emptyProfile('anon-1')) => events.reduce(applyEvent, start)
const DAY = 24 * 3600_000

describe('applyEvent()', () => {
  it('keeps the cart in step with adds, removes, a cart snapshot and an order', () => {
    const add = (id: string, quantity?: number) =>
      makeEvent('Product Added', { product_id: id, category: 'tea', ...(quantity ? { quantity } : {}) })
    let p = fold([add('a'), add('a', 2), add('b'), makeEvent('Product Removed', { product_id: 'a', quantity: 1 })])
    expect(p.cart).toEqual({ a: 2, b: 1 })
    p = fold([makeEvent('Product Removed', { product_id: 'b' })], p)
    expect(p.cart).toEqual({ a: 2 })
    p = fold([makeEvent('Cart Viewed', { products: [{ product_id: 'c', quantity: 3 }] })], p)
    expect(p.cart).toEqual({ c: 3 })
    p = fold(
      [
        makeEvent('Order Completed', {
          order_id: 'o1',
          revenue: 30.1,
          products: [{ product_id: 'c', category: 'tea' }],
        }),
      ],
      p,
    )
    expect(p).toMatchObject({ cart: {}, orders: 1, revenue: 30.1, orderIds: ['o1'] })
    expect(p.categories).toEqual({ tea: 4 })
  })

  it('counts an order once however often its confirmation is tracked', () => {
    const order = makeEvent('Order Completed', { order_id: 'o1', revenue: 10, products: [{ product_id: 'a' }] })
    expect(fold([order, { ...order, id: 'other' }, order])).toMatchObject({ orders: 1, revenue: 10 })
  })

  it('keeps recently viewed items newest first, without repeats, capped', () => {
    const views = Array.from({ length: MAX_RECENT + 5 }, (_, i) => makeEvent('Product Viewed', { product_id: `p${i}` }))
    const p = fold([...views, makeEvent('Product Viewed', { product_id: 'p10' })])
    expect(p.recent).toHaveLength(MAX_RECENT)
    expect(p.recent.slice(0, 3).map((r) => r.id)).toEqual(['p10', `p${MAX_RECENT + 4}`, `p${MAX_RECENT + 3}`])
    expect(p.recent.filter((r) => r.id === 'p10')).toHaveLength(1)
  })

  it('keeps what was done with each product and when: one entry per product and kind, newest first', () => {
    const t = Date.UTC(2026, 0, 1, 10)
    const at = (s: number) => ({ timestamp: t + s * 1000 })
    const p = fold([
      makeEvent('Product Viewed', { product_id: 'a' }, at(1)),
      makeEvent('Product Added', { product_id: 'a', quantity: 2 }, at(2)),
      makeEvent('Product Viewed', { product_id: 'b' }, at(3)),
      makeEvent('Product Viewed', { product_id: 'a' }, at(4)),
      makeEvent('Product Reviewed', { product_id: 'b', rating: 2 }, at(5)),
      makeEvent('Product Removed', { product_id: 'a' }, at(6)),
      makeEvent(
        'Order Completed',
        { order_id: 'o1', revenue: 9, products: [{ product_id: 'b' }, { product_id: 'c' }] },
        at(7),
      ),
    ])
    expect(p.recent).toEqual([
      { id: 'c', kind: 'buy', ts: t + 7000 },
      { id: 'b', kind: 'buy', ts: t + 7000 },
      { id: 'b', kind: 'rate', ts: t + 5000, rating: 2 },
      { id: 'a', kind: 'view', ts: t + 4000 },
      { id: 'b', kind: 'view', ts: t + 3000 },
      { id: 'a', kind: 'add', ts: t + 2000 },
    ])
  })

  it('counts sessions by session id and visits by calendar day', () => {
    const t = Date.UTC(2026, 0, 1, 10)
    const p = fold([
      makeEvent('Page Viewed', {}, { sessionId: 's1', timestamp: t }),
      makeEvent('Page Viewed', {}, { sessionId: 's1', timestamp: t + 60_000 }),
      makeEvent('Page Viewed', {}, { sessionId: 's2', timestamp: t + 3600_000 }),
      makeEvent('Page Viewed', {}, { sessionId: 's3', timestamp: t + DAY }),
    ])
    expect(p).toMatchObject({ pageViews: 4, sessions: 3, visits: 2, firstSeen: t, lastSeen: t + DAY, events: 4 })
  })

  it('keeps the latest rating per item and the user id once known', () => {
    const p = fold([
      makeEvent('Product Reviewed', { product_id: 'a', rating: 2 }),
      makeEvent('Product Reviewed', { product_id: 'a', rating: 5 }, { userId: 'u-7' }),
    ])
    expect(p.ratings).toEqual({ a: 5 })
    expect(p.userId).toBe('u-7')
  })

  it('leaves its input untouched', () => {
    const before = emptyProfile('anon-1')
    const copy = structuredClone(before)
    applyEvent(before, makeEvent('Product Added', { product_id: 'a', category: 'tea' }))
    expect(before).toEqual(copy)
  })
})
