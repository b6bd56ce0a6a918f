import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { VistaEvent } from '../../contract'
import type { Vista, VistaOptions } from '../../sdk/vista'
import { cleanPage, freshPage, settle } from './page'

// Each test gets a fresh IndexedDB and fresh modules (the store module holds its IndexedDB
// connection), its own Vista, and a page with nothing left by earlier tests.
let sdk: typeof import('../../sdk/vista')
let autotrack: typeof import('../../sdk/autotrack')['autotrack']
let read: typeof import('../../sdk/store')['read']
const pageErrors: unknown[] = []
const onError = (e: unknown) => pageErrors.push(e)

beforeEach(async () => {
  freshPage()
  pageErrors.length = 0
  addEventListener('error', onError)
  sdk = await import('../../sdk/vista')
  ;({ autotrack } = await import('../../sdk/autotrack'))
  ;({ read } = await import('../../sdk/store'))
})
afterEach(cleanPage)

// The Worker is never answered (see page.ts), so every event stays in the outbox for inspection.
const outbox = async () => (await read<VistaEvent[]>('outbox')) ?? []
const types = async () => (await outbox()).map((e) => e.type)

/** A Vista tracking the page at `path`, once its landing page view is stored. */
async function start(path = '/', options: Partial<VistaOptions> = {}): Promise<Vista> {
  history.replaceState(null, '', path)
  const vista = sdk.createVista({ endpoint: `${location.origin}/v1`, site: 'demo', key: 'pk_demo', ...options })
  autotrack(vista)
  await settle(vista)
  return vista
}

