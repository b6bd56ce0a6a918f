// 3. kill -9 mid-load: workerd killed and restarted while a Chromium page with the SDK and a
// retrying loader keep sending; every acknowledged or recorded event must be stored once.
import { build } from 'esbuild'
import type { Page } from 'playwright-core'
import { launch, readDeviceStore, recordPosts, watchErrors } from '../../e2e/browser'
import type { LocalWorker } from '../../e2e/server'
import { pace } from '../load'
import { countByPrefix, KEY, makeBatch, post, SITE } from './batches'
import { int, report } from './report'

// The crash: the page tracks PAGE_EVENTS over ~12 s; the loader sends 20-event batches at 5/s for
// 14 s; the Worker is killed CRASH_AFTER_MS into both, then restarted at once.
const PAGE_EVENTS = 300
const PAGE_EVERY_MS = 40
const LOADER_BATCHES = 70
const LOADER_PER_SECOND = 5
const LOADER_SIZE = 20
const CRASH_AFTER_MS = 3_000
const DELIVERY_TIMEOUT_MS = 120_000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The page's `window`, as far as this file uses it (it type-checks without the DOM library). */
interface PageGlobals {
  vista: {
    track(type: string, properties: object): void
    flush(): Promise<void>
    stats: { sent: number; dropped: number; retries: number }
  }
}

/** A page on the Worker's origin with the SDK (built from sdk/index.ts now) in its script tag. */
async function openSdkPage(page: Page, url: string): Promise<void> {
  const bundle = await build({
    entryPoints: ['sdk/index.ts'],
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    write: false,
    logLevel: 'warning',
  })
  const sdk = bundle.outputFiles[0]!.text
  const html =
    '<!doctype html><html><head><title>reliability</title>' +
    `<script src="/bench-sdk.js" data-site="${SITE}" data-key="${KEY}" data-flush-at="10" data-flush-interval="500"></script>` +
    '</head><body><main>reliability bench</main></body></html>'
  await page.route(`${url}/reliability`, (r) => r.fulfill({ contentType: 'text/html', body: html }))
  await page.route(`${url}/bench-sdk.js`, (r) => r.fulfill({ contentType: 'text/javascript', body: sdk }))
  await page.goto(`${url}/reliability`)
  await page.waitForFunction(() => typeof (globalThis as Partial<PageGlobals>).vista?.track === 'function')
}

/** A loader that retries each batch (backoff with equal jitter) until the Worker accepts it. */
function retryingLoader(worker: LocalWorker) {
  const stats = { posts: 0, failed: 0, reasons: new Map<string, number>(), duplicates: 0, accepted: 0, events: 0 }
  const send = async (i: number) => {
    const events = makeBatch('cr', i, LOADER_SIZE)
    stats.events += events.length
    const deadline = Date.now() + DELIVERY_TIMEOUT_MS
    for (let attempt = 0; ; attempt++) {
      stats.posts++
      try {
        const answer = await post(worker, events)
        stats.accepted += answer.accepted
        stats.duplicates += answer.duplicates
        return
      } catch (error) {
        stats.failed++
        const reason = failureReason(error)
        stats.reasons.set(reason, (stats.reasons.get(reason) ?? 0) + 1)
        if (Date.now() > deadline) throw error
        const step = Math.min(2000, 200 * 2 ** attempt)
        await sleep(step / 2 + Math.random() * (step / 2))
      }
    }
  }
  return { stats, send }
}

const failureReason = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string } })?.cause
  const message = error instanceof Error ? error.message : String(error)
  const status = / -> (\d{3}) /.exec(message)?.[1]
  return cause?.code ?? (status ? `HTTP ${status}` : message.slice(0, 40))
}

