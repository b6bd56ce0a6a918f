// The whole tracking path in a real browser against `wrangler dev` with local D1 and KV:
// every event the device recorded reaches D1 exactly once, through reloads and retries.
import { mkdir } from 'node:fs/promises'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Profile } from '../../sdk/profile'
import type { VistaEvent } from '../../contract'
import { makeEvent } from '../fixtures/events'
import { drainOutbox, launch, readDeviceStore, recordPosts, watchErrors } from './browser'
import { startWorker, type LocalWorker } from './server'

const OUT = 'test-results/e2e'
let worker: LocalWorker
let browser: Browser

beforeAll(async () => {
  await mkdir(OUT, { recursive: true })
  // These tests read back other shoppers' events at once; test/worker/recommend/cache.test.ts covers the
  // edge cache, which serves shared lists up to SHARED_TTL old.
  ;[worker, browser] = await Promise.all([startWorker({ vars: { SHARED_CACHE: 'off' } }), launch()])
})
afterAll(async () => {
  await browser?.close()
  await worker?.stop()
})

interface Row {
  id: string
  type: string
  item_id: string | null
  anonymous_id: string
}
const storedFor = (anonymousId: string) =>
  worker.query<Row>(
    `SELECT id, type, item_id, anonymous_id FROM events WHERE site_id = 'demo' AND anonymous_id = '${anonymousId}' ORDER BY ts, id`,
  )

/** Waits until every slot shows a fresh answer or decision (so the layout has stopped moving). */
async function settled(page: Page): Promise<void> {
  const waiting =
    '[data-vista-slot="recommendations"]:not([data-vista-filled^="rec_"]), [data-vista-slot="banner"]:not([data-vista-decision])'
  await expect.poll(() => page.locator(waiting).count(), { timeout: 20_000 }).toBe(0)
}

/** Waits until every slot shows a fresh answer or decision, then until the outbox is empty. */
async function drain(page: Page): Promise<void> {
  await settled(page)
  await drainOutbox(page)
}

/** The profile as IndexedDB holds it (read raw, not through the SDK). */
const profileOf = async (page: Page) => (await readDeviceStore<Profile>(page, 'profile'))!

const key = (r: { type: string; item_id: string | null }) => `${r.type}${r.item_id ? ` ${r.item_id}` : ''}`
// Slots report what they showed once their answer arrives, so how many depends on timing.
const shownEvents = ['Recommendation Shown', 'Offer Shown']
const onPurpose = (r: { type: string }) => !shownEvents.includes(r.type)