describe('createVista() with autotrack()', () => {
  it('tracks one page view per SPA route change, none for same-URL replaces or hashes', async () => {
    const vista = await start('/')
    const before = (await types()).length
    expect(before).toBe(1) // the landing page view
    history.pushState(null, '', '/c/tea')
    history.replaceState(null, '', '/c/tea')
    history.pushState(null, '', '/c/tea#top')
    await settle(vista)
    history.pushState(null, '', '/p/tea-01')
    await settle(vista)
    history.back()
    await vi.waitFor(async () => expect((await types()).length).toBe(before + 3))
    const added = (await outbox()).slice(before)
    expect(added.map((e) => e.context.page.path)).toEqual(['/c/tea', '/p/tea-01', '/c/tea'])
    expect(added[1]!.context.page.referrer).toBe(`${location.origin}/c/tea`)
  })

  it('tracks a product detail once per page view, however often the DOM changes', async () => {
    const vista = await start('/')
    history.pushState(null, '', '/p/tea-02')
    const detail = document.createElement('div')
    Object.assign(detail.dataset, {
      vistaView: 'tea-02',
      vistaCategory: 'tea',
      vistaPrice: '9.50',
      vistaName: 'Sencha',
    })
    document.body.append(detail)
    await settle(vista)
    detail.append(document.createElement('span'))
    await settle(vista)
    const views = (await outbox()).filter((e) => e.type === 'Product Viewed' && e.properties.product_id === 'tea-02')
    expect(views).toHaveLength(1)
    expect(views[0]!.properties).toEqual({ product_id: 'tea-02', name: 'Sencha', category: 'tea', price: 9.5 })
  })

  it('tracks add, remove and rating clicks from data attributes', async () => {
    const vista = await start('/p/tea-02')
    document.body.insertAdjacentHTML(
      'beforeend',
      `<button data-vista-add="tea-02" data-vista-category="tea" data-vista-quantity="2"><span>Add</span></button>
       <button data-vista-remove="tea-02">Remove</button>
       <button data-vista-rate="tea-02" data-vista-rating="4">★</button>`,
    )
    for (const b of document.querySelectorAll('button'))
      (b.firstElementChild ?? b).dispatchEvent(new MouseEvent('click', { bubbles: true }))
    const profile = await settle(vista)
    expect((await outbox()).slice(-3).map((e) => [e.type, e.properties])).toEqual([
      ['Product Added', { product_id: 'tea-02', category: 'tea', quantity: 2 }],
      ['Product Removed', { product_id: 'tea-02' }],
      ['Product Reviewed', { product_id: 'tea-02', rating: 4 }],
    ])
    expect(profile.cart).toEqual({})
    expect(profile.ratings).toEqual({ 'tea-02': 4 })
  })

  it('tracks an order confirmation once, with the order id as event id', async () => {
    const vista = await start('/')
    history.pushState(null, '', '/order/o-1')
    const html = `<section data-vista-order="o-1" data-vista-revenue="19.00" data-vista-currency="EUR">
      <li data-vista-line="tea-02" data-vista-price="9.50" data-vista-quantity="2"></li></section>`
    document.body.insertAdjacentHTML('beforeend', html)
    await settle(vista)
    document.querySelector('[data-vista-order]')!.remove()
    document.body.insertAdjacentHTML('beforeend', html)
    const profile = await settle(vista)
    const orders = (await outbox()).filter((e) => e.type === 'Order Completed')
    expect(orders).toHaveLength(1)
    expect(orders[0]).toMatchObject({
      id: 'order:o-1',
      properties: {
        order_id: 'o-1',
        revenue: 19,
        currency: 'EUR',
        products: [{ product_id: 'tea-02', price: 9.5, quantity: 2 }],
      },
    })
    expect(profile).toMatchObject({ orders: 1, revenue: 19 })
  })

  it('ties later events to an identified user and forgets them on reset', async () => {
    const vista = await start('/')
    const signatures = { user: 'ab'.repeat(32), crm: 'cd'.repeat(32) }
    vista.identify('user-42', { plan: 'gold', crmId: 'C-7', email: ' Ana@Example.com ' }, signatures)
    vista.track('Cart Viewed', { products: [] })
    let profile = await settle(vista)
    expect((await outbox()).at(-1)!.userId).toBe('user-42')
    expect(profile).toMatchObject({ userId: 'user-42', traits: { plan: 'gold' } })
    // The link waits on the device until the Worker confirms it; the e-mail only as its hash.
    const link = await read<Record<string, unknown>>('link')
    expect(link).toMatchObject({
      site: 'demo',
      key: 'pk_demo',
      anonymousId: profile.anonymousId,
      userId: 'user-42',
      crmId: 'C-7',
      signatures,
    })
    expect(link!.emailHash).toBe(createHash('sha256').update('ana@example.com').digest('hex'))
    expect(JSON.stringify(link)).not.toMatch(/example\.com/i)
    const before = profile.anonymousId
    vista.reset()
    vista.track('Cart Viewed', { products: [] })
    profile = await settle(vista)
    const last = (await outbox()).at(-1)!
    expect(last.userId).toBeNull()
    expect(last.anonymousId).not.toBe(before)
    expect(profile).toMatchObject({ userId: null, events: 1, anonymousId: last.anonymousId })
  })

  it('exports what the device knows, and forgets the shopper only once the server has erased them', async () => {
    const vista = await start('/')
    vista.identify('user-42')
    await settle(vista)
    expect(await read('link')).toBeDefined() // the Worker never answered: the link still waits
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Response.json({ events: [] })),
    )
    const exported = await vista.exportData()
    expect(exported.device).toMatchObject({
      profile: { events: expect.any(Number) },
      ids: { anonymousId: expect.any(String) },
    })
    expect(exported.server).toEqual({ events: [] })
    const calls: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (calls.push(String(url)), new Response('{}', { status: 503 }))),
    )
    expect(await vista.forget()).toBe(false)
    expect(await read('profile')).toBeDefined()
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (calls.push(String(url)), new Response('{}', { status: 200 }))),
    )
    expect(await vista.forget()).toBe(true)
    expect(calls.filter((u) => u.endsWith('/privacy/erase'))).toHaveLength(2)
    for (const key of ['profile', 'outbox', 'ids', 'link']) expect(await read(key)).toBeUndefined()
  })

  it('never throws into the host page, whatever it is called with', async () => {
    const vista = await start('/')
    const calls = [
      () => vista.track(undefined as never, undefined as never),
      () => vista.track('Page Viewed', null as never),
      () => vista.identify(42 as never),
      () => vista.push(null as never),
      () => vista.push(['nope', 1]),
      () => vista.push(['push', ['track']]),
      () => history.pushState(null, '', '/after'),
    ]
    for (const call of calls) expect(call).not.toThrow()
    await settle(vista)
    expect(pageErrors).toEqual([])
  })
})

