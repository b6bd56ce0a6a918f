import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertItems } from '../../worker/db'
import app from '../../worker/index'
import type { PopularAnswer } from '../../worker/routes/popular'
import { makeEvent, SITE } from '../fixtures/events'
import { batch, postEvents, seedSite } from './helpers'

const item = (id: string, in_stock = 1) => ({
  id,
  title: `Item ${id}`,
  category: 'tea',
  price: 5,
  image: null,
  description: null,
  in_stock,
})

beforeAll(async () => {
  await seedSite()
  await upsertItems(env.DB, SITE.id, [item('a'), item('b'), item('c'), item('gone', 0)])
  const view = (id: string) => makeEvent('Product Viewed', { product_id: id })
  const add = (id: string) => makeEvent('Product Added', { product_id: id })
  // b: 1 view + 1 add = 4; a: 3 views = 3; c: 1 view; gone: out of stock.
  await postEvents(batch([view('a'), view('a'), view('a'), view('b'), add('b'), view('c'), view('gone'), view('gone')]))
})

const popular = (query: string, headers: Record<string, string> = {}) =>
  app.request(`/v1/popular?${query}`, { headers }, env)

describe('GET /v1/popular', () => {
  it('ranks in-stock items by weighted views and cart adds, with reasons', async () => {
    const res = await popular(`site=${SITE.id}&key=${SITE.key}&limit=3`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as PopularAnswer
    expect(body.items.map((i) => [i.id, i.score])).toEqual([
      ['b', 4],
      ['a', 3],
      ['c', 1],
    ])
    expect(body.items[0]!.reasons).toEqual(['1 view and 1 cart add this week'])
  })

  it('reflects an event accepted a moment ago', async () => {
    const adds = Array.from({ length: 3 }, () => makeEvent('Product Added', { product_id: 'c' }))
    await postEvents(batch(adds))
    const body = (await (await popular(`site=${SITE.id}&key=${SITE.key}&limit=1`)).json()) as PopularAnswer
    expect(body.items.map((i) => [i.id, i.score])).toEqual([['c', 10]])
  })

  it('refuses a wrong key with 401 and a foreign origin with 403', async () => {
    expect((await popular(`site=${SITE.id}&key=nope`)).status).toBe(401)
    const foreign = await popular(`site=${SITE.id}&key=${SITE.key}`, { Origin: 'https://evil.example' })
    expect(foreign.status).toBe(403)
  })

  it('names the bad query parameter', async () => {
    const res = await popular(`site=${SITE.id}&key=${SITE.key}&limit=5000`)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { issues: Array<{ path: string }> }).issues[0]!.path).toBe('limit')
  })
})
