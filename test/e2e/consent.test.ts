// Consent in a real browser: under each mode and privacy signal, the demo shop stores and sends
// nothing beyond what the shopper allowed, and the choice, once made, takes effect at once.
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Vista } from '../../sdk/vista'
import { launch, watchErrors } from './browser'
import { startWorker, type LocalWorker } from './server'

let worker: LocalWorker
let browser: Browser

beforeAll(async () => {
  ;[worker, browser] = await Promise.all([startWorker({ prefix: 'vista-consent-' }), launch()])
})
afterAll(async () => {
  await browser?.close()
  await worker?.stop()
})

interface Shop {
  context: BrowserContext
  page: Page
  /** `METHOD /path` of every request to the Worker's API, in order. */
  calls: string[]
  /** Ids of the events the page posted. */
  posted: string[]
  /** The consent mode each batch declared (the Worker refuses a tag laxer than the site's setting). */
  modes: Array<string | undefined>
  errors: string[]
}

/** A fresh browser profile on the demo shop, its script tag set to `consent` (and a privacy signal, if any). */
async function openShop(consent: string | null, signal?: 'gpc' | 'dnt'): Promise<Shop> {
  const context = await browser.newContext()
  if (signal === 'gpc')
    await context.addInitScript(() => Object.defineProperty(navigator, 'globalPrivacyControl', { get: () => true }))
  if (signal === 'dnt')
    await context.addInitScript(() => Object.defineProperty(navigator, 'doNotTrack', { get: () => '1' }))
  if (consent) {
    await context.route(
      (url) => !url.pathname.startsWith('/v1/') && !/\.\w+$/.test(url.pathname),
      async (route) => {
        const res = await route.fetch()
        const html = (await res.text()).replace(
          '<script src="/v1/vista.js"',
          `<script src="/v1/vista.js" data-consent="${consent}"`,
        )
        await route.fulfill({ response: res, body: html })
      },
    )
  }
  const page = await context.newPage()
  const shop: Shop = { context, page, calls: [], posted: [], modes: [], errors: watchErrors(page) }
  page.on('request', (req) => {
    const url = new URL(req.url())
    if (!url.pathname.startsWith('/v1/') || url.pathname.endsWith('.js')) return
    shop.calls.push(`${req.method()} ${url.pathname}`)
    if (url.pathname !== '/v1/events') return
    const batch = JSON.parse(req.postData() ?? '{}') as { consent?: string; events?: Array<{ id: string }> }
    shop.posted.push(...(batch.events ?? []).map((e) => e.id))
    shop.modes.push(batch.consent)
  })
  return shop
}

/** Browses like a shopper: home, a product, add to cart, signs in; then asks the SDK to send. */
async function browse(shop: Shop): Promise<void> {
  const { page } = shop
  await page.goto(worker.url)
  await page.locator('main a[href^="/p/"]:not(.vista-item)').first().click()
  await page.locator('#add-to-cart').click()
  await page.evaluate(() =>
    (window as unknown as { vista: Vista }).vista.identify('consent-shopper', { email: 'a@b.c' }),
  )
  await flush(page)
  // Slots ask for answers after the page view; let them settle so the assertions see every call.
  await page.waitForLoadState('networkidle')
}

/** Calls `vista.consent(choice)` in the page. */
const consent = (page: Page, choice?: { tracking: boolean }) =>
  page.evaluate((c) => (window as unknown as { vista: Vista }).vista.consent(c), choice)
/** Calls `vista.flush()` in the page. */
const flush = (page: Page) => page.evaluate(() => (window as unknown as { vista: Vista }).vista.flush())

/** Every key in the SDK's IndexedDB store (read raw, not through the SDK). */
const deviceKeys = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<string[]>((resolve) => {
        const open = indexedDB.open('vista')
        open.onsuccess = () => {
          if (!open.result.objectStoreNames.contains('kv')) return resolve([])
          const keys = open.result.transaction('kv').objectStore('kv').getAllKeys()
          keys.onsuccess = () => resolve(keys.result.map(String).sort())
        }
        open.onerror = () => resolve([])
      }),
  )

const storedIds = async (ids: string[]) =>
  ids.length === 0
    ? []
    : (
        await worker.query<{ id: string }>(`SELECT id FROM events WHERE id IN (${ids.map((i) => `'${i}'`).join(',')})`)
      ).map((r) => r.id)

const writes = (calls: string[]) => calls.filter((c) => /\/v1\/(events|identify|decide)$/.test(c))