describe('createVista()', () => {
  it('records nothing by itself: page views and clicks wait for autotrack()', async () => {
    history.replaceState(null, '', '/p/tea-01')
    document.body.innerHTML = '<div data-vista-view="tea-01"></div><button data-vista-add="tea-01">Add</button>'
    const vista = sdk.createVista({ endpoint: '/v1', site: 'demo', key: 'pk_demo' })
    document.querySelector('button')!.click()
    history.pushState(null, '', '/c/tea')
    await settle(vista)
    expect(await outbox()).toEqual([])
    vista.track('Product Viewed', { product_id: 'tea-01' })
    await settle(vista)
    expect(await types()).toEqual(['Product Viewed'])
  })

  it('keeps each instance its own site, key, endpoint and counters; the device store is one per origin', async () => {
    const posted: Array<{ url: string; body: Record<string, unknown> }> = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        posted.push({ url: String(url), body: JSON.parse(String(init?.body ?? '{}')) })
        return String(url).endsWith('/events')
          ? Response.json({ accepted: 1, duplicates: 0 })
          : new Response('{}', { status: 503 })
      }),
    )
    const a = sdk.createVista({ endpoint: '/a', site: 'site-a', key: 'pk_a' })
    const b = sdk.createVista({ endpoint: '/b', site: 'site-b', key: 'pk_b' })
    a.track('Product Viewed', { product_id: 'tea-01' })
    await a.flush()
    b.track('Product Viewed', { product_id: 'tea-02' })
    await b.flush()
    await a.decide('top')
    await b.decide('top')
    const sent = posted.map(({ url, body }) => [url, body.site, body.key])
    expect(sent).toEqual([
      ['/a/events', 'site-a', 'pk_a'],
      ['/b/events', 'site-b', 'pk_b'],
      ['/a/decide', 'site-a', 'pk_a'],
      ['/b/decide', 'site-b', 'pk_b'],
    ])
    expect(posted[0]!.body.events).toMatchObject([{ properties: { product_id: 'tea-01' } }])
    expect(posted[1]!.body.events).toMatchObject([{ properties: { product_id: 'tea-02' } }])
    expect([a.stats, b.stats]).toEqual([
      { sent: 1, dropped: 0, retries: 0 },
      { sent: 1, dropped: 0, retries: 0 },
    ])
    expect(a.stats).not.toBe(b.stats)
    // Shared by design: IndexedDB holds one shopper per origin (ids, profile, outbox, consent), as
    // for two tabs of one shop, so both instances record under one anonymous id into one profile.
    const [pa, pb] = await Promise.all([a.profile(), b.profile()])
    expect(pa).toEqual(pb)
    expect(pa).toMatchObject({
      events: 2,
      recent: [
        { id: 'tea-02', kind: 'view' },
        { id: 'tea-01', kind: 'view' },
      ],
    })
    expect(posted[0]!.body.events).toMatchObject([{ anonymousId: pa.anonymousId }])
  })
})

describe('vista.recommend() and vista.decide()', () => {
  it('send what the device did lately, before the Worker has stored it', async () => {
    const asked: string[] = []
    const bodies: Array<Record<string, unknown>> = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        asked.push(String(url))
        if (init?.body) bodies.push(JSON.parse(String(init.body)))
        // Events are never confirmed: what the answer reflects comes from the device alone.
        return new Response('{}', { status: 503 })
      }),
    )
    const vista = sdk.createVista({ endpoint: '/v1', site: 'demo', key: 'pk_demo' })
    vista.track('Product Viewed', { product_id: 'tea-01' })
    vista.track('Product Added', { product_id: 'cup-1', price: 4 })
    await vista.recommend({ strategy: 'for-you' })
    await vista.decide('top')
    const query = new URL(asked.find((u) => u.includes('/recommendations'))!, 'http://x').searchParams
    expect(query.get('recent')).toMatch(/^cup-1\.a\d,tea-01\.v\d$/)
    expect(query.get('cart')).toBe('cup-1')
    const decide = bodies.find((b) => b.placement === 'top')!
    expect(decide.recent).toBe(query.get('recent'))
    expect(decide.context).toMatchObject({ cart: { items: ['cup-1'], count: 1, total: 4 } })
  })
})
