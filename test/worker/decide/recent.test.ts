// POST /v1/decide with the device's recent items: conditions on the shopper's items and cart see
// what the device knows before D1 does, and nothing the device sent is stored.
import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertItems } from '../../../worker/admin/store'
import { upsertActions } from '../../../worker/decide/store'
import { actionSchema } from '../../../worker/decide/engine'
import app from '../../../worker/app'
import type { DecisionAnswer } from '../../../contract'
import { makeEvent, SITE } from '../../fixtures/events'
import { seedSite, storeAsReceived } from '../helpers'

const ACTIONS = [
  {
    id: 'descaler',
    title: 'Descaler',
    text: 'Keep your kettle fresh',
    placement: 'top',
    value: 2,
    when: { $or: [{ 'history.viewed': { $contains: 'kettle' } }, { 'history.added': { $contains: 'kettle' } }] },
  },
  {
    id: 'saucer',
    title: 'Saucer',
    text: 'For your cup',
    placement: 'cart',
    value: 2,
    when: { 'cart.items': 'cup-1' },
  },
  {
    id: 'review-thanks',
    title: 'Thanks',
    text: 'For your review',
    placement: 'footer',
    value: 2,
    when: { 'history.rated': { $in: ['kettle', 'cup-1'] } },
  },
].map((a) => actionSchema.parse(a))

beforeAll(async () => {
  await seedSite(undefined, { decide: { holdoutShare: 0 } })
  await upsertActions(env.DB, SITE.id, ACTIONS, Date.now())
  await upsertItems(
    env.DB,
    SITE.id,
    ['kettle', 'cup-1'].map((id) => ({
      id,
      title: id,
      category: 'kitchen',
      price: 10,
      image: null,
      description: null,
      in_stock: 1,
    })),
  )
  await storeAsReceived([makeEvent('Product Viewed', { product_id: 'kettle' }, { anonymousId: 'stored-1' })])
})

const decideFor = async (anonymousId: string, placement: string, more: object = {}) => {
  const res = await app.request(
    '/v1/decide',
    {
      method: 'POST',
      headers: { Origin: SITE.origin },
      body: JSON.stringify({ site: SITE.id, key: SITE.key, anonymousId, placement, ...more }),
    },
    env,
  )
  return {
    status: res.status,
    body: (await res.json()) as DecisionAnswer & { error?: string; issues?: Array<{ path: string }> },
  }
}
const contextOf = async (id: string) =>
  JSON.parse(
    (await env.DB.prepare('SELECT context FROM decisions WHERE id = ?').bind(id).first<{ context: string }>())!.context,
  )

describe('POST /v1/decide with recent', () => {
  it("sees the device's view of an item that D1 does not hold yet, in the shopper's words", async () => {
    const { status, body } = await decideFor('fresh-1', 'top', { recent: 'kettle.v2' })
    expect(status).toBe(200)
    expect(body.action?.id).toBe('descaler')
    expect(body.reasons).toEqual(["Because of what you've looked at"])
    expect((await decideFor('fresh-1', 'top')).body.action).toBeNull()
    // The same condition holds on the stored history alone, and with the device's cart add of it.
    expect((await decideFor('stored-1', 'top')).body.action?.id).toBe('descaler')
    expect((await decideFor('fresh-1', 'top', { recent: 'kettle.a2' })).body.reasons).toEqual([
      "Because of what you've added to your cart",
    ])
    expect((await decideFor('fresh-1', 'footer', { recent: 'cup-1.r42' })).body.action?.id).toBe('review-thanks')
  })

  it("sees the device's cart, sent once in the visit", async () => {
    const { body } = await decideFor('fresh-2', 'cart', { context: { cart: { items: ['cup-1'], count: 1 } } })
    expect(body.action?.id).toBe('saucer')
    expect(body.reasons).toEqual(["Because of what's in your cart"])
  })

  it('ignores device items that are not catalog items', async () => {
    expect((await decideFor('fresh-3', 'top', { recent: 'kettle-x.v2' })).body.action).toBeNull()
  })

  it("logs the visit without the shopper's items and stores nothing else", async () => {
    const count = (table: string) =>
      env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`)
        .first<{ n: number }>()
        .then((r) => r!.n)
    const tables = ['events', 'visitors', 'visitor_items', 'item_stats', 'item_pairs']
    const before = await Promise.all(tables.map(count))
    const { body } = await decideFor('fresh-4', 'top', {
      recent: 'kettle.v2,cup-1.b5',
      context: { cart: { items: ['cup-1'] } },
    })
    expect(body.action?.id).toBe('descaler')
    expect(await Promise.all(tables.map(count))).toEqual(before)
    const logged = await contextOf(body.id)
    expect(logged.cart).toEqual({ items: ['cup-1'] })
    expect(logged).not.toHaveProperty('history')
    expect(JSON.stringify(logged)).not.toContain('kettle')
  })

  it('refuses a malformed recent with 400 and decides nothing', async () => {
    const decisions = () =>
      env.DB.prepare('SELECT COUNT(*) AS n FROM decisions')
        .first<{ n: number }>()
        .then((r) => r!.n)
    const before = await decisions()
    for (const recent of ['kettle', 'kettle.v2,', ['kettle.v2']]) {
      const { status, body } = await decideFor('fresh-5', 'top', { recent })
      expect(status).toBe(400)
      expect(body.error).toBe('invalid decide request')
      expect(body.issues![0]!.path).toMatch(/^recent/)
    }
    expect(await decisions()).toBe(before)
  })
})
