import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertSite } from '../../../worker/admin/store'
import app from '../../../worker/app'
import { hashKey } from '../../../worker/http/site-auth'
import { makeEvent, SITE } from '../../fixtures/events'
import { batch, postEvents } from '../helpers'
import { CACHE_KEYS } from '../../../worker/http/cache-keys'

const ADMIN = 'sk_test_0123456789abcdef'
const admin = (path: string, init: RequestInit = {}, secret: string | null = ADMIN) =>
  app.request(
    `/v1/admin/${SITE.id}${path}`,
    { ...init, headers: { ...(secret ? { Authorization: `Bearer ${secret}` } : {}), ...(init.headers as object) } },
    env,
  )

beforeAll(async () =>
  upsertSite(env.DB, {
    id: SITE.id,
    name: 'Test shop',
    keyHash: await hashKey(SITE.key),
    adminKeyHash: await hashKey(ADMIN),
    origins: [SITE.origin],
  }),
)

describe('admin authentication', () => {
  // Every route the app serves under /v1/admin, with its parameters filled in: a new admin route
  // that forgets the key fails here.
  const adminRoutes = app.routes
    .filter((r) => r.path.startsWith('/v1/admin/') && r.method !== 'ALL')
    .map((r) => [r.method, r.path.replace(':site', SITE.id).replace(/:[a-zA-Z]+/g, 'x')] as const)

  it('has admin routes to check', () => expect(adminRoutes.length).toBeGreaterThanOrEqual(5))

  it.each(adminRoutes)(
    '%s %s refuses a missing or wrong key with 401 JSON, and a public key too',
    async (method, path) => {
      for (const secret of [null, 'sk_wrong', SITE.key]) {
        const res = await app.request(
          path,
          {
            method,
            headers: secret ? { Authorization: `Bearer ${secret}` } : {},
            body: method === 'GET' ? undefined : '{}',
          },
          env,
        )
        expect(res.status).toBe(401)
        expect(await res.json()).toEqual({ error: 'missing or invalid admin key' })
      }
    },
  )

  it('sends security headers on admin answers', async () => {
    const res = await admin('/actions')
    expect(res.status).toBe(200)
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff')
    expect(res.headers.get('X-Frame-Options')).toBe('SAMEORIGIN')
  })
})

