import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RecommendationAnswer } from '../../../contract'
import { upsertItems } from '../../../worker/admin/store'
import app from '../../../worker/app'
import { assign } from '../../../worker/experiments/assign'
import type { Experiment } from '../../../worker/experiments/config'
import { makeEvent } from '../../fixtures/events'
import { adminFor, batchFor, queryFor, seedTestSite, sendFor, testSite } from '../helpers'

const S = testSite('abtest')
const OTHER = testSite('abtest-other')
const VARIANTS = [
  { name: 'A', strategy: 'trending', limit: 2, weight: 1 },
  { name: 'B', strategy: 'category', weight: 1 },
]
const put = (id: string, body: unknown) => adminFor(S, 'PUT', `/experiments/${id}`, body)
const recommend = async (params: Record<string, string>) =>
  (await (await app.request(`/v1/recommendations?${queryFor(S, params)}`, {}, env)).json()) as RecommendationAnswer
const shoppers = (experimentId: string) =>
  env.DB.prepare(
    `SELECT anonymous_id, variant, impressions, clicks, orders, revenue, attributed_orders, attributed_revenue
     FROM experiment_shoppers WHERE site_id = ? AND experiment_id = ? ORDER BY anonymous_id`,
  )
    .bind(S.id, experimentId)
    .all()
    .then((r) => r.results)
/** A shopper id that `experiment` puts in `arm`: the first of a-0, a-1, … */
const shopperIn = (experiment: Experiment, arm: string): string => {
  for (let i = 0; i < 1000; i++) if (assign(experiment, `a-${i}`).name === arm) return `a-${i}`
  throw new Error(`nobody in ${arm}`)
}
const post = (events: unknown[]) => sendFor(S, 'POST', '/v1/events', batchFor(S, events))
const order = (anonymousId: string, id: string, revenue: number, products: object[], timestamp = Date.now()) =>
  makeEvent('Order Completed', { order_id: id, revenue, products } as never, { anonymousId, timestamp })

beforeAll(async () => {
  await seedTestSite(S)
  await seedTestSite(OTHER)
  await upsertItems(
    env.DB,
    S.id,
    ['tea-1', 'tea-2', 'tea-3', 'tea-4'].map((id, i) => ({
      id,
      title: id,
      category: 'tea',
      price: 10 + i,
      image: null,
      description: null,
      in_stock: 1,
    })),
  )
})

describe('PUT /v1/admin/:site/experiments/:id', () => {
  it.each([
    ['one variant', { slot: 'home', variants: [VARIANTS[0]] }, 'variants'],
    [
      'six variants',
      { slot: 'home', variants: Array.from({ length: 6 }, (_, i) => ({ ...VARIANTS[0], name: `v${i}` })) },
      'variants',
    ],
    [
      'a variant named holdout',
      { slot: 'home', variants: [VARIANTS[0], { ...VARIANTS[1], name: 'holdout' }] },
      'variants.1.name',
    ],
    ['two variants of one name', { slot: 'home', variants: [VARIANTS[0], { ...VARIANTS[1], name: 'A' }] }, 'variants'],
    [
      'an unknown strategy',
      { slot: 'home', variants: [VARIANTS[0], { ...VARIANTS[1], strategy: 'magic' }] },
      'variants.1.strategy',
    ],
    ['a zero weight', { slot: 'home', variants: [VARIANTS[0], { ...VARIANTS[1], weight: 0 }] }, 'variants.1.weight'],
    ['a holdout over half', { slot: 'home', variants: VARIANTS, holdout: 0.6 }, 'holdout'],
    ['no slot', { variants: VARIANTS }, 'slot'],
    ['an unknown field', { slot: 'home', variants: VARIANTS, status: 'running' }, '(body)'],
  ])('refuses %s with 400 and the field', async (_, body, path) => {
    const res = await put('bad', body)
    expect(res.status).toBe(400)
    const answer = (await res.json()) as { error: string; issues: Array<{ path: string }> }
    expect(answer.error).toBe('invalid experiment')
    expect(answer.issues.map((i) => i.path)).toContain(path)
  })

  it('refuses a malformed id with 400, and answers 404 for an unknown one', async () => {
    const res = await put('bad id!', { slot: 'home', variants: VARIANTS })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).issues[0].path).toBe('id')
    expect((await adminFor(S, 'POST', '/experiments/nobody/start')).status).toBe(404)
  })

  it('creates a draft, replaces it, and lists it with the strategies the console offers', async () => {
    const created = await put('draft-1', { slot: 'footer', variants: VARIANTS })
    expect(created.status).toBe(201)
    const replaced = await put('draft-1', { slot: 'footer', variants: VARIANTS, holdout: 0.1 })
    expect(replaced.status).toBe(200)
    const list = (await (await adminFor(S, 'GET', '/experiments')).json()) as any
    expect(list.strategies).toContain('for-you')
    expect(list.experiments).toEqual([
      expect.objectContaining({ id: 'draft-1', slot: 'footer', holdout: 0.1, status: 'draft', startedAt: null }),
    ])
    expect((await adminFor(S, 'DELETE', '/experiments/draft-1')).status).toBe(204)
    expect((await adminFor(S, 'GET', '/experiments/draft-1')).status).toBe(404)
  })
})

