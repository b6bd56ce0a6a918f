// Debian's Chromium driven by playwright-core: no browser download, no network beyond loopback.
import { chromium, type Browser, type Page } from 'playwright-core'
import { expect } from 'vitest'

/** Launches headless Chromium with the flags that keep it off the (closed) network, and any `extra` flags. */
export const launch = (extra: string[] = []): Promise<Browser> =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extra,
    ],
  })

/** Collects uncaught exceptions and console errors of a page. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    // A refused fetch is the network's business, not a script error.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`)
  })
  return errors
}

/** Every event id the page posted to /v1/events, retries and beacons included. */
export function recordPosts(page: Page): Set<string> {
  const ids = new Set<string>()
  page.on('request', (req) => {
    if (req.method() === 'POST' && req.url().endsWith('/v1/events')) {
      for (const e of (JSON.parse(req.postData() ?? '{}').events ?? []) as Array<{ id: string }>) ids.add(e.id)
    }
  })
  return ids
}

/** The value under `key` in the SDK's IndexedDB store, read the raw way (not through the SDK). */
export const readDeviceStore = <T>(page: Page, key: string): Promise<T | undefined> =>
  page.evaluate(
    (key) =>
      new Promise<T | undefined>((resolve, reject) => {
        // Runs in the page; typed by hand, as the benchmarks type-check without the DOM library.
        const open = (globalThis as unknown as { indexedDB: { open(name: string): OpenRequest } }).indexedDB.open(
          'vista',
        )
        open.onerror = () => reject(open.error)
        open.onsuccess = () => {
          const get = open.result.transaction('kv').objectStore('kv').get(key)
          get.onsuccess = () => resolve(get.result as T | undefined)
          get.onerror = () => reject(get.error)
        }
      }),
    key,
  )

/** The part of an IndexedDB open request that readDeviceStore uses. */
interface OpenRequest {
  error: unknown
  result: {
    transaction(store: string): { objectStore(store: string): { get(key: string): Handlers & { result: unknown } } }
  }
  onerror: () => void
  onsuccess: () => void
}
type Handlers = { error: unknown; onsuccess: () => void; onerror: () => void }

/** Sends what the SDK holds until its outbox in IndexedDB is empty (a flush in a backoff sends nothing: this waits it out). */
export async function drainOutbox(page: Page): Promise<void> {
  await expect
    .poll(
      async () => {
        await page.evaluate(() => (globalThis as unknown as { vista: { flush(): Promise<void> } }).vista.flush())
        return ((await readDeviceStore<unknown[]>(page, 'outbox')) ?? []).length
      },
      { timeout: 20_000 },
    )
    .toBe(0)
}