describe('consent in Chromium', () => {
  it('tracks nothing before consent under "no tracking until consent", then everything after it', async () => {
    const shop = await openShop('no-tracking-until-consent')
    await browse(shop)
    expect(writes(shop.calls)).toEqual([])
    expect(await deviceKeys(shop.page)).toEqual([])
    // Recommendations still show, from requests that carry no identifier.
    expect(shop.calls.some((c) => c === 'GET /v1/recommendations')).toBe(true)

    const before = Date.now()
    const state = await consent(shop.page, { tracking: true })
    expect(state).toMatchObject({
      mode: 'no-tracking-until-consent',
      level: 'full',
      choice: { tracking: true },
      signal: null,
    })
    expect(state.choice!.at).toBeGreaterThanOrEqual(before)
    await shop.page.locator('#add-to-cart').click()
    await flush(shop.page)
    expect(shop.posted.length).toBeGreaterThan(0)
    expect((await storedIds(shop.posted)).sort()).toEqual([...shop.posted].sort())
    expect(new Set(shop.modes)).toEqual(new Set(['no-tracking-until-consent']))
    expect(await deviceKeys(shop.page)).toEqual(expect.arrayContaining(['consent', 'ids', 'outbox', 'profile']))

    // The choice holds on the next page load.
    await shop.page.reload()
    await expect.poll(() => consent(shop.page)).toMatchObject({ level: 'full' })
    expect(shop.errors).toEqual([])
    await shop.context.close()
  })

  it('sends anonymous events with a page-lifetime id and stores nothing under "anonymous until consent"', async () => {
    const shop = await openShop('anonymous-until-consent')
    await browse(shop)
    const first = new Set(
      await worker.query<{ a: string }>(
        `SELECT DISTINCT anonymous_id AS a FROM events WHERE id IN (${shop.posted.map((i) => `'${i}'`).join(',')})`,
      ),
    )
    expect(shop.posted.length).toBeGreaterThan(0)
    expect(await storedIds(shop.posted)).toHaveLength(shop.posted.length)
    expect(shop.calls).not.toContain('POST /v1/identify') // anonymous means no user id
    expect(await deviceKeys(shop.page)).toEqual([])
    expect(first.size).toBe(1)

    // A reload is a new anonymous shopper: nothing on the device ties the two together.
    const sent = shop.posted.length
    await shop.page.reload()
    await flush(shop.page)
    await expect.poll(() => shop.posted.length).toBeGreaterThan(sent)
    const later = await worker.query<{ a: string }>(
      `SELECT DISTINCT anonymous_id AS a FROM events WHERE id IN (${shop.posted
        .slice(sent)
        .map((i) => `'${i}'`)
        .join(',')})`,
    )
    expect(later.map((r) => r.a)).not.toContain([...first][0]!.a)

    // Refusing keeps it anonymous; accepting starts storing.
    expect(await consent(shop.page, { tracking: false })).toMatchObject({ level: 'anonymous' })
    expect(await deviceKeys(shop.page)).toEqual(['consent'])
    expect(await consent(shop.page, { tracking: true })).toMatchObject({ level: 'full' })
    await shop.page.locator('a[href^="/p/"]').first().click()
    await expect.poll(() => deviceKeys(shop.page)).toEqual(expect.arrayContaining(['consent', 'ids', 'profile']))
    expect(shop.errors).toEqual([])
    await shop.context.close()
  })

  for (const signal of ['gpc', 'dnt'] as const) {
    it(`honours ${signal === 'gpc' ? 'Global Privacy Control' : 'Do Not Track'} under "tracking with opt-out" until the shopper opts in`, async () => {
      const shop = await openShop(null, signal)
      await browse(shop)
      expect(writes(shop.calls)).toEqual([])
      expect(await deviceKeys(shop.page)).toEqual([])
      expect(await consent(shop.page)).toMatchObject({ mode: 'tracking-with-opt-out', level: 'off', signal })
      // An explicit choice is the shopper's own, later word: it wins over the browser's default.
      expect(await consent(shop.page, { tracking: true })).toMatchObject({ level: 'full' })
      await shop.page.locator('#add-to-cart').click()
      await flush(shop.page)
      expect(shop.posted.length).toBeGreaterThan(0)
      expect(shop.errors).toEqual([])
      await shop.context.close()
    })
  }

  it('tracks by default under "tracking with opt-out", and opting out wipes the device and stops sending', async () => {
    const shop = await openShop('tracking-with-opt-out')
    await browse(shop)
    expect(shop.calls).toContain('POST /v1/events')
    expect(shop.calls).toContain('POST /v1/identify')
    expect(await deviceKeys(shop.page)).toEqual(expect.arrayContaining(['ids', 'profile']))

    // The shop's own privacy panel uses vista.consent().
    await shop.page.goto(`${worker.url}/me`)
    await shop.page.locator('#consent-off').click()
    await expect.poll(() => shop.page.locator('#consent-state').textContent()).toContain('does not track you')
    expect(await consent(shop.page)).toMatchObject({ level: 'off', choice: { tracking: false } })
    expect(await deviceKeys(shop.page)).toEqual(['consent'])
    const calls = shop.calls.length
    await shop.page.goto(worker.url)
    await shop.page.locator('main a[href^="/p/"]:not(.vista-item)').first().click()
    await shop.page.locator('#add-to-cart').click()
    await shop.page.waitForLoadState('networkidle')
    await flush(shop.page)
    expect(writes(shop.calls.slice(calls))).toEqual([])
    expect(await deviceKeys(shop.page)).toEqual(['consent'])
    expect(shop.errors).toEqual([])
    await shop.context.close()
  })
})