/** Kills the Worker mid-load, restarts it, and checks what the page and the loader sent. */
export async function crash(worker: LocalWorker): Promise<void> {
  const browser = await launch()
  try {
    const page = await browser.newPage()
    const errors = watchErrors(page)
    const posted = recordPosts(page)
    await openSdkPage(page, worker.url)
    const before = await countByPrefix(worker)

    const loader = retryingLoader(worker)
    const tracking = page.evaluate(
      async ({ n, every }) => {
        const { vista } = globalThis as unknown as PageGlobals
        for (let i = 0; i < n; i++) {
          vista.track('Product Viewed', { product_id: `p${i % 1000}`, category: `c${i % 20}`, price: 10, seq: i })
          await new Promise((r) => setTimeout(r, every))
        }
      },
      { n: PAGE_EVENTS, every: PAGE_EVERY_MS },
    )
    const loading = pace(LOADER_BATCHES, LOADER_PER_SECOND, LOADER_BATCHES, loader.send)
    await sleep(CRASH_AFTER_MS)
    const killedAt = performance.now()
    await worker.crash()
    const down = await fetch(`${worker.url}/v1/health`).then(
      () => false,
      () => true,
    )
    await worker.restart()
    const downtime = (performance.now() - killedAt) / 1000
    await tracking

    // The outbox empties on its own once the backoff allows; flush() only shortens the last wait.
    const drainStart = performance.now()
    let waiting = -1
    while (performance.now() - drainStart < DELIVERY_TIMEOUT_MS) {
      await page.evaluate(() => (globalThis as unknown as PageGlobals).vista.flush())
      waiting = ((await readDeviceStore<unknown[]>(page, 'outbox')) ?? []).length
      if (waiting === 0) break
      await sleep(500)
    }
    const drained = (performance.now() - drainStart) / 1000
    const loaded = await loading
    const sdkStats = await page.evaluate(() => ({ ...(globalThis as unknown as PageGlobals).vista.stats }))
    const { anonymousId } = (await readDeviceStore<{ anonymousId: string }>(page, 'ids')) ?? { anonymousId: '' }

    const pageRows = await worker.query<{ id: string }>(
      `SELECT id FROM events WHERE site_id = '${SITE}' AND anonymous_id = '${anonymousId}'`,
    )
    const after = await countByPrefix(worker)
    const stored = new Set(pageRows.map((r) => r.id))
    const recorded = PAGE_EVENTS + 1 // and the landing page view
    const samePosted = stored.size === posted.size && [...posted].every((id) => stored.has(id))
    report({
      name: 'crash: kill -9 of workerd mid-load, restart on the same port and state',
      tried: `SIGKILL of wrangler dev's process tree ${CRASH_AFTER_MS / 1000} s into the load, then wrangler dev again`,
      held: down,
      figure: `refused connections while down: ${down ? 'yes' : 'no'}; down ${downtime.toFixed(1)} s until /v1/health answered`,
    })
    const ld = before.get('ld-')
    report({
      name: 'crash: acknowledged events survive the kill',
      tried: 'rows of the paced load, counted before and after',
      held: after.get('ld-')?.n === ld?.n && after.get('ld-')?.d === ld?.n,
      figure: `${int(ld?.n ?? 0)} before, ${int(after.get('ld-')?.n ?? 0)} after`,
    })
    report({
      name: 'crash: Chromium page with the SDK, every recorded event once',
      tried: `${PAGE_EVENTS} vista.track() every ${PAGE_EVERY_MS} ms across the crash (+1 page view)`,
      held:
        waiting === 0 &&
        pageRows.length === recorded &&
        stored.size === recorded &&
        samePosted &&
        sdkStats.dropped === 0 &&
        errors.length === 0,
      figure:
        `${pageRows.length} rows, ${stored.size} distinct, ${recorded} recorded, ${posted.size} ids posted; outbox ${waiting} left ` +
        `${drained.toFixed(1)} s after the page stopped; SDK retries ${sdkStats.retries}, dropped ${sdkStats.dropped}` +
        (errors.length > 0 ? `; page errors: ${errors.slice(0, 2).join(' | ')}` : ''),
    })
    const cr = after.get('cr-') ?? { n: 0, d: 0 }
    const reasons = [...loader.stats.reasons].map(([r, n]) => `${r} ${n}`).join(', ')
    report({
      name: 'crash: loader retries failed POSTs until accepted, each event once',
      tried: `${LOADER_BATCHES} batches of ${LOADER_SIZE} at ${LOADER_PER_SECOND}/s, retried with jittered backoff`,
      held: loaded.failures === 0 && cr.n === loader.stats.events && cr.d === cr.n && loader.stats.failed > 0,
      figure:
        `${int(cr.n)} rows, ${int(cr.d)} distinct, ${int(loader.stats.events)} sent; ${loader.stats.posts} POSTs, ${loader.stats.failed} failed (${reasons || 'none'}); ` +
        `acknowledged late as duplicates: ${loader.stats.duplicates}`,
    })
  } finally {
    await browser.close()
  }
}
