import { createHash } from 'node:crypto'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { Vista } from '../../sdk/vista'
import type { VistaEvent } from '../../contract/events'
import { read } from '../../sdk/store'

declare global {
  interface Window {
    vista: Vista | unknown[]
  }
}
const vista = () => window.vista as Vista
// The Worker is never answered here, so every event stays in the outbox for inspection.
const outbox = async () => (await read<VistaEvent[]>('outbox')) ?? []
const types = async () => (await outbox()).map((e) => e.type)
const settle = () => new Promise((r) => setTimeout(r, 30)).then(() => vista().profile())
const pageErrors: unknown[] = []

beforeAll(async () => {
  vi.stubGlobal('fetch', vi.fn(() => new Promise(() => {})))
  addEventListener('error', (e) => pageErrors.push(e))
  history.replaceState(null, '', '/?utm_source=news&utm_campaign=spring')
  document.body.dataset.vistaPage = 'home'
  window.vista = [['track', 'Product Viewed', { product_id: 'queued' }]]
  await import('../../sdk/index')
  await settle()
})

describe('the script tag', () => {
  it('tracks the landing page view, then replays calls queued before it loaded', async () => {
    const [page, queued] = await outbox()
    expect(page).toMatchObject({
      type: 'Page Viewed',
      properties: { page_type: 'home' },
      context: { page: { path: '/' }, utm: { source: 'news', campaign: 'spring' }, device: 'desktop' },
    })
    expect(queued).toMatchObject({ type: 'Product Viewed', properties: { product_id: 'queued' } })
    expect(page!.sessionId).toBe(queued!.sessionId)
  })

  it('tracks one page view per SPA route change, none for same-URL replaces or hashes', async () => {
    const before = (await types()).length
    history.pushState(null, '', '/c/tea')
    history.replaceState(null, '', '/c/tea')
    history.pushState(null, '', '/c/tea#top')
    await settle()
    history.pushState(null, '', '/p/tea-01')
    await settle()
    history.back()
    await vi.waitFor(async () => expect((await types()).length).toBe(before + 3))
    const added = (await outbox()).slice(before)
    expect(added.map((e) => e.context.page.path)).toEqual(['/c/tea', '/p/tea-01', '/c/tea'])
    expect(added[1]!.context.page.referrer).toBe(`${location.origin}/c/tea`)
  })

  it('tracks a product detail once per page view, however often the DOM changes', async () => {
    history.pushState(null, '', '/p/tea-02')
    const detail = document.createElement('div')
    Object.assign(detail.dataset, { vistaView: 'tea-02', vistaCategory: 'tea', vistaPrice: '9.50', vistaName: 'Sencha' })
    document.body.append(detail)
    await settle()
    detail.append(document.createElement('span'))
    await settle()
    const views = (await outbox()).filter((e) => e.type === 'Product Viewed' && e.properties.product_id === 'tea-02')
    expect(views).toHaveLength(1)
    expect(views[0]!.properties).toEqual({ product_id: 'tea-02', name: 'Sencha', category: 'tea', price: 9.5 })
    detail.remove()
  })

  it('tracks add, remove and rating clicks from data attributes', async () => {
    document.body.insertAdjacentHTML(
      'beforeend',
      `<button data-vista-add="tea-02" data-vista-category="tea" data-vista-quantity="2"><span>Add</span></button>
       <button data-vista-remove="tea-02">Remove</button>
       <button data-vista-rate="tea-02" data-vista-rating="4">★</button>`,
    )
    for (const b of document.querySelectorAll('button')) (b.firstElementChild ?? b).dispatchEvent(new MouseEvent('click', { bubbles: true }))
    const profile = await settle()
    expect((await outbox()).slice(-3).map((e) => [e.type, e.properties])).toEqual([
      ['Product Added', { product_id: 'tea-02', category: 'tea', quantity: 2 }],
      ['Product Removed', { product_id: 'tea-02' }],
      ['Product Reviewed', { product_id: 'tea-02', rating: 4 }],
    ])
    expect(profile.cart).toEqual({})
    expect(profile.ratings).toEqual({ 'tea-02': 4 })
  })

  it('tracks an order confirmation once, with the order id as event id', async () => {
    history.pushState(null, '', '/order/o-1')
    const html = `<section data-vista-order="o-1" data-vista-revenue="19.00" data-vista-currency="EUR">
      <li data-vista-line="tea-02" data-vista-price="9.50" data-vista-quantity="2"></li></section>`
    document.body.insertAdjacentHTML('beforeend', html)
    await settle()
    document.querySelector('[data-vista-order]')!.remove()
    document.body.insertAdjacentHTML('beforeend', html)
    const profile = await settle()
    const orders = (await outbox()).filter((e) => e.type === 'Order Completed')
    expect(orders).toHaveLength(1)
    expect(orders[0]).toMatchObject({
      id: 'order:o-1',
      properties: { order_id: 'o-1', revenue: 19, currency: 'EUR', products: [{ product_id: 'tea-02', price: 9.5, quantity: 2 }] },
    })
    expect(profile).toMatchObject({ orders: 1, revenue: 19 })
  })

  it('ties later events to an identified user and forgets them on reset', async () => {
    const signatures = { user: 'ab'.repeat(32), crm: 'cd'.repeat(32) }
    vista().identify('user-42', { plan: 'gold', crmId: 'C-7', email: ' Ana@Example.com ' }, signatures)
    vista().track('Cart Viewed', { products: [] })
    let profile = await settle()
    expect((await outbox()).at(-1)!.userId).toBe('user-42')
    expect(profile).toMatchObject({ userId: 'user-42', traits: { plan: 'gold' } })
    // The link waits on the device until the Worker confirms it; the e-mail only as its hash.
    const link = await read<Record<string, unknown>>('link')
    expect(link).toMatchObject({ anonymousId: profile.anonymousId, userId: 'user-42', crmId: 'C-7', signatures })
    expect(link!.emailHash).toBe(createHash('sha256').update('ana@example.com').digest('hex'))
    expect(JSON.stringify(link)).not.toMatch(/example\.com/i)
    const before = profile.anonymousId
    vista().reset()
    vista().track('Cart Viewed', { products: [] })
    profile = await settle()
    const last = (await outbox()).at(-1)!
    expect(last.userId).toBeNull()
    expect(last.anonymousId).not.toBe(before)
    expect(profile).toMatchObject({ userId: null, events: 1, anonymousId: last.anonymousId })
  })

  it('exports what the device knows, and forgets the shopper only once the server has erased them', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Response.json({ events: [] })))
    const exported = await vista().exportData()
    expect(exported.device).toMatchObject({ profile: { events: expect.any(Number) }, ids: { anonymousId: expect.any(String) } })
    expect(exported.server).toEqual({ events: [] })
    const calls: string[] = []
    vi.stubGlobal('fetch', vi.fn(async (url: string) => (calls.push(String(url)), new Response('{}', { status: 503 }))))
    expect(await vista().forget()).toBe(false)
    expect(await read('profile')).toBeDefined()
    vi.stubGlobal('fetch', vi.fn(async (url: string) => (calls.push(String(url)), new Response('{}', { status: 200 }))))
    expect(await vista().forget()).toBe(true)
    expect(calls.filter((u) => u.endsWith('/privacy/erase'))).toHaveLength(2)
    for (const key of ['profile', 'outbox', 'ids', 'link']) expect(await read(key)).toBeUndefined()
    vi.stubGlobal('fetch', vi.fn(() => new Promise(() => {})))
  })

  it('never throws into the host page, whatever it is called with', async () => {
    const calls = [
      () => vista().track(undefined as never, undefined as never),
      () => vista().track('Page Viewed', null as never),
      () => vista().identify(42 as never),
      () => vista().push(null as never),
      () => vista().push(['nope', 1]),
      () => vista().push(['push', ['track']]),
      () => history.pushState(null, '', '/after'),
    ]
    for (const call of calls) expect(call).not.toThrow()
    await settle()
    expect(pageErrors).toEqual([])
  })
})
