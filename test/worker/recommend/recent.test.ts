// GET /v1/recommendations with the device's recent items: the answer reflects the last click before
// D1 holds it, and nothing the device sends is stored or reaches another shopper.
import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertItems } from '../../../worker/admin/store'
import app from '../../../worker/app'
import { MAX_RECENT, MAX_RECENT_CHARS, type RecommendationAnswer } from '../../../contract'
import { makeEvent, SITE } from '../../fixtures/events'
import { seedSite, storeAsReceived } from '../helpers'

const CATALOG = [
  ['tea-1', 'Sencha', 'tea'],
  ['tea-2', 'Assam', 'tea'],
  ['pot-1', 'Teapot', 'kitchen'],
  ['cup-1', 'Cup', 'kitchen'],
  ['kettle', 'Kettle', 'kitchen'],
  ['book-1', 'Tea book', 'books'],
] as const

beforeAll(async () => {
  await seedSite()
  await upsertItems(
    env.DB,
    SITE.id,
    CATALOG.map(([id, title, category]) => ({
      id,
      title,
      category,
      price: 10,
      image: null,
      description: null,
      in_stock: 1,
    })),
  )
  // Other shoppers pair Sencha with Assam (3) and the Teapot (1), the Kettle with the Cup; "ghost" is
  // no catalog item, but shoppers paired it with the Tea book.
  const t = Date.now() - 3_600_000
  const views = (visitor: string, items: string[]) =>
    items.map((product_id, i) =>
      makeEvent('Product Viewed', { product_id }, { anonymousId: visitor, timestamp: t + i * 1000 }),
    )
  await storeAsReceived([
    ...views('o1', ['tea-1', 'tea-2']),
    ...views('o2', ['tea-1', 'tea-2', 'pot-1']),
    ...views('o3', ['tea-2', 'tea-1']),
    ...views('o4', ['kettle', 'cup-1']),
    ...views('o5', ['ghost', 'book-1']),
  ])
})

const get = async (params: Record<string, string>) => {
  const q = new URLSearchParams({ site: SITE.id, key: SITE.key, strategy: 'for-you', ...params })
  const res = await app.request(`/v1/recommendations?${q}`, {}, env)
  return {
    status: res.status,
    body: (await res.json()) as RecommendationAnswer & {
      error?: string
      issues?: Array<{ path: string; message: string }>
    },
  }
}
const picks = (a: RecommendationAnswer) => a.items.map((i) => [i.id, i.score, i.reasons])

/** Every row of every table the app writes (D1's own tables aside), and every KV entry. */
async function everything() {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'd1_%' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  ).all<{ name: string }>()
  const rows: Record<string, unknown[]> = {}
  for (const { name } of tables.results) rows[name] = (await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results
  const kv: Record<string, string | null> = {}
  for (const { name } of (await env.CACHE.list()).keys) kv[name] = await env.CACHE.get(name)
  return { rows, kv }
}

describe('GET /v1/recommendations with recent', () => {
  it("answers a shopper with no stored events from the device's view: its neighbours, citing it", async () => {
    const { status, body } = await get({ anonymousId: 'new-1', recent: 'tea-1.v3' })
    expect(status).toBe(200)
    expect(body.items.map((i) => i.id).slice(0, 2)).toEqual(['tea-2', 'pot-1'])
    // Both cite Sencha: as its co-view, or as what shoppers opened after it.
    for (const item of body.items.slice(0, 2))
      expect(item.reasons[0]).toMatch(/^(Because you viewed|Shoppers often look at this after) Sencha$/)
    // Without it, the same shopper gets the cold-start answer: nothing cites Sencha.
    const cold = await get({ anonymousId: 'new-1' })
    expect(cold.body.items.flatMap((i) => i.reasons)).not.toContain('Because you viewed Sencha')
    // The device's item is in "recently viewed" at once, and a cart add or an order says so.
    const recently = await get({ anonymousId: 'new-1', strategy: 'recently-viewed', recent: 'tea-1.v3' })
    expect(recently.body.items.map((i) => [i.id, i.reasons])).toEqual([['tea-1', ['You viewed this just now']]])
    const added = await get({ anonymousId: 'new-1', recent: 'tea-1.a3,tea-1.v9' })
    expect(added.body.items[0]!.reasons).toContain('Because you added Sencha to your cart')
    // A bought item is not recommended again.
    const bought = await get({ anonymousId: 'new-1', recent: 'tea-2.b1' })
    expect(bought.body.items.map((i) => i.id)).not.toContain('tea-2')
  })

  it('cites a device item only when it is a catalog item', async () => {
    const ghost = await get({ anonymousId: 'new-2', recent: 'ghost.v1' })
    const cold = await get({ anonymousId: 'new-2' })
    expect(ghost.status).toBe(200)
    expect(ghost.body.items.flatMap((i) => i.reasons).join(' ')).not.toMatch(/ghost/)
    expect(picks(ghost.body)).toEqual(picks(cold.body))
  })

  it("writes nothing the device sent and leaves another shopper's answer as it was", async () => {
    await get({ anonymousId: 'o1' }) // the site's key is cached in KV from here on
    const other = await get({ anonymousId: 'o1' })
    const before = await everything()
    const answers = []
    for (const recent of ['kettle.v1,tea-1.a2,pot-1.b3,cup-1.r15', 'book-1.r1-4,tea-2.v0']) {
      for (const strategy of ['for-you', 'recently-viewed', 'category', 'also-viewed']) {
        const res = await get({ anonymousId: 'new-3', strategy, item: 'tea-2', recent })
        expect(res.status).toBe(200)
        answers.push(res.body)
      }
    }
    const after = await everything()
    expect(after.kv).toEqual(before.kv)
    // Only the answer log grows, by one row per answer: its id and what it showed.
    const { recommendations: logged, ...rest } = after.rows
    const { recommendations: loggedBefore, ...restBefore } = before.rows
    expect(rest).toEqual(restBefore)
    type Logged = { id: string; items: string }
    const old = new Set((loggedBefore as Logged[]).map((r) => r.id))
    expect((logged as Logged[]).filter((r) => old.has(r.id))).toEqual(expect.arrayContaining(loggedBefore!))
    const added = (logged as Logged[]).filter((r) => !old.has(r.id)).map((r) => [r.id, r.items])
    expect(added.sort()).toEqual(answers.map((a) => [a.id, JSON.stringify(a.items.map((i) => i.id))]).sort())
    expect(picks((await get({ anonymousId: 'o1' })).body)).toEqual(picks(other.body))
  })

  it.each([
    ['a token without a kind', 'tea-1'],
    ['an unknown kind', 'tea-1.x3'],
    ['a rating out of range', 'tea-1.r63'],
    ['an id with a character ids may not hold', 'tea 1.v3'],
    ['an empty item', 'tea-1.v3,,tea-2.v1'],
    ['an age of more than ten digits', 'tea-1.v12345678901'],
    ['too many items', Array.from({ length: MAX_RECENT + 1 }, (_, i) => `p${i}.v1`).join()],
    ['too long a parameter', `${'x'.repeat(MAX_RECENT_CHARS)}.v1`],
  ])('refuses %s with 400 and changes nothing', async (_, recent) => {
    const before = await everything()
    const { status, body } = await get({ anonymousId: 'new-4', recent })
    expect(status).toBe(400)
    expect(body.error).toBe('invalid query')
    expect(body.issues![0]!.path).toMatch(/^recent(\.\d+)?$/)
    expect(await everything()).toEqual(before)
  })
})
