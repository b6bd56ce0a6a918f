// Debian's Chromium driven by playwright-core: no browser download, no network beyond loopback.
import { chromium, type Browser, type Page } from 'playwright-core'

/** Launches headless Chromium with the flags that keep it off the (closed) network. */
export const launch = (): Promise<Browser> =>
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

/** The value under `key` in the SDK's IndexedDB store, read the raw way (not through the SDK). */
export const readDeviceStore = <T>(page: Page, key: string): Promise<T | undefined> =>
  page.evaluate(
    (key) =>
      new Promise<T | undefined>((resolve, reject) => {
        const open = indexedDB.open('vista')
        open.onerror = () => reject(open.error)
        open.onsuccess = () => {
          const get = open.result.transaction('kv').objectStore('kv').get(key)
          get.onsuccess = () => resolve(get.result as T | undefined)
          get.onerror = () => reject(get.error)
        }
      }),
    key,
  )
