import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { DecisionAnswer, RecommendationAnswer } from '../../../contract'
import { upsertItems, upsertSite } from '../../../worker/admin/store'
import { upsertActions } from '../../../worker/decide/store'
import { actionSchema } from '../../../worker/decide/engine'
import app from '../../../worker/app'
import { uplift } from '../../../worker/admin/reports'
import { hashKey } from '../../../worker/http/site-auth'
import { makeEvent, SITE } from '../../fixtures/events'
import { batch, postEvents } from '../helpers'
import { CACHE_KEYS } from '../../../worker/http/cache-keys'

const ADMIN = 'sk_reports_0123456789'
const TODAY = new Date().toISOString().slice(0, 10)
const site = async (holdoutShare: number) => {
  await upsertSite(env.DB, {
    id: SITE.id,
    name: 'Test',
    keyHash: await hashKey(SITE.key),
    adminKeyHash: await hashKey(ADMIN),
    origins: [SITE.origin],
    settings: { decide: { holdoutShare } },
  })
  await env.CACHE.delete(CACHE_KEYS.site(SITE.id))
}
const decide = async (anonymousId: string) =>
  (await (
    await app.request(
      '/v1/decide',
      {
        method: 'POST',
        headers: { Origin: SITE.origin },
        body: JSON.stringify({ site: SITE.id, key: SITE.key, anonymousId, placement: 'top' }),
      },
      env,
    )
  ).json()) as DecisionAnswer
const order = (anonymousId: string, id: string, revenue: number, products: object[] = [{ product_id: 'tea-1' }]) =>
  makeEvent('Order Completed', { order_id: id, revenue, products } as never, { anonymousId })
const report = async (query: string) =>
  app.request(`/v1/admin/${SITE.id}/reports?${query}`, { headers: { Authorization: `Bearer ${ADMIN}` } }, env)

beforeAll(async () => {
  await site(0)
  await upsertItems(env.DB, SITE.id, [
    { id: 'tea-1', title: 'Sencha', category: 'tea', price: 10, image: null, description: null, in_stock: 1 },
  ])
  await upsertActions(
    env.DB,
    SITE.id,
    [actionSchema.parse({ id: 'welcome', title: 'Hi', text: '10% off', placement: 'top', value: 5 })],
    Date.now(),
  )
  // v1 sees the offer, accepts it and buys; v2 sees it and dismisses it.
  const d1 = await decide('v1')
  const offer1 = { decision_id: d1.id, action_id: 'welcome' }
  await postEvents(
    batch([
      makeEvent('Offer Shown', offer1, { anonymousId: 'v1' }),
      makeEvent('Offer Accepted', offer1, { anonymousId: 'v1' }),
    ]),
  )
  await postEvents(batch([order('v1', 'o-v1', 40)]))
  const d2 = await decide('v2')
  const offer2 = { decision_id: d2.id, action_id: 'welcome' }
  await postEvents(
    batch([
      makeEvent('Offer Shown', offer2, { anonymousId: 'v2' }),
      makeEvent('Offer Dismissed', offer2, { anonymousId: 'v2' }),
    ]),
  )
  // v3 is shown recommendations, clicks one and buys two of it.
  const rec = (await (
    await app.request(`/v1/recommendations?site=${SITE.id}&key=${SITE.key}&strategy=trending`, {}, env)
  ).json()) as RecommendationAnswer
  await postEvents(
    batch([
      makeEvent('Recommendation Shown', { recommendation_id: rec.id, product_ids: ['tea-1'] }, { anonymousId: 'v3' }),
      makeEvent('Recommendation Clicked', { recommendation_id: rec.id, product_id: 'tea-1' }, { anonymousId: 'v3' }),
    ]),
  )
  await postEvents(
    batch([order('v3', 'o-v3', 25, [{ product_id: 'tea-1', price: 10, quantity: 2, recommendation_id: rec.id }])]),
  )
  // v4 and v5 are in the holdout; v4 buys anyway.
  await site(1)
  await decide('v4')
  await decide('v5')
  await postEvents(batch([order('v4', 'o-v4', 30)]))
})

describe('GET /v1/admin/:site/reports', () => {
  it('counts per day and action, crediting orders to the offer accepted before them', async () => {
    const body = (await (await report(`from=${TODAY}&to=${TODAY}`)).json()) as any
    expect(body.actions).toEqual([
      {
        day: TODAY,
        key: 'welcome',
        impressions: 2,
        clicks: 0,
        acceptances: 1,
        dismissals: 1,
        ctr: 0.5,
        orders: 1,
        revenue: 40,
      },
    ])
  })

  it('counts per day and strategy, with the revenue of the lines that carry its id', async () => {
    const body = (await (await report(`from=${TODAY}&to=${TODAY}`)).json()) as any
    expect(body.recommendations).toEqual([
      {
        day: TODAY,
        key: 'trending',
        impressions: 1,
        clicks: 1,
        acceptances: 0,
        dismissals: 0,
        ctr: 1,
        orders: 1,
        revenue: 20,
      },
    ])
  })

  it('measures uplift against the holdout group, with its interval', async () => {
    const body = (await (await report(`from=${TODAY}&to=${TODAY}`)).json()) as any
    expect(body.uplift).toMatchObject({
      treated: { shoppers: 2, converted: 1, rate: 0.5 },
      holdout: { shoppers: 2, converted: 1, rate: 0.5 },
      difference: 0,
    })
    expect(body.uplift.interval[0]).toBeLessThan(0)
    expect(body.uplift.interval[1]).toBeGreaterThan(0)
  })

  it('refuses a bad range with the field', async () => {
    const res = await report(`from=${TODAY}&to=2020-01-01`)
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).issues[0].path).toBe('to')
  })
})

describe('uplift()', () => {
  it('gives the difference of conversion rates and a 95% interval', () => {
    const u = uplift({ shoppers: 1000, converted: 120 }, { shoppers: 1000, converted: 100 })
    expect(u.difference).toBeCloseTo(0.02)
    const se = Math.sqrt((0.12 * 0.88) / 1000 + (0.1 * 0.9) / 1000)
    expect(u.interval![0]).toBeCloseTo(0.02 - 1.96 * se)
    expect(uplift({ shoppers: 10, converted: 1 }, { shoppers: 0, converted: 0 }).interval).toBeNull()
  })
})
