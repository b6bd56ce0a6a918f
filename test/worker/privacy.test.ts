import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import app from '../../worker/index'
import { makeEvent, SITE } from '../fixtures/events'
import { batch, countEvents, giveIdentitySecret, postEvents, seedSite, signIds } from './helpers'

const call = (path: string, init: RequestInit = {}) => app.request(path, { ...init, headers: { Origin: SITE.origin } }, env)
const who = (anonymousId: string) => ({ site: SITE.id, key: SITE.key, anonymousId })
const rows = async (table: string, column: string, value: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ?`).bind(value).first<{ n: number }>())!.n

const lateRetry = makeEvent('Product Viewed', { product_id: 'late' }, { anonymousId: 'phone' })

beforeAll(async () => {
  await seedSite()
  await postEvents(batch([makeEvent('Product Viewed', { product_id: 'tea-1' }, { anonymousId: 'phone' })]))
  await postEvents(batch([makeEvent('Order Completed', { order_id: 'pr-1', revenue: 12, products: [{ product_id: 'tea-1' }] }, { anonymousId: 'laptop' })]))
  await giveIdentitySecret(SITE.id)
  for (const anonymousId of ['phone', 'laptop']) {
    await call('/v1/identify', { method: 'POST', body: JSON.stringify({ ...who(anonymousId), userId: 'zoe', signatures: await signIds({ userId: 'zoe' }) }) })
  }
  await postEvents(batch([makeEvent('Page Viewed', {}, { anonymousId: 'bystander' })]))
})

describe('/v1/privacy', () => {
  it('exports everything known about the shopper, across their browsers, as JSON', async () => {
    const q = new URLSearchParams(who('phone'))
    const body = (await (await call(`/v1/privacy/export?${q}`)).json()) as any
    expect([...body.browsers].sort()).toEqual(['laptop', 'phone'])
    expect(body.events.map((e: { type: string }) => e.type).sort()).toEqual(['Order Completed', 'Product Viewed'])
    expect(body.events[0].context.page.path).toBe('/p/tea-01')
    expect(body.identities.map((i: { kind: string }) => i.kind).sort()).toEqual(['anonymous', 'anonymous', 'user'])
    expect(body.segments.length).toBeGreaterThan(0)
  })

  it('erases every row about the shopper, keeps others, and drops late retries', async () => {
    const before = await countEvents()
    const res = await call('/v1/privacy/erase', { method: 'POST', body: JSON.stringify(who('laptop')) })
    expect(((await res.json()) as any).erased.browsers.sort()).toEqual(['laptop', 'phone'])
    for (const [table, column, value] of [
      ['events', 'anonymous_id', 'phone'],
      ['events', 'anonymous_id', 'laptop'],
      ['visitors', 'anonymous_id', 'laptop'],
      ['visitor_items', 'anonymous_id', 'phone'],
      ['identities', 'value', 'zoe'],
    ]) expect(await rows(table!, column!, value!)).toBe(0)
    expect(await countEvents()).toBe(before - 2)
    expect(await rows('events', 'anonymous_id', 'bystander')).toBe(1)
    const retry = await postEvents(batch([lateRetry]))
    expect(await retry.json()).toEqual({ accepted: 0, duplicates: 0, erased: 1 })
    expect(await rows('events', 'anonymous_id', 'phone')).toBe(0)
  })

  it('refuses erasure from a foreign origin', async () => {
    const res = await app.request('/v1/privacy/erase', { method: 'POST', headers: { Origin: 'https://evil.example' }, body: JSON.stringify(who('bystander')) }, env)
    expect(res.status).toBe(403)
    expect(await rows('events', 'anonymous_id', 'bystander')).toBe(1)
  })
})
