// The SDK under faults, in Chromium against `wrangler dev` with local D1: offline, 5xx, 429 with
// Retry-After, a tab closed mid-send, IndexedDB missing or failing, two tabs on one store, SPA
// routes. Each case proves the same three things: no event the page recorded is lost, none is
// stored twice, and the page sees no exception.
import { performance } from 'node:perf_hooks'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Vista } from '../../sdk/vista'
import type { IngestResult, VistaEvent } from '../../contract'
import { BACKOFF_BASE } from '../../sdk/send'
import { launch, readDeviceStore, watchErrors } from './browser'
import { startWorker, type LocalWorker } from './server'

let worker: LocalWorker
let browser: Browser

beforeAll(async () => {
  // The faults are injected in the browser; the Worker's own rate limits must not add any.
  ;[worker, browser] = await Promise.all([startWorker({ vars: { RATE_LIMITS: 'off' } }), launch()])
})
afterAll(async () => {
  await browser?.close()
  await worker?.stop()
})

/** Runs `fn(vista, arg)` in the page; as with page.evaluate, `fn` goes as source, using only its arguments. */
const withVista = <R, A = undefined>(page: Page, fn: (vista: Vista, arg: A) => R, arg?: A) =>
  page.evaluate(`(${fn.toString()})(window.vista, ${JSON.stringify(arg)})`) as Promise<Awaited<R>>

/** Tracks one Product Viewed per mark, the mark in a property of its own that D1 can be asked for. */
const trackMarks = (page: Page, marks: string[]) =>
  withVista(
    page,
    (v, marks) => marks.forEach((mark) => v.track('Product Viewed', { product_id: 'tea-01', mark })),
    marks,
  )

const flush = (page: Page) => withVista(page, (v) => v.flush())
const stats = (page: Page) => withVista(page, (v) => ({ ...v.stats }))

/**
 * Every POST /v1/events of a context's pages: how often each event id went out, and how many
 * events the Worker answered it already had (repeats it dropped). A closing page's beacon outlives
 * the page and is not seen here.
 */
function watchPosts(context: BrowserContext) {
  const log = { requests: 0, attempts: new Map<string, number>(), repeats: 0 }
  const isPost = (method: string, url: string) => method === 'POST' && new URL(url).pathname === '/v1/events'
  context.on('request', (req) => {
    if (!isPost(req.method(), req.url())) return
    log.requests++
    for (const e of JSON.parse(req.postData() ?? '{}').events as VistaEvent[]) {
      log.attempts.set(e.id, (log.attempts.get(e.id) ?? 0) + 1)
    }
  })
  context.on('response', (res) => {
    if (!isPost(res.request().method(), res.url()) || res.status() !== 200) return
    res.json().then(
      (r: IngestResult) => (log.repeats += r.duplicates),
      () => {},
    )
  })
  return log
}
type Posts = ReturnType<typeof watchPosts>

/** Waits until every slot has its answer, so no slot event is recorded after the counting. */
async function settled(page: Page): Promise<void> {
  const waiting = [
    '[data-vista-slot="recommendations"]:not([data-vista-filled^="rec_"])',
    '[data-vista-slot="banner"]:not([data-vista-decision])',
  ].join(', ')
  await expect.poll(() => page.locator(waiting).count(), { timeout: 20_000 }).toBe(0)
}

/** The outbox: read raw from IndexedDB, or through the SDK when the page has no IndexedDB. */
const outbox = async (page: Page, memory: boolean) =>
  ((memory ? (await withVista(page, (v) => v.exportData())).device.outbox : await readDeviceStore(page, 'outbox')) ??
    []) as VistaEvent[]

/** Flushes until the outbox is empty; a flush in a backoff sends nothing, so this waits it out. */
async function drain(page: Page, { memory = false } = {}): Promise<void> {
  const left = async () => (await flush(page), (await outbox(page, memory)).length)
  await expect.poll(left, { timeout: 30_000 }).toBe(0)
}

interface Row {
  id: string
  type: string
  anonymous_id: string
  path: string
  mark: string | null
}
const rowsOf = (anonymousId: string) =>
  worker.query<Row>(
    `SELECT id, type, anonymous_id, path, json_extract(properties, '$.mark') AS mark FROM events
     WHERE site_id = 'demo' AND anonymous_id = '${anonymousId}' ORDER BY client_ts, id`,
  )

/**
 * D1 holds every event the device recorded exactly once: as many rows as the device's profile
 * counted, each mark once, and the very ids the context posted.
 */
