// The edge pass in Chromium: a shop whose origin is a plain HTTP server on loopback, its pages served
// through the Worker (production config: API and SDK files) on the host shop.test, mapped to
// 127.0.0.1. The slots are in the first response, nothing moves after paint, nothing runs from data,
// and the tag tracks the edge's answers as its own.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import products from '../../demo/shop/products.json'
import { makeEvent } from '../fixtures/events'
import { drainOutbox, launch, readDeviceStore, watchErrors } from './browser'
import { demoAdmin, postDemoEvents, startWorker, type LocalWorker } from './server'
import { shopPage } from '../fixtures/edge-shop'

import { DEMO_KEY as PUBLIC_KEY } from '../../scripts/demo-keys'

// Payloads in catalog titles: if one ever ran, it would set this flag.
const ITEMS = [
  { id: 'edge-1', title: '<script>top.__pwned=1</script>Sencha', category: 'tea', price: 9.5 },
  { id: 'edge-2', title: '<img src=x onerror="top.__pwned=2">Teapot', category: 'tea', price: 40 },
  { id: 'edge-3', title: '" onmouseover="top.__pwned=3" x="', category: 'tea', price: 12 },
  { id: 'edge-4', title: 'Cup', category: 'tea', price: 6 },
].map((item) => ({ ...item, image: null, in_stock: true }))

let worker: LocalWorker
let browser: Browser
let origin: Server
let shop: string
/** Every path the origin was asked for. */
const originHits: string[] = []

beforeAll(async () => {
  origin = createServer((req, res) => {
    originHits.push(req.url ?? '')
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'public, max-age=300' })
    res.end(shopPage(req.url ?? '/', PUBLIC_KEY))
  })
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve))
  const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`
  ;[worker, browser] = await Promise.all([
    startWorker({ prefix: 'vista-e2e-edge-', config: 'wrangler.toml' }),
    launch(['--host-resolver-rules=MAP shop.test 127.0.0.1']),
  ])
  const admin = demoAdmin(worker)
  const port = new URL(worker.url).port
  shop = `http://shop.test:${port}`
  await admin('PATCH', '/settings', {
    origins: ['http://127.0.0.1:*', 'http://shop.test:*'],
    settings: { edge: { hosts: [`shop.test:${port}`], origin: originUrl } },
  })
  // Only the payload items in stock; two shoppers co-view them, so each is the others' also-viewed and trending.
  await admin('PATCH', '/catalog/stock', { items: products.map((p) => ({ id: p.id, in_stock: false })) })
  await admin('POST', '/catalog', { items: ITEMS })
  const events = ['co-1', 'co-2'].flatMap((anonymousId) =>
    ITEMS.map((item) => makeEvent('Product Viewed', { product_id: item.id }, { anonymousId, sessionId: anonymousId })),
  )
  await postDemoEvents(worker, events)
  await worker.settled()
})
afterAll(async () => {
  await browser?.close()
  await worker?.stop()
  await new Promise((resolve) => origin?.close(resolve))
})

/** The rec id (or decision id) each slot has in an HTML text, by slot id; absent when the edge left it. */
function filledIn(html: string): Record<string, string> {
  const ids: Record<string, string> = {}
  for (const m of html.matchAll(/<(?:section|div) id="(\w+)"[^>]*data-vista-(?:filled|decision)="([^"]+)"/g))
    ids[m[1]!] = m[2]!
  return ids
}

/** The same ids as the live DOM holds them. */
const filledNow = (page: Page) =>
  page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll<HTMLElement>('[data-vista-slot]')]
        .filter((s) => s.id && (s.dataset.vistaFilled || s.dataset.vistaDecision))
        .map((s) => [s.id, (s.dataset.vistaFilled || s.dataset.vistaDecision)!]),
    ),
  )

/** Waits until the tag has taken every slot the edge filled, then until it has sent everything it recorded. */
async function drain(page: Page): Promise<void> {
  await expect.poll(() => page.locator('[data-vista-edge]').count(), { timeout: 20_000 }).toBe(0)
  await drainOutbox(page)
  await worker.settled()
}

const SHOWN = (id: string) =>
  `SELECT type, json_extract(properties, '$.recommendation_id') AS rec, json_extract(properties, '$.decision_id') AS dec
   FROM events WHERE anonymous_id = '${id}' AND type IN ('Recommendation Shown', 'Offer Shown') ORDER BY rec, dec`