describe('admin actions', () => {
  it('creates, lists, updates and deletes an action', async () => {
    const action = {
      title: 'Free shipping',
      text: 'Over 50',
      placement: 'top',
      value: 8,
      when: { 'cart.total': { $gt: 50 } },
    }
    const put = await admin('/actions/free-ship', { method: 'PUT', body: JSON.stringify(action) })
    expect(put.status).toBe(200)
    expect(
      ((await (await admin('/actions')).json()) as { actions: Array<{ id: string; lever: number }> }).actions,
    ).toEqual([expect.objectContaining({ id: 'free-ship', lever: 1 })])
    await admin('/actions/free-ship', { method: 'PUT', body: JSON.stringify({ ...action, lever: 2 }) })
    expect(((await (await admin('/actions')).json()) as { actions: Array<{ lever: number }> }).actions[0]!.lever).toBe(
      2,
    )
    expect((await admin('/actions/free-ship', { method: 'DELETE' })).status).toBe(204)
    expect((await admin('/actions/free-ship', { method: 'DELETE' })).status).toBe(404)
  })

  it('names the field and the problem of an invalid action, and saves nothing', async () => {
    const res = await admin('/actions/bad', {
      method: 'PUT',
      body: JSON.stringify({ title: 'x', text: 'y', placement: 'top', value: 1, when: { 'cart.totl': { $gt: 1 } } }),
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { issues: Array<{ path: string; message: string }> }
    expect(body.issues[0]!.path).toMatch(/^when/)
    expect(body.issues[0]!.message).toMatch(/cart\.totl/)
    expect(((await (await admin('/actions')).json()) as { actions: unknown[] }).actions).toEqual([])
  })
})

/** Links and images the SDK's renderer would drop: a save must refuse them too. */
const UNSAFE_URLS = [
  'javascript:alert(1)',
  'JAVASCRIPT:alert(1)',
  ' javascript:alert(1)',
  '\tjavascript:alert(1)',
  '\njavascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '//evil.example/offer',
  '/\\evil.example/offer',
  '/\t/evil.example/offer',
  'http://shop.example/offer',
]
const UNSAFE_FIELDS = (['link', 'image'] as const).flatMap((field) => UNSAFE_URLS.map((url) => [field, url] as const))
const OFFER = { title: 'Offer', text: 'Text', placement: 'top', value: 1 }

describe('admin action links and images', () => {
  it.each(UNSAFE_FIELDS)('refuses %s %j on save with 400 naming the field', async (field, url) => {
    const res = await admin('/actions/unsafe', { method: 'PUT', body: JSON.stringify({ ...OFFER, [field]: url }) })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toEqual([field])
    expect(((await (await admin('/actions')).json()) as { actions: unknown[] }).actions).toEqual([])
  })

  it.each(UNSAFE_FIELDS)('refuses %s %j in a preview with 400 naming action.<field>', async (field, url) => {
    const res = await admin('/preview', {
      method: 'POST',
      body: JSON.stringify({ action: { id: 'unsafe', ...OFFER, [field]: url } }),
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { issues: Array<{ path: string }> }).issues.map((i) => i.path)).toEqual([
      `action.${field}`,
    ])
  })

  it('accepts https URLs and paths on the site', async () => {
    for (const [link, image] of [
      ['https://shop.example/offers/x', 'https://cdn.example/x.png'],
      ['/offers/x', '/img/x.png'],
    ]) {
      const res = await admin('/actions/safe', { method: 'PUT', body: JSON.stringify({ ...OFFER, link, image }) })
      expect(res.status).toBe(200)
      expect(((await res.json()) as { action: object }).action).toMatchObject({ link, image })
    }
    expect((await admin('/actions/safe', { method: 'DELETE' })).status).toBe(204)
  })
})

describe('admin catalog import', () => {
  it('counts created, updated and rejected rows, with the reason per rejected row', async () => {
    const items = [
      { id: 'a1', title: 'A', category: 'tea', price: 5 },
      { id: 'a2', title: 'B', category: 'tea', price: -1 },
      { id: 'a 3', title: 'C', category: 'tea', price: 3 },
      ...Array.from({ length: 300 }, (_, i) => ({
        id: `bulk-${i}`,
        title: `Bulk ${i}`,
        category: 'kitchen',
        price: i,
        in_stock: i % 2 === 0,
      })),
    ]
    const first = await admin('/catalog', { method: 'POST', body: JSON.stringify({ items }) })
    expect(await first.json()).toEqual({
      created: 301,
      updated: 0,
      rejected: [
        { row: 1, id: 'a2', errors: ['price: Too small: expected number to be >=0'] },
        { row: 2, id: 'a 3', errors: ['id: must be 1-200 characters of A-Z a-z 0-9 _ . : -'] },
      ],
    })
    const again = await admin('/catalog', {
      method: 'POST',
      body: JSON.stringify({
        items: [items[0], { ...items[3], title: 'Renamed' }, { id: 'new-1', title: 'N', category: 'x', price: 1 }],
      }),
    })
    expect(await again.json()).toEqual({ created: 1, updated: 2, rejected: [] })
    const row = await env.DB.prepare("SELECT title, in_stock FROM items WHERE site_id = ? AND id = 'bulk-0'")
      .bind(SITE.id)
      .first()
    expect(row).toEqual({ title: 'Renamed', in_stock: 1 })
  })
})

describe('admin customer 360', () => {
  it("shows any shopper's segments with reasons", async () => {
    const res = await admin('/profiles/nobody-yet')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { uid: string | null; segments: Array<{ id: string; reason: string }> }
    expect(body.uid).toBeNull()
    expect(body.segments[0]).toEqual({ id: 'prospect', reason: 'no order yet' })
  })
})

describe('admin settings and keys', () => {
  it('changes origins and settings, validated, and the change applies at once', async () => {
    const before = await postEvents(batch([makeEvent('Page Viewed', {})]), { Origin: 'https://new.example' })
    expect(before.status).toBe(403)
    const res = await admin('/settings', {
      method: 'PATCH',
      body: JSON.stringify({
        origins: [SITE.origin, 'https://new.example'],
        settings: { lifecycle: { activeDays: 60 }, retentionDays: 365 },
      }),
    })
    expect(await res.json()).toEqual({
      origins: [SITE.origin, 'https://new.example'],
      settings: { lifecycle: { activeDays: 60 }, retentionDays: 365 },
      identitySecret: false,
    })
    expect((await postEvents(batch([makeEvent('Page Viewed', {})]), { Origin: 'https://new.example' })).status).toBe(
      200,
    )
    expect(await (await admin('/settings')).json()).toMatchObject({ settings: { retentionDays: 365 } })
  })

  it.each([
    [{ settings: { decide: { holdoutShare: 2 } } }, 'settings.decide.holdoutShare'],
    [{ settings: { colour: 'red' } }, 'settings'],
    [{ origins: ['javascript:alert(1)'] }, 'origins.0'],
    [{ settings: { recommendations: { rules: { maxPrice: -1 } } } }, 'settings.recommendations.rules.maxPrice'],
  ])('refuses %j naming %s, and changes nothing', async (body, path) => {
    const res = await admin('/settings', { method: 'PATCH', body: JSON.stringify(body) })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { issues: Array<{ path: string }> }).issues[0]!.path).toBe(path)
    expect(await (await admin('/settings')).json()).toMatchObject({ settings: { retentionDays: 365 } })
  })

  it('rotates the admin key: shown once, the old one stops working at once', async () => {
    const res = await admin('/keys/admin/rotate', { method: 'POST' })
    const { key } = (await res.json()) as { key: string }
    expect(key).toMatch(new RegExp(`^sk_${SITE.id}_[0-9a-f]{48}$`))
    expect((await admin('/settings')).status).toBe(401)
    expect((await admin('/settings', {}, key)).status).toBe(200)
    const stored = await env.DB.prepare('SELECT admin_key_hash FROM sites WHERE id = ?')
      .bind(SITE.id)
      .first<{ admin_key_hash: string }>()
    expect(stored!.admin_key_hash).toBe(await hashKey(key))
    await admin('/keys/admin/rotate', { method: 'POST' }, key)
    await upsertSite(env.DB, {
      id: SITE.id,
      name: 'Test shop',
      keyHash: await hashKey(SITE.key),
      adminKeyHash: await hashKey(ADMIN),
      origins: [SITE.origin, 'https://new.example'],
      settings: { retentionDays: 365 },
    })
    await env.CACHE.delete(CACHE_KEYS.site(SITE.id))
  })
})