async function expectStoredOnce(page: Page, posts: Posts, marks: string[]): Promise<Row[]> {
  const profile = await withVista(page, (v) => v.profile())
  const rows = await rowsOf(profile.anonymousId)
  expect(rows.flatMap((r) => (r.mark ? [r.mark] : [])).sort()).toEqual([...marks].sort())
  expect(new Set(rows.map((r) => r.id))).toEqual(new Set(posts.attempts.keys()))
  expect(rows).toHaveLength(profile.events)
  return rows
}

/** Logs how often events went out again (the test output is the report on double sends). */
const report = (name: string, posts: Posts, extra = '') =>
  console.log(
    `faults: ${name}: ${posts.attempts.size} events in ${posts.requests} POSTs, ` +
      `${posts.repeats} repeats dropped by the Worker${extra}`,
  )

/** What the landing page and the cart button record, besides the marks. */
const KINDS = ['Page Viewed', 'Product Viewed', 'Product Added']

/** A context with its POST log and one page on `path`, its slots answered. */
async function open(path: string, init?: string) {
  const context = await browser.newContext()
  if (init) await context.addInitScript(init)
  const posts = watchPosts(context)
  const page = await context.newPage()
  const errors = watchErrors(page)
  await page.goto(`${worker.url}${path}`)
  await settled(page)
  return { context, posts, page, errors }
}