describe('the edge pass', () => {
  let context: BrowserContext
  let page: Page
  let errors: string[]
  let anonymousId: string

  beforeAll(async () => {
    context = await browser.newContext({ locale: 'en-US' })
    page = await context.newPage()
    errors = watchErrors(page)
  })
  afterAll(() => context.close())

  it('fills the non-personal slots in the first response; the tag fills the rest and keeps the cookie', async () => {
    const res = (await page.goto(`${shop}/p/edge-1`))!
    const first = await res.text()
    // Chromium may also ask for /favicon.ico (the origin answers it with a page too).
    expect(originHits.filter((path) => path.startsWith('/p/'))).toEqual(['/p/edge-1'])
    expect(res.headers()['cache-control']).toBe('private, no-store')
    // No cookie yet: also-viewed and trending come from the edge; for-you and the banner are about the shopper.
    expect(Object.keys(filledIn(first)).sort()).toEqual(['also', 'trending'])
    expect(first).toContain(`data-key="${PUBLIC_KEY}" async data-edge="">`)
    await expect.poll(() => page.locator('#mine[data-vista-filled^="rec_"]').count(), { timeout: 20_000 }).toBe(1)
    await expect.poll(() => page.locator('#offer[data-vista-decision^="dec_"]').count(), { timeout: 20_000 }).toBe(1)
    const now = await filledNow(page)
    // The tag did not ask again for what the edge filled.
    expect(now.also).toBe(filledIn(first).also)
    expect(now.trending).toBe(filledIn(first).trending)
    anonymousId = (await readDeviceStore<{ anonymousId: string }>(page, 'ids'))!.anonymousId
    const cookies = await context.cookies(shop)
    expect(cookies.map((c) => [c.name, c.value, c.sameSite])).toEqual([['vista_aid', anonymousId, 'Lax']])
    await drain(page)
    const shown = await worker.query<{ type: string; rec: string | null; dec: string | null }>(SHOWN(anonymousId))
    const expected = [
      { type: 'Offer Shown', rec: null, dec: now.offer },
      ...[now.also, now.mine, now.trending].sort().map((rec) => ({ type: 'Recommendation Shown', rec, dec: null })),
    ]
    expect(shown).toEqual(expected)
    expect(errors).toEqual([])
  })

  it('serves the next page whole from the edge: every slot in the first response, no layout shift, no script from data', async () => {
    const res = (await page.goto(`${shop}/p/edge-2`))!
    const first = filledIn(await res.text())
    expect(Object.keys(first).sort()).toEqual(['also', 'mine', 'offer', 'trending'])
    await page.waitForLoadState('load')
    await drain(page)
    // The tag tracked the edge's answers and changed nothing on screen.
    expect(await filledNow(page)).toEqual(first)
    expect(await page.evaluate(() => (window as unknown as { __shift: number }).__shift)).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
    // The payloads are text: the titles read as written.
    const titles = await page.locator('#also .vista-name').allTextContents()
    expect(titles.sort()).toEqual([ITEMS[0]!.title, ITEMS[2]!.title, ITEMS[3]!.title].sort())
    const shown = await worker.query<{ rec: string | null; dec: string | null }>(SHOWN(anonymousId))
    for (const id of [first.also, first.mine, first.trending]) expect(shown.filter((r) => r.rec === id)).toHaveLength(1)
    expect(shown.filter((r) => r.dec === first.offer)).toHaveLength(1)

    // A click on an edge-rendered item is attributed to the edge's answer, as the tag's are.
    const target = await page.locator('#also .vista-item').first().getAttribute('data-vista-product')
    await page.locator('#also .vista-item').first().click()
    await page.waitForURL(`**/p/${target}`)
    await drain(page)
    const clicked = await worker.query<{ rec: string }>(
      `SELECT json_extract(properties, '$.recommendation_id') AS rec FROM events
       WHERE anonymous_id = '${anonymousId}' AND type = 'Recommendation Clicked'`,
    )
    expect(clicked).toEqual([{ rec: first.also }])
    expect(errors).toEqual([])
  })

  it('renders the same DOM as the tag, and format=html the same again', async () => {
    await page.goto(`${shop}/compare`)
    await expect.poll(() => page.locator('#tagged[data-vista-filled^="rec_"]').count(), { timeout: 20_000 }).toBe(1)
    const query = new URLSearchParams({
      site: 'demo',
      key: PUBLIC_KEY,
      anonymousId,
      strategy: 'trending',
      // As the tag asks: the item on screen (left out of the answer).
      item: 'edge-1',
      limit: '3',
      currency: 'EUR',
      format: 'html',
    })
    const [edge, tag, fragment] = await page.evaluate(async (query) => {
      const html = await (await fetch(`/v1/recommendations?${query}`)).text()
      const div = new DOMParser().parseFromString(html, 'text/html').body.firstElementChild!
      return [
        document.getElementById('trending')!.innerHTML,
        document.getElementById('tagged')!.innerHTML,
        div.innerHTML,
      ]
    }, query.toString())
    const same = (html: string) => html.replaceAll(/rec_\w+/g, 'rec_ID')
    expect(tag).toContain('<span class="vista-price">€40.00</span>')
    expect(same(edge)).toBe(same(tag))
    expect(same(fragment)).toBe(same(tag))
  })
})

describe('the edge pass without consent to personalise', () => {
  it('under Global Privacy Control fills only the non-personal slots, cookie or not', async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { 'Sec-GPC': '1' } })
    await context.addCookies([{ name: 'vista_aid', value: 'co-1', url: shop }])
    const page = await context.newPage()
    const res = (await page.goto(`${shop}/p/edge-3`))!
    expect(Object.keys(filledIn(await res.text())).sort()).toEqual(['also', 'trending'])
    await context.close()
  })

  it('removes the cookie when the shopper declines', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${shop}/p/edge-3`)
    await expect.poll(async () => (await context.cookies(shop)).length, { timeout: 20_000 }).toBe(1)
    await page.evaluate(() =>
      (window as unknown as { vista: { consent(c: object): Promise<unknown> } }).vista.consent({ tracking: false }),
    )
    expect(await context.cookies(shop)).toEqual([])
    const next = (await page.goto(`${shop}/p/edge-4`))!
    expect(Object.keys(filledIn(await next.text())).sort()).toEqual(['also', 'trending'])
    await context.close()
  })
})
