// Real time from the device, in Chromium against `wrangler dev`: a product view changes the very next
// recommendation slot while no event of this shopper has reached the Worker (every POST to /v1/events
// is refused), because the SDK sends its recent items with the request.
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RecommendationAnswer } from '../../contract'
import type { Vista } from '../../sdk/vista'
import { makeEvent } from '../fixtures/events'
import { launch, watchErrors } from './browser'
import { startWorker, type LocalWorker } from './server'

let worker: LocalWorker
let browser: Browser
/** The demo's public key (demo/shop/index.html). */
const DEMO_KEY = 'pk_demo_vista_public'

// Other shoppers viewed the Darjeeling with the House Espresso, so the one is the other's neighbour.
const VIEWED = { id: 'tea-01', title: 'Darjeeling First Flush 100 g' }
const NEIGHBOUR = 'coffee-03'

const recommendations = async (params: Record<string, string>) => {
  const query = new URLSearchParams({ site: 'demo', key: DEMO_KEY, limit: '4', ...params })
  const res = await fetch(`${worker.url}/v1/recommendations?${query}`)
  expect(res.status).toBe(200)
  return (await res.json()) as RecommendationAnswer
}

beforeAll(async () => {
  // These tests read back other shoppers' events at once; test/worker/recommend/cache.test.ts covers the
  // edge cache, which serves shared lists up to SHARED_TTL old.
  ;[worker, browser] = await Promise.all([
    startWorker({ prefix: 'vista-recent-', vars: { SHARED_CACHE: 'off' } }),
    launch(),
  ])
})
afterAll(async () => {
  await browser?.close()
  await worker?.stop()
})

/** Other shoppers' views of VIEWED with NEIGHBOUR, once the Worker answers with their pairs. */
async function seedPairs() {
  const events = ['o1', 'o2', 'o3'].flatMap((anonymousId) =>
    [VIEWED.id, NEIGHBOUR].map((product_id) => makeEvent('Product Viewed', { product_id }, { anonymousId })),
  )
  const res = await fetch(`${worker.url}/v1/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain', Origin: worker.url },
    body: JSON.stringify({ site: 'demo', key: DEMO_KEY, sentAt: Date.now(), events }),
  })
  expect(res.ok).toBe(true)
  // Stored may lag accepted: wait until the pairs answer.
  await expect
    .poll(async () => (await recommendations({ strategy: 'also-viewed', item: VIEWED.id })).items[0]?.id, {
      timeout: 20_000,
    })
    .toBe(NEIGHBOUR)
}

describe('a recommendation slot right after a product view, in Chromium', () => {
  it("reflects the view though none of the shopper's events is stored", async () => {
    await seedPairs()
    const context = await browser.newContext()
    const page = await context.newPage()
    const errors = watchErrors(page)
    await page.route('**/v1/events', (route) => route.abort())
    await page.goto(`${worker.url}/p/${VIEWED.id}`)
    await page.waitForSelector(`[data-vista-view="${VIEWED.id}"]`)
    // The home page's "for you" slot, at once: the SPA route change renders it.
    await page.click('a.brand')
    const slot = page.locator('[data-strategy="for-you"][data-vista-filled^="rec_"]')
    await slot.waitFor()
    expect(await slot.locator('.vista-item').first().getAttribute('href')).toBe(`/p/${NEIGHBOUR}`)
    expect(await slot.locator('.vista-reason').first().textContent()).toBe(`Because you viewed ${VIEWED.title}`)

    // The stored history alone would have answered otherwise: D1 holds nothing of this shopper.
    const { anonymousId } = await page.evaluate(() => (window as unknown as { vista: Vista }).vista.profile())
    expect(await worker.query(`SELECT id FROM events WHERE anonymous_id = '${anonymousId}'`)).toEqual([])
    const stored = await recommendations({ strategy: 'for-you', anonymousId })
    expect(stored.items.flatMap((i) => i.reasons)).not.toContain(`Because you viewed ${VIEWED.title}`)
    expect(errors).toEqual([])
    await context.close()
  })
})