describe('the demo shop in Chromium', () => {
  it('browses, adds to cart, rates and buys; D1 holds each event exactly once', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const errors = watchErrors(page)
    const posted = recordPosts(page)

    await page.goto(worker.url)
    // The shop's own product links, once the slots have settled: a recommendation may show the same
    // product, and a fresh answer replacing the cached one moves the layout under the pointer.
    await page.click('nav a[href="/c/tea"]')
    await settled(page)
    await page.click('main a[href="/p/tea-01"]:not(.vista-item)')
    await page.click('#add-to-cart')
    await page.click('.rate[data-vista-rating="4"]')
    await page.click('nav a[href="/c/coffee"]')
    await settled(page)
    await page.click('main a[href="/p/coffee-02"]:not(.vista-item)')
    await page.click('#add-to-cart')
    await page.click('#add-to-cart')
    await page.click('#cart-link')
    await page.click('.remove[data-vista-remove="tea-01"]')
    await page.click('#checkout')
    await page.click('#place-order')
    await page.waitForSelector('[data-vista-order]')
    const revenue = Number(await page.getAttribute('[data-vista-order]', 'data-vista-revenue'))
    await drain(page)
    await page.screenshot({ path: `${OUT}/order-confirmation.png`, fullPage: true })

    const profile = await profileOf(page)
    const rows = await storedFor(profile.anonymousId)
    // No loss, no duplicate: D1 holds exactly what the device recorded and posted, once each.
    expect(rows).toHaveLength(profile.events)
    expect(new Set(rows.map((r) => r.id))).toEqual(posted)
    // Slots report what they showed; how many depends on how fast answers came, so they are
    // checked apart: each names an answer the Worker logged.
    const shown = rows.filter((r) => r.type === 'Recommendation Shown')
    expect(shown.length).toBeGreaterThan(0)
    const logged = await worker.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM recommendations WHERE id IN (SELECT json_extract(properties, '$.recommendation_id')
       FROM events WHERE anonymous_id = '${profile.anonymousId}' AND type = 'Recommendation Shown')`,
    )
    expect(logged[0]!.n).toBe(shown.length)
    expect(rows.filter(onPurpose).map(key).sort()).toEqual(
      [
        'Page Viewed', // home
        'Page Viewed', // tea
        'Page Viewed', // tea-01
        'Product Viewed tea-01',
        'Product Added tea-01',
        'Product Reviewed tea-01',
        'Page Viewed', // coffee
        'Page Viewed', // coffee-02
        'Product Viewed coffee-02',
        'Product Added coffee-02',
        'Product Added coffee-02',
        'Page Viewed', // cart
        'Cart Viewed',
        'Product Removed tea-01',
        'Cart Viewed',
        'Checkout Started',
        'Page Viewed', // checkout
        'Page Viewed', // order
        'Order Completed',
      ].sort(),
    )
    // Each event carries the page it happened on, the landing page included. In the device's order:
    // `ts` is corrected per batch by a skew that includes the network's delay, so two events a few
    // ms apart in different batches may swap there (the CI flake).
    const pages = await worker.query<{ type: string; path: string; page_type: string | null }>(
      `SELECT type, path, json_extract(properties, '$.page_type') AS page_type FROM events
       WHERE anonymous_id = '${profile.anonymousId}' AND type IN ('Page Viewed', 'Checkout Started') ORDER BY client_ts`,
    )
    expect(pages.map((p) => p.page_type ?? `${p.type} on ${p.path}`)).toEqual([
      'home',
      'category',
      'product',
      'category',
      'product',
      'cart',
      'Checkout Started on /cart',
      'checkout',
      'order',
    ])
    expect(profile).toMatchObject({
      pageViews: 8,
      cart: {},
      orders: 1,
      revenue,
      ratings: { 'tea-01': 4 },
      categories: { tea: 2, coffee: 4 },
      sessions: 1,
    })
    // What was done with each product, newest first: what every recommendation and decide request sends.
    expect(profile.recent.map((r) => `${r.id} ${r.kind}${r.rating ?? ''}`)).toEqual([
      'coffee-02 buy',
      'coffee-02 add',
      'coffee-02 view',
      'tea-01 rate4',
      'tea-01 add',
      'tea-01 view',
    ])
    // Trending on the home page counts these very events: coffee-02 was viewed, added twice and bought.
    await page.click('a.brand')
    const trending = page.locator('[data-strategy="trending"][data-vista-filled^="rec_"]')
    await trending.waitFor()
    expect(await trending.locator('.vista-item').first().getAttribute('href')).toBe('/p/coffee-02')
    expect(await trending.locator('.vista-reason').first().textContent()).toBe('Popular in coffee this week')
    await page.locator('[data-strategy="recently-viewed"][data-vista-filled^="rec_"]').waitFor()
    await page.screenshot({ path: `${OUT}/home-recommendations.png`, fullPage: true })
    expect(errors).toEqual([])
    await context.close()
  })

  it('resends the outbox after a reload mid-flight, without duplicates', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const errors = watchErrors(page)
    await page.goto(`${worker.url}/p/garden-01`)
    await drain(page)

    // Hold the next batch in the browser: the reload will cut it off mid-flight.
    let held: { body: string; headers: Record<string, string> } | undefined
    await page.route('**/v1/events', (route) => {
      held ??= { body: route.request().postData()!, headers: route.request().headers() }
    })
    await page.click('#add-to-cart')
    await page.click('.rate[data-vista-rating="5"]')
    const cutOff = page.evaluate(() => (window as unknown as { vista: { flush(): Promise<void> } }).vista.flush())
    cutOff.catch(() => {}) // the reload destroys the page it runs in
    await expect.poll(() => held !== undefined).toBe(true)
    const waiting = (await readDeviceStore<VistaEvent[]>(page, 'outbox'))!.map((e) => e.type)
    expect(waiting).toEqual(expect.arrayContaining(['Product Added', 'Product Reviewed']))

    await page.unrouteAll({ behavior: 'ignoreErrors' })
    await page.reload()
    // The cut-off batch did reach the Worker after all (only its answer was lost).
    const late = await fetch(`${worker.url}/v1/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: worker.url },
      body: held!.body,
    })
    expect(late.status).toBe(200)
    await drain(page)

    const profile = await profileOf(page)
    const rows = await storedFor(profile.anonymousId)
    expect(rows).toHaveLength(profile.events)
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length)
    expect(rows.filter(onPurpose).map(key).sort()).toEqual(
      [
        'Page Viewed',
        'Product Viewed garden-01',
        'Product Added garden-01',
        'Product Reviewed garden-01',
        'Page Viewed', // after the reload
        'Product Viewed garden-01',
      ].sort(),
    )
    expect(errors).toEqual([])
    await context.close()
  })

  it("changes the next answer once another shopper's events are folded, a second after they are accepted", async () => {
    const shopper = await browser.newContext()
    const other = await browser.newContext()
    const page = await shopper.newPage()
    const errors = watchErrors(page)
    const alsoViewed = '[data-strategy="also-viewed"][data-vista-filled^="rec_"]'
    await page.goto(`${worker.url}/p/garden-05`)
    await page.locator(alsoViewed).waitFor()
    expect(await page.locator(`${alsoViewed} .vista-reason`).first().textContent()).not.toMatch(/also viewed/)

    // Someone else views garden-05 and then stationery-07.
    const them = await other.newPage()
    await them.goto(`${worker.url}/p/garden-05`)
    await them.click('nav a[href="/c/stationery"]')
    await them.click('main a[href="/p/stationery-07"]')
    await drain(them)
    // Another shopper's events reach the shared model with the buffer's flush (0.5 s after they arrive).
    await worker.settled()

    await page.reload()
    await page.locator(alsoViewed).waitFor()
    const first = page.locator(`${alsoViewed} .vista-item`).first()
    expect(await first.getAttribute('href')).toBe('/p/stationery-07')
    const title = await page.locator('article.product h1').textContent()
    expect(await first.locator('.vista-reason').textContent()).toBe(`Shoppers who viewed ${title} also viewed this`)

    // A click on it is attributed: the product view it leads to carries the recommendation id.
    const recId = await page.locator(alsoViewed).getAttribute('data-vista-filled')
    await first.click()
    await page.waitForURL('**/p/stationery-07')
    await drain(page)
    const profile = await profileOf(page)
    const attributed = await worker.query<{ type: string; rec: string }>(
      `SELECT type, json_extract(properties, '$.recommendation_id') AS rec FROM events
       WHERE anonymous_id = '${profile.anonymousId}' AND type IN ('Recommendation Clicked', 'Product Viewed')
       AND item_id = 'stationery-07'`,
    )
    expect(attributed.sort((a, b) => a.type.localeCompare(b.type))).toEqual([
      { type: 'Product Viewed', rec: recId },
      { type: 'Recommendation Clicked', rec: recId },
    ])
    expect(errors).toEqual([])
    await shopper.close()
    await other.close()
  })

  it("shows the device's last answer at once, and keeps it when the Worker cannot be reached", async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const errors = watchErrors(page)
    await page.goto(`${worker.url}/p/kitchen-02`)
    await drain(page)
    const hrefs = (selector: string) =>
      page.locator(`${selector} .vista-item`).evaluateAll((els) => els.map((e) => e.getAttribute('href')))
    const fresh = await hrefs('[data-strategy="also-viewed"][data-vista-filled^="rec_"]')
    expect(fresh.length).toBeGreaterThan(0)

    await page.route('**/v1/recommendations?**', (route) => route.abort())
    await page.reload()
    const cached = '[data-strategy="also-viewed"][data-vista-filled="cache"]'
    await page.locator(cached).waitFor()
    expect(await hrefs(cached)).toEqual(fresh)
    expect(errors).toEqual([])
    await context.close()
  })

  it('signs in on two browsers and shows one customer, with segments and their reasons', async () => {
    const phone = await browser.newContext()
    const laptop = await browser.newContext()
    const a = await phone.newPage()
    const errors = watchErrors(a)
    await a.goto(`${worker.url}/p/books-02`)
    await a.click('#add-to-cart')
    await a.click('#cart-link')
    await a.click('#checkout')
    await a.click('#place-order')
    await a.waitForSelector('[data-vista-order]')
    await drain(a)
    await a.click('#me-link')
    // Before signing in there are segments but no linked ids: nothing missing may print as text.
    await expect.poll(() => a.locator('.lead').first().textContent(), { timeout: 10_000 }).toMatch(/^Not signed in/)
    expect(await a.locator('.segments li').count()).toBeGreaterThan(0)
    expect(await a.locator('#app').textContent()).not.toMatch(/null|undefined/)
    await a.fill('input[name="user"]', 'e2e-reader')
    await a.fill('input[name="email"]', 'Reader@Example.com')
    await a.click('#sign-in')
    await expect
      .poll(() => a.locator('.lead').first().textContent(), { timeout: 10_000 })
      .toMatch(/^One customer \(uid_/)

    const b = await laptop.newPage()
    await b.goto(`${worker.url}/me`)
    await drain(b)
    await b.fill('input[name="user"]', 'e2e-reader')
    await b.click('#sign-in')
    // The laptop sees the order placed on the phone before either browser signed in.
    await expect
      .poll(() => b.locator('.lead').first().textContent(), { timeout: 10_000 })
      .toMatch(/across 2 browser\(s\)\. \d+ events, 1 orders/)
    const segments = await b.locator('.segments li').allTextContents()
    expect(
      segments.some((s) => /^rfm:[a-z-]+ — R\d F\d M\d: last order 0 days ago, 1 order, \d+\.\d\d spent$/.test(s)),
    ).toBe(true)
    expect(segments).toContain('likes:books — 100% of their interest is in books')
    expect(await b.locator('#app').textContent()).not.toMatch(/null|undefined/)
    const linked = await b.locator('.caption').last().textContent()
    expect(linked).toMatch(/email [0-9a-f]{10}…/)
    expect(linked).not.toMatch(/example/i)
    await b.screenshot({ path: `${OUT}/customer-view.png`, fullPage: true })
    expect(errors).toEqual([])
    await phone.close()
    await laptop.close()
  })

  it('shows banners that follow segment and cart, rests one dismissed twice, and learns from acceptance', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const errors = watchErrors(page)
    const banner = page.locator('[data-vista-slot="banner"]')
    // The banner of the page being shown: each page view decides anew.
    const showing = () =>
      expect.poll(
        async () => ((await banner.isVisible()) ? await banner.locator('.vista-offer-title').textContent() : null),
        {
          timeout: 10_000,
        },
      )
    // A first visit with an empty cart: only the welcome offer is eligible.
    await page.goto(worker.url)
    await showing().toBe('Welcome! 10% off your first order')
    expect(await banner.locator('.vista-why').textContent()).toBe("Why this? Because it's your first visit")
    await banner.locator('.vista-dismiss').click()
    await expect.poll(() => banner.isVisible()).toBe(false)
    await page.click('nav a[href="/c/kitchen"]')
    await showing().toBe('Welcome! 10% off your first order')
    await banner.locator('.vista-dismiss').click()

    // Two dismissals rest the welcome offer; a cart over 50 makes free shipping the one to show.
    await page.click('main a[href="/p/kitchen-09"]') // 27.50 each
    await page.click('#add-to-cart')
    await page.click('#add-to-cart')
    await page.click('#cart-link')
    await showing().toBe('Free shipping on this order')
    expect(await banner.locator('.vista-why').textContent()).toBe('Why this? Because your cart is over €50')
    await banner.locator('.vista-offer').click()
    await drain(page)
    const { anonymousId } = await profileOf(page)
    const offers = await worker.query<{ type: string; action: string }>(
      `SELECT type, json_extract(properties, '$.action_id') AS action FROM events WHERE anonymous_id = '${anonymousId}'
       AND type IN ('Offer Accepted', 'Offer Dismissed') ORDER BY ts`,
    )
    expect(offers).toEqual([
      { type: 'Offer Dismissed', action: 'welcome' },
      { type: 'Offer Dismissed', action: 'welcome' },
      { type: 'Offer Accepted', action: 'free-shipping' },
    ])
    const arms = await worker.query<{ successes: number }>(
      `SELECT successes FROM arms WHERE action_id = 'free-shipping'`,
    )
    expect(arms.reduce((n, a) => n + a.successes, 0)).toBeGreaterThanOrEqual(1)
    await page.screenshot({ path: `${OUT}/banner.png` })
    expect(errors).toEqual([])
    await context.close()
  })

  it('answers malformed input from the page with 4xx and stores nothing', async () => {
    const page = await browser.newPage()
    const errors = watchErrors(page)
    await page.goto(worker.url)
    await drain(page) // the page's own view is stored before counting
    // Other tests' closing pages may still beacon; this page's own rows are what must not move.
    const { anonymousId } = await profileOf(page)
    const count = () =>
      worker.query<{ n: number }>(`SELECT COUNT(*) AS n FROM events WHERE anonymous_id = '${anonymousId}'`)
    const before = await count()
    // A valid event of this shopper next to a bad one: the batch is refused whole.
    const good = makeEvent('Product Viewed', { product_id: 'tea-01' }, { anonymousId })
    const bad = makeEvent('Product Reviewed', { product_id: 'tea-01', rating: 6 }, { anonymousId })
    const envelope = (key: string, events: unknown[]) =>
      JSON.stringify({ site: 'demo', key, sentAt: Date.now(), events })
    const bodies = [
      '{"site":',
      envelope('pk_wrong', [good]),
      envelope('pk_demo_vista_public', [good, bad]),
      envelope('pk_demo_vista_public', [{ ...good, type: 'Page Viewed', properties: '__proto__' }]),
    ]
    const statuses = await page.evaluate(
      (bodies) =>
        Promise.all(bodies.map((body) => fetch('/v1/events', { method: 'POST', body }).then((r) => r.status))),
      bodies,
    )
    expect(statuses).toEqual([400, 401, 400, 400])
    expect(errors).toEqual([])
    expect(await count()).toEqual(before)
    await page.close()
  })
})