describe('an experiment on a slot, from start to report', () => {
  let experiment: Experiment
  let [inA, inB, held] = ['', '', '']

  beforeAll(async () => {
    await put('exp-home', { slot: 'home', variants: VARIANTS, holdout: 0.2 })
    const started = await adminFor(S, 'POST', '/experiments/exp-home/start')
    expect(started.status).toBe(200)
    experiment = ((await started.json()) as { experiment: Experiment }).experiment
    ;[inA, inB, held] = ['A', 'B', 'holdout'].map((arm) => shopperIn(experiment, arm)) as [string, string, string]
  })

  it('refuses a second running experiment on the slot with 409, and changes to a running one', async () => {
    await put('exp-rival', { slot: 'home', variants: VARIANTS })
    const res = await adminFor(S, 'POST', '/experiments/exp-rival/start')
    expect(res.status).toBe(409)
    expect(await res.json()).toEqual({ error: 'experiment exp-home already runs on slot home' })
    expect((await put('exp-home', { slot: 'home', variants: VARIANTS })).status).toBe(409)
    expect((await adminFor(S, 'DELETE', '/experiments/exp-home')).status).toBe(409)
    expect((await adminFor(S, 'POST', '/experiments/exp-home/start')).status).toBe(409)
    await adminFor(S, 'DELETE', '/experiments/exp-rival')
  })

  it("answers each shopper with their variant's strategy and limit, the holdout with nothing", async () => {
    const a = await recommend({ slot: 'home', anonymousId: inA, strategy: 'for-you' })
    expect(a.strategy).toBe('trending')
    expect(a.items.length).toBe(2)
    const b = await recommend({ slot: 'home', anonymousId: inB, strategy: 'for-you', category: 'tea' })
    expect(b.strategy).toBe('category')
    expect(b.items.length).toBe(4)
    const h = await recommend({ slot: 'home', anonymousId: held, strategy: 'for-you' })
    expect(h.items).toEqual([])
    // Shoppers never see variant names: the answer keeps its shape.
    expect(Object.keys(h).sort()).toEqual(['id', 'items', 'label', 'strategy'])
    // Another slot, or none, is not in the experiment.
    expect((await recommend({ slot: 'footer', anonymousId: inA, strategy: 'for-you' })).strategy).toBe('for-you')
    expect((await recommend({ anonymousId: inA, strategy: 'for-you' })).strategy).toBe('for-you')
    // No shopper id: the control's strategy, not counted.
    expect((await recommend({ slot: 'home', strategy: 'for-you' })).strategy).toBe('trending')
    const logged = await env.DB.prepare(
      `SELECT variant, COUNT(*) AS n FROM recommendations WHERE site_id = ? AND experiment_id = 'exp-home' GROUP BY 1 ORDER BY 1`,
    )
      .bind(S.id)
      .all()
    expect(logged.results).toEqual([
      { variant: 'A', n: 1 },
      { variant: 'B', n: 1 },
      { variant: 'holdout', n: 1 },
    ])
    expect(await shoppers('exp-home')).toEqual(
      [
        [inA, 'A'],
        [inB, 'B'],
        [held, 'holdout'],
      ]
        .sort((x, y) => (x[0]! < y[0]! ? -1 : 1))
        .map(([anonymous_id, variant]) => ({
          anonymous_id,
          variant,
          impressions: 0,
          clicks: 0,
          orders: 0,
          revenue: 0,
          attributed_orders: 0,
          attributed_revenue: 0,
        })),
    )
  })

  it("folds each exposed shopper's events after exposure into the rollup, through the real ingestion path", async () => {
    const first = (id: string) =>
      env.DB.prepare('SELECT first_at FROM experiment_shoppers WHERE site_id = ? AND anonymous_id = ?')
        .bind(S.id, id)
        .first<{ first_at: number }>()
        .then((r) => r!.first_at)
    const recA = await recommend({ slot: 'home', anonymousId: inA })
    const recHeld = await recommend({ slot: 'home', anonymousId: held })
    const plain = await recommend({ anonymousId: inA, strategy: 'trending' })
    const before = (await first(inA)) - 60_000
    await post([
      // Before exposure: an order that must not count.
      order(inA, 'o-early', 99, [{ product_id: 'tea-1', price: 99 }], before),
      makeEvent('Recommendation Shown', { recommendation_id: recA.id, product_ids: ['tea-1'] }, { anonymousId: inA }),
      makeEvent('Recommendation Shown', { recommendation_id: recA.id, product_ids: ['tea-1'] }, { anonymousId: inA }),
      makeEvent('Recommendation Clicked', { recommendation_id: recA.id, product_id: 'tea-1' }, { anonymousId: inA }),
      // A recommendation outside the experiment counts nowhere here.
      makeEvent('Recommendation Clicked', { recommendation_id: plain.id, product_id: 'tea-2' }, { anonymousId: inA }),
      // The holdout's empty answer is no impression.
      makeEvent('Recommendation Shown', { recommendation_id: recHeld.id, product_ids: [] }, { anonymousId: held }),
    ])
    await post([
      order(inA, 'o-a', 30, [
        { product_id: 'tea-1', price: 10, quantity: 2, recommendation_id: recA.id },
        { product_id: 'tea-3', price: 10 },
      ]),
      order(inA, 'o-a2', 12.5, [{ product_id: 'tea-2', price: 12.5, recommendation_id: plain.id }]),
      order(inB, 'o-b', 15, [{ product_id: 'tea-2', price: 15 }]),
      order(held, 'o-h', 20, [{ product_id: 'tea-3', price: 20 }]),
      // Never exposed: no row, no count.
      order('a-unexposed', 'o-u', 50, [{ product_id: 'tea-4', price: 50 }]),
    ])
    const rows = Object.fromEntries(((await shoppers('exp-home')) as any[]).map((r) => [r.anonymous_id, r]))
    expect(rows[inA]).toMatchObject({
      impressions: 2,
      clicks: 1,
      orders: 2,
      revenue: 42.5,
      attributed_orders: 1,
      attributed_revenue: 20,
    })
    expect(rows[inB]).toMatchObject({
      impressions: 0,
      clicks: 0,
      orders: 1,
      revenue: 15,
      attributed_orders: 0,
      attributed_revenue: 0,
    })
    expect(rows[held]).toMatchObject({ impressions: 0, clicks: 0, orders: 1, revenue: 20, attributed_orders: 0 })
    expect(rows['a-unexposed']).toBeUndefined()
  })

  it('reports each arm with its intervals and waits for the horizon before a verdict', async () => {
    const res = await adminFor(S, 'GET', '/experiments/exp-home/report')
    expect(res.status).toBe(200)
    const report = (await res.json()) as any
    expect(report).toMatchObject({ id: 'exp-home', status: 'running', ready: false, verdict: 'not yet significant' })
    expect(report.arms.map((a: any) => [a.name, a.shoppers, a.impressions, a.clicks, a.orders, a.revenue])).toEqual([
      ['A', 1, 2, 1, 2, 42.5],
      ['B', 1, 0, 0, 1, 15],
      ['holdout', 1, 0, 0, 1, 20],
    ])
    expect(report.arms[0]).toMatchObject({
      ctr: 0.5,
      attributedOrders: 1,
      attributedRevenue: 20,
      conversion: { value: 1, interval: null },
      revenuePerShopper: { value: 42.5, interval: null },
    })
    expect(report.comparisons[0]).toMatchObject({ variant: 'B', control: 'A', significant: false })
  })

  it('counts nothing after the experiment stops, and serves the slot as it was', async () => {
    const stopped = await adminFor(S, 'POST', '/experiments/exp-home/stop')
    expect(stopped.status).toBe(200)
    expect(((await stopped.json()) as any).experiment.status).toBe('stopped')
    await post([order(inB, 'o-b-late', 40, [{ product_id: 'tea-2', price: 40 }], Date.now() + 1000)])
    const rows = (await shoppers('exp-home')) as any[]
    expect(rows.find((r) => r.anonymous_id === inB)).toMatchObject({ orders: 1, revenue: 15 })
    expect((await recommend({ slot: 'home', anonymousId: held, strategy: 'for-you' })).items.length).toBeGreaterThan(0)
    expect((await adminFor(S, 'POST', '/experiments/exp-home/start')).status).toBe(409)
  })

  it("erases a shopper's rollup rows with the shopper", async () => {
    const res = await sendFor(S, 'POST', '/v1/privacy/erase', { site: S.id, key: S.key, anonymousId: inA })
    expect(res.status).toBe(200)
    const left = ((await shoppers('exp-home')) as any[]).map((r) => r.anonymous_id)
    expect(left).not.toContain(inA)
    expect(left).toContain(inB)
  })

  it("lets nobody but the admin key read a report: not the public key, not another site's admin key", async () => {
    for (const secret of [S.key, OTHER.admin, null]) {
      const res = await app.request(
        `/v1/admin/${S.id}/experiments/exp-home/report`,
        { headers: secret ? { Authorization: `Bearer ${secret}` } : {} },
        env,
      )
      expect(res.status).toBe(401)
    }
    // The public API has no such route.
    const res = await app.request(`/v1/recommendations/report?${queryFor(S, {})}`, {}, env)
    expect(res.status).toBe(404)
  })
})
