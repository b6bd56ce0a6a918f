import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertActions } from '../../../worker/decide/store'
import { applyLink, findIdentities } from '../../../worker/identity/store'
import { actionSchema } from '../../../worker/decide/engine'
import { planLink, type Identifier } from '../../../worker/identity/link'
import app from '../../../worker/app'
import { makeEvent, SITE } from '../../fixtures/events'
import { batch, countEvents, postEvents, seedSite } from '../helpers'

const call = (path: string, init: RequestInit = {}) =>
  app.request(path, { ...init, headers: { Origin: SITE.origin } }, env)
const who = (anonymousId: string) => ({ site: SITE.id, key: SITE.key, anonymousId })
const rows = async (table: string, column: string, value: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ?`).bind(value).first<{ n: number }>())!.n

const lateRetry = makeEvent('Product Viewed', { product_id: 'late' }, { anonymousId: 'phone' })
const EMAIL = 'e'.repeat(64)

/** Links identifiers as POST /v1/identify would, new ones under `uid`. */
async function link(ids: Identifier[], uid: string) {
  const { known, logins } = await findIdentities(env.DB, SITE.id, ids)
  await applyLink(env.DB, SITE.id, planLink(known, ids, uid, logins), Date.now())
}

/** Rows per table that name these browsers or identifier values, or these UIDs in the identity log. */
async function rowsOf(browsers: string[], values: string[], uids: string[]) {
  const marks = (list: string[]) => list.map(() => '?').join(', ')
  const count = async (sql: string, ...params: string[]) =>
    (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${sql}`)
      .bind(SITE.id, ...params)
      .first<{ n: number }>())!.n
  const byBrowser = (table: string) =>
    count(`${table} WHERE site_id = ? AND anonymous_id IN (${marks(browsers)})`, ...browsers)
  return {
    events: await byBrowser('events'),
    visitors: await byBrowser('visitors'),
    visitor_items: await byBrowser('visitor_items'),
    decisions: await byBrowser('decisions'),
    recommendations: await byBrowser('recommendations'),
    claims: await byBrowser('claims'),
    identities: await count(
      `identities WHERE site_id = ? AND (value IN (${marks(values)}) OR uid IN (${marks(uids)}))`,
      ...values,
      ...uids,
    ),
    identity_log: await count(
      `identity_log WHERE site_id = ? AND (value IN (${marks(values)}) OR from_uid IN (${marks(uids)}) OR to_uid IN (${marks(uids)}))`,
      ...values,
      ...uids,
      ...uids,
    ),
  }
}
const zoe = () => rowsOf(['phone', 'laptop'], ['phone', 'laptop', 'zoe', EMAIL], ['uid_zoe', 'uid_guest'])
const bystander = () => rowsOf(['bystander'], ['bystander', 'bea'], ['uid_bea'])

beforeAll(async () => {
  await seedSite()
  await upsertActions(
    env.DB,
    SITE.id,
    [actionSchema.parse({ id: 'hello', title: 'Hello', text: 'Hi', placement: 'top', value: 1 })],
    Date.now(),
  )
  await postEvents(batch([makeEvent('Product Viewed', { product_id: 'tea-1' }, { anonymousId: 'phone' })]))
  await postEvents(
    batch([
      makeEvent(
        'Order Completed',
        { order_id: 'pr-1', revenue: 12, products: [{ product_id: 'tea-1' }] },
        { anonymousId: 'laptop' },
      ),
    ]),
  )
  await postEvents(batch([makeEvent('Product Viewed', { product_id: 'tea-1' }, { anonymousId: 'bystander' })]))
  // The laptop checked out as a guest (an email), then signed in as zoe: its UID merges into hers.
  await link(
    [
      { kind: 'user', value: 'zoe' },
      { kind: 'anonymous', value: 'phone' },
    ],
    'uid_zoe',
  )
  await link(
    [
      { kind: 'email', value: EMAIL },
      { kind: 'anonymous', value: 'laptop' },
    ],
    'uid_guest',
  )
  await link(
    [
      { kind: 'user', value: 'zoe' },
      { kind: 'anonymous', value: 'laptop' },
    ],
    'uid_zoe',
  )
  await link(
    [
      { kind: 'user', value: 'bea' },
      { kind: 'anonymous', value: 'bystander' },
    ],
    'uid_bea',
  )
  for (const anonymousId of ['phone', 'laptop', 'bystander']) {
    // An unsigned login is kept as a claim of the browser: erased with it.
    await call('/v1/identify', {
      method: 'POST',
      body: JSON.stringify({ ...who(anonymousId), loyaltyId: `L-${anonymousId}` }),
    })
    await call('/v1/decide', { method: 'POST', body: JSON.stringify({ ...who(anonymousId), placement: 'top' }) })
    await call(`/v1/recommendations?${new URLSearchParams({ ...who(anonymousId), strategy: 'trending' })}`)
  }
})

describe('/v1/privacy', () => {
  it('exports everything known about the shopper, across their browsers, as JSON', async () => {
    const q = new URLSearchParams(who('phone'))
    const body = (await (await call(`/v1/privacy/export?${q}`)).json()) as any
    expect([...body.browsers].sort()).toEqual(['laptop…', 'phone'])
    expect(body.events.map((e: { type: string }) => e.type).sort()).toEqual(['Order Completed', 'Product Viewed'])
    expect(body.events[0].path).toBe('/p/tea-01')
    expect(body.sessions[0].context).toMatchObject({ device: 'desktop', locale: 'en-GB' })
    expect(body.identities.map((i: { kind: string }) => i.kind).sort()).toEqual([
      'anonymous',
      'anonymous',
      'email',
      'user',
    ])
    expect(body.segments.length).toBeGreaterThan(0)
  })

  it('erases every row about the shopper, keeps others, and drops late retries', async () => {
    const before = await countEvents()
    // Every table holds rows of both shoppers first, so each zero below can fail.
    const mine = await zoe()
    const theirs = await bystander()
    for (const [table, n] of Object.entries(mine)) expect(n, table).toBeGreaterThan(0)
    expect(theirs).toEqual({
      events: 1,
      visitors: 1,
      visitor_items: 1,
      decisions: 1,
      recommendations: 1,
      claims: 1,
      identities: 2,
      identity_log: 2,
    })
    const res = await call('/v1/privacy/erase', { method: 'POST', body: JSON.stringify(who('laptop')) })
    expect(((await res.json()) as any).erased.browsers.sort()).toEqual(['laptop', 'phone…'])
    expect(await zoe()).toEqual({
      events: 0,
      visitors: 0,
      visitor_items: 0,
      decisions: 0,
      recommendations: 0,
      claims: 0,
      identities: 0,
      identity_log: 0,
    })
    expect(await bystander()).toEqual(theirs)
    expect(await countEvents()).toBe(before - mine.events)
    const retry = await postEvents(batch([lateRetry]))
    expect(await retry.json()).toEqual({ accepted: 1, duplicates: 0 })
    expect(await rows('events', 'anonymous_id', 'phone')).toBe(0)
  })

  it('refuses erasure from a foreign origin', async () => {
    const res = await app.request(
      '/v1/privacy/erase',
      { method: 'POST', headers: { Origin: 'https://evil.example' }, body: JSON.stringify(who('bystander')) },
      env,
    )
    expect(res.status).toBe(403)
    expect(await rows('events', 'anonymous_id', 'bystander')).toBe(1)
  })
})