describe('the SDK under faults in Chromium', () => {
  it('keeps events while the browser is offline and sends them once it is back', async () => {
    const { context, posts, page, errors } = await open('/p/tea-02')
    await drain(page)
    await context.setOffline(true)
    await trackMarks(page, ['offline-1', 'offline-2'])
    await page.click('#add-to-cart')
    await flush(page)
    // Two failed attempts: the outbox holds through repeated failures, not just one.
    const retries = async () => (await stats(page)).retries
    await expect.poll(retries, { timeout: 10_000 }).toBeGreaterThanOrEqual(2)
    const waiting = await outbox(page, false)
    expect(waiting.map((e) => (e.properties as { mark?: string }).mark ?? e.type)).toEqual([
      'offline-1',
      'offline-2',
      'Product Added',
    ])
    await context.setOffline(false)
    await drain(page)
    const rows = await expectStoredOnce(page, posts, ['offline-1', 'offline-2'])
    expect(rows.filter((r) => r.type === 'Product Added')).toHaveLength(1)
    report('offline', posts)
    expect(errors).toEqual([])
    await context.close()
  })

  it('keeps a batch through 503 and 500 answers and delivers it once the Worker answers', async () => {
    const { context, posts, page, errors } = await open('/p/tea-03')
    await drain(page)
    const answers = [503, 500]
    const attempts: { at: number; ids: string[] }[] = []
    await page.route('**/v1/events', (route) => {
      const events = JSON.parse(route.request().postData()!).events as VistaEvent[]
      attempts.push({ at: performance.now(), ids: events.map((e) => e.id) })
      const status = answers.shift()
      if (!status) return route.continue()
      return route.fulfill({ status, contentType: 'application/json', body: '{"error":"down"}' })
    })
    await trackMarks(page, ['5xx-1', '5xx-2', '5xx-3'])
    await flush(page)
    await drain(page)
    // The same batch went out three times: kept whole through both errors.
    expect(attempts).toHaveLength(3)
    expect(attempts[1]!.ids).toEqual(attempts[0]!.ids)
    expect(attempts[2]!.ids).toEqual(attempts[0]!.ids)
    // Backoff with equal jitter: each wait is at least half its step (BACKOFF_BASE, then twice it).
    // Stamped here before answering, so a gap can only come out longer than the page waited.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(BACKOFF_BASE / 2)
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(BACKOFF_BASE)
    expect(await stats(page)).toMatchObject({ retries: 2, dropped: 0 })
    await expectStoredOnce(page, posts, ['5xx-1', '5xx-2', '5xx-3'])
    report('5xx', posts)
    expect(errors).toEqual([])
    await context.close()
  })

  it('waits as long as a 429 Retry-After asks, then delivers', async () => {
    const { context, posts, page, errors } = await open('/p/coffee-03')
    await drain(page)
    const asked = 2
    const attempts: number[] = []
    await page.route('**/v1/events', (route) => {
      // Stamped before the answer leaves: the page can only start waiting once it arrives.
      attempts.push(performance.now())
      if (attempts.length > 1) return route.continue()
      return route.fulfill({
        status: 429,
        headers: { 'Retry-After': String(asked) },
        contentType: 'application/json',
        body: '{"error":"too many requests"}',
      })
    })
    await trackMarks(page, ['429-1'])
    await flush(page)
    await expect.poll(() => attempts.length, { timeout: 10_000 }).toBe(1)
    // Prodding it during the wait must not send early: a new event, and flush() (drain calls it).
    await trackMarks(page, ['429-2'])
    await drain(page)
    const gap = attempts[1]! - attempts[0]!
    expect(gap).toBeGreaterThanOrEqual(asked * 1000)
    expect(await stats(page)).toMatchObject({ retries: 1, dropped: 0 })
    await expectStoredOnce(page, posts, ['429-1', '429-2'])
    report('429', posts, `; ${Math.round(gap)} ms from the 429 to the next POST`)
    expect(errors).toEqual([])
    await context.close()
  })

  it('resends from a new tab what a tab closed mid-send left in the outbox, once', async () => {
    const { context, posts, page, errors } = await open('/p/garden-03')
    await drain(page)
    // Hold the next POST in the browser, unanswered: the tab closes while it is in flight.
    let held: string[] | undefined
    await page.route('**/v1/events', (route) => {
      if (held) return route.continue().catch(() => {})
      held = (JSON.parse(route.request().postData()!).events as VistaEvent[]).map((e) => e.id)
    })
    await trackMarks(page, ['closed-1', 'closed-2', 'closed-3'])
    void flush(page).catch(() => {}) // never settles: the page closes first
    await expect.poll(() => held?.length, { timeout: 10_000 }).toBe(3)
    await page.close({ runBeforeUnload: true }) // as a user closes a tab: pagehide fires
    await expect.poll(() => page.isClosed()).toBe(true)
    // The pagehide beacon is not seen by the context (it outlives the page): D1 says what it
    // brought, for the report only, as it may land before or after this query.
    const list = held!.map((id) => `'${id}'`).join(',')
    const [beaconed] = await worker.query<{ n: number }>(`SELECT COUNT(*) AS n FROM events WHERE id IN (${list})`)

    const next = await context.newPage()
    const nextErrors = watchErrors(next)
    await next.goto(`${worker.url}/p/garden-03`)
    await settled(next)
    await drain(next)
    await expectStoredOnce(next, posts, ['closed-1', 'closed-2', 'closed-3'])
    // The new tab sent the held batch again, from the outbox both tabs share.
    for (const id of held!) expect(posts.attempts.get(id)).toBe(2)
    const beacon = `; the closing tab's beacon had stored ${beaconed!.n} of ${held!.length} held events`
    report('tab closed', posts, beacon)
    expect([...errors, ...nextErrors]).toEqual([])
    await context.close()
  })

  it.each([
    ['IndexedDB is missing', `Object.defineProperty(window, 'indexedDB', { value: undefined })`],
    [
      'opening IndexedDB throws',
      `IDBFactory.prototype.open = () => {
        throw new DOMException('The user denied permission.', 'SecurityError')
      }`,
    ],
  ])('tracks and delivers on memory when %s', async (name, init) => {
    const { context, posts, page, errors } = await open('/p/kitchen-03', init)
    await trackMarks(page, ['memory-1', 'memory-2'])
    await page.click('#add-to-cart')
    await drain(page, { memory: true })
    const rows = await expectStoredOnce(page, posts, ['memory-1', 'memory-2'])
    expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(KINDS))
    report(name, posts)
    expect(errors).toEqual([])
    await context.close()
  })

  it('goes on in memory, losing nothing, when IndexedDB starts failing (QuotaExceededError)', async () => {
    // Every write after the first outbox write fails, as on a full disk: the landing page view
    // waits in the stored outbox, unsent, when IndexedDB gives out. Reads still work.
    const init = `{
      let full = false
      const put = IDBObjectStore.prototype.put
      IDBObjectStore.prototype.put = function (value, key) {
        if (full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
        if (key === 'outbox') full = true
        return put.call(this, value, key)
      }
    }`
    const { context, posts, page, errors } = await open('/p/books-03', init)
    await trackMarks(page, ['quota-1', 'quota-2'])
    await page.click('#add-to-cart')
    await drain(page, { memory: true })
    const rows = await expectStoredOnce(page, posts, ['quota-1', 'quota-2'])
    // The page view stored before the failure went out too, under the same shopper.
    expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(KINDS))
    const stored = await readDeviceStore<{ anonymousId: string }>(page, 'ids')
    expect(new Set(rows.map((r) => r.anonymous_id))).toEqual(new Set([stored!.anonymousId]))
    report('IndexedDB full', posts)
    expect(errors).toEqual([])
    await context.close()
  })

  it('records from two tabs on one IndexedDB at once, each event sent and stored once', async () => {
    const context = await browser.newContext()
    const posts = watchPosts(context)
    const [a, b] = [await context.newPage(), await context.newPage()]
    const errors = [watchErrors(a), watchErrors(b)]
    await Promise.all([a.goto(`${worker.url}/p/tea-04`), b.goto(`${worker.url}/p/coffee-04`)])
    await Promise.all([settled(a), settled(b)])
    // Bursts of five with a breath between: each tab's flush (at 10 waiting) reads an outbox the
    // other one is writing to.
    const burst = (page: Page, tab: string) =>
      page.evaluate(async (tab) => {
        const { vista } = window as unknown as { vista: Vista }
        for (let i = 0; i < 30; i++) {
          vista.track('Product Viewed', { product_id: 'tea-04', mark: `${tab}-${i}` })
          if (i % 5 === 4) await new Promise((r) => setTimeout(r, 10))
        }
      }, tab)
    await Promise.all([burst(a, 'a'), burst(b, 'b')])
    await Promise.all([drain(a), drain(b)])
    const marks = ['a', 'b'].flatMap((tab) => Array.from({ length: 30 }, (_, i) => `${tab}-${i}`))
    const rows = await expectStoredOnce(a, posts, marks)
    // One shopper: both tabs read the same ids, and D1 has every event of both under them.
    expect((await withVista(b, (v) => v.profile())).anonymousId).toBe(rows[0]!.anonymous_id)
    expect(new Set(rows.map((r) => r.anonymous_id)).size).toBe(1)
    report('two tabs', posts)
    // The outbox lock: one tab sends at a time, so no event goes out twice.
    expect([...posts.attempts.values()].filter((n) => n > 1)).toEqual([])
    expect(errors.flat()).toEqual([])
    await context.close()
  })

  it('delivers, once, what a page recorded just before it navigated away', async () => {
    const { context, page, errors } = await open('/p/tea-01')
    await drain(page)
    const { anonymousId } = await withVista(page, (v) => v.profile())
    // A multi-page shop: a link to a document that arrives at once and runs no Vista, so only what
    // the leaving page handed to the browser can arrive.
    await context.route(`${worker.url}/next-page`, (r) =>
      r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>next</title>' }),
    )
    const marks = Array.from({ length: 20 }, (_, i) => `leave-${i}`)
    await page.evaluate((marks) => {
      const { vista } = window as unknown as { vista: Vista }
      for (const mark of marks) vista.track('Product Viewed', { product_id: 'tea-01', mark })
      location.href = '/next-page'
    }, marks)
    await page.waitForURL('**/next-page')
    const arrived = async () =>
      (await rowsOf(anonymousId)).flatMap((r) => (r.mark?.startsWith('leave-') ? [r.mark] : []))
    await expect.poll(async () => (await arrived()).length, { timeout: 20_000 }).toBe(marks.length)
    expect((await arrived()).sort()).toEqual([...marks].sort())
    expect(errors).toEqual([])
    await context.close()
  })

  it('records one Page Viewed per SPA route change, none lost', async () => {
    const { context, posts, page, errors } = await open('/')
    const pageViews = () => withVista(page, (v) => v.profile().then((p) => p.pageViews))
    // Each change waits for its page view: two changes in one task are one view by design.
    const routes: [string, () => Promise<unknown>][] = [
      ['/c/tea', () => page.click('nav a[href="/c/tea"]')],
      ['/p/tea-01', () => page.click('main a[href="/p/tea-01"]')],
      ['/c/coffee', () => page.click('nav a[href="/c/coffee"]')],
      ['/p/tea-01', () => page.goBack()], // popstate
      ['/c/coffee', () => page.goForward()],
      // Neither a same-URL replace nor a hash change is a page view (the next step would count it).
      ['', () => page.evaluate(() => history.replaceState(null, '', location.href))],
      ['', () => page.evaluate(() => (location.hash = 'app'))],
      ['/c/coffee', () => page.evaluate(() => history.replaceState(null, '', '/c/coffee?sort=price'))],
      ['/c/garden', () => page.click('nav a[href="/c/garden"]')],
    ]
    const expected = ['/']
    for (const [path, change] of routes) {
      await change()
      if (!path) continue
      expected.push(path)
      await expect.poll(pageViews, { timeout: 10_000 }).toBe(expected.length)
    }
    await settled(page)
    await drain(page)
    const rows = await expectStoredOnce(page, posts, [])
    expect(rows.filter((r) => r.type === 'Page Viewed').map((r) => r.path)).toEqual(expected)
    report('SPA routes', posts)
    expect(errors).toEqual([])
    await context.close()
  })
})