describe('admin catalog upkeep', () => {
  it('updates stock and deletes items', async () => {
    const res = await admin('/catalog/stock', {
      method: 'PATCH',
      body: JSON.stringify({
        items: [
          { id: 'a1', in_stock: false },
          { id: 'ghost', in_stock: true },
        ],
      }),
    })
    expect(await res.json()).toEqual({ updated: 1, unknown: 1 })
    expect(
      await env.DB.prepare("SELECT in_stock FROM items WHERE site_id = ? AND id = 'a1'").bind(SITE.id).first(),
    ).toEqual({ in_stock: 0 })
    expect((await admin('/catalog/a1', { method: 'DELETE' })).status).toBe(204)
    expect((await admin('/catalog/a1', { method: 'DELETE' })).status).toBe(404)
  })
})

describe('admin preview', () => {
  const preview = async (body: object) =>
    (await admin('/preview', { method: 'POST', body: JSON.stringify(body) })).json() as Promise<any>

  it('answers who an unsaved action would reach, and what one shopper would see and why', async () => {
    await postEvents(
      batch([
        makeEvent('Page Viewed', {}, { anonymousId: 'browser-1' }),
        makeEvent('Page Viewed', {}, { anonymousId: 'browser-2' }),
      ]),
    )
    await postEvents(
      batch([
        makeEvent(
          'Order Completed',
          { order_id: 'pv-1', revenue: 30, products: [{ product_id: 'x' }] },
          { anonymousId: 'buyer-1' },
        ),
      ]),
    )
    const action = {
      id: 'buyers-only',
      title: 'Thanks',
      text: 'For buying',
      placement: 'top',
      value: 5,
      when: { 'profile.orders': { $gt: 0 } },
    }
    const all = await preview({ action })
    expect(all.population).toMatchObject({ sampled: expect.any(Number), eligible: 1 })
    expect(all.population.segments.map((s: { id: string }) => s.id)).toContain('new')
    const buyer = await preview({ action, anonymousId: 'buyer-1' })
    expect(buyer.shopper).toMatchObject({ eligible: true, why: ['orders 1 > 0'], wouldSee: { action: 'buyers-only' } })
    // The shopper's words beside the marketer's trace.
    expect(buyer.shopper.wouldSee.reasons).toEqual(["Because you've ordered from us before"])
    expect(buyer.shopper.wouldSee.trace).toMatchObject({
      choice: 'only-eligible',
      held: ['orders 1 > 0'],
      summary: 'the only eligible action: 50% propensity × value 5',
      candidates: [{ id: 'buyers-only', title: 'Thanks', value: 5, lever: 1, propensity: 0.5, outcome: 'chosen' }],
    })
    const browser = await preview({ action, anonymousId: 'browser-1', context: { cart: { total: 10 } } })
    expect(browser.shopper.eligible).toBe(false)
    expect(browser.shopper.why[0]).toMatch(/^condition not met/)
    // Nothing was saved or logged by a preview.
    expect(((await (await admin('/actions')).json()) as { actions: unknown[] }).actions).toEqual([])
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM decisions').first()).toEqual({ n: 0 })
  })

  it('names the field of an invalid action under "action"', async () => {
    const res = await admin('/preview', {
      method: 'POST',
      body: JSON.stringify({ action: { id: 'x', title: 'x', text: '', placement: 'top', value: -1 } }),
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { issues: Array<{ path: string }> }).issues[0]!.path).toBe('action.value')
  })
})
