// `npm run bench:reliability -- [--seconds N] [--rate N] [--size S] [--inflight C]`: the delivery
// promises tried against the real Worker under `wrangler dev` (local D1/KV): a sustained paced load,
// concurrent replays, a kill -9 mid-load while a Chromium page and a loader keep sending, and a
// table of bad requests. Prints what was tried and what held; exits 1 if any promise broke.
import { build } from 'esbuild'
import { connect } from 'node:net'
import type { Page } from 'playwright-core'
import {
  MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  type ApiError,
  type IngestResult,
  type VistaEvent,
} from '../../contract'
import { upsertItems, upsertSite } from '../../worker/admin/store'
import { hashKey } from '../../worker/http/site-auth'
import { launch, readDeviceStore, recordPosts, watchErrors } from '../e2e/browser'
import { startWorker, type LocalWorker } from '../e2e/server'
import { makeEvent } from '../fixtures/events'
import {
  benchCatalog,
  benchItem,
  fetchOk,
  formatTable,
  load,
  machine,
  ms,
  pace,
  parseFlags,
  percentile,
  random,
  zipf,
  type LoadResult,
  withLocalEnv,
} from './load'

const SITE = 'bench'
const KEY = 'pk_bench_reliability'
const OTHER = { id: 'other', key: 'pk_other_reliability', origin: 'https://other.example' }
const ITEMS = 1_000
const CATEGORIES = 20
// 1,000 events/s is what about 5,000 shoppers send at once (one event every 5 s each); fewer would
// make each a bot with thousands of events a minute.
const SHOPPERS = 5_000
const WARMUP = 20
/** Share of the target rate the paced load must reach (the pacer's last answers end the window). */
const RATE_TOLERANCE = 0.97
/** The paced load starts nothing after `seconds` × this, so a slow server cannot stretch the run. */
const MAX_OVERRUN = 1.5
const WINDOW_S = 10
const FLOOR_REQUESTS = 1_000
const REPLAYED = 50
const COPIES = 3
// The crash: the page tracks PAGE_EVENTS over ~12 s; the loader sends 20-event batches at 5/s for
// 14 s; the Worker is killed CRASH_AFTER_MS into both, then restarted at once.
const PAGE_EVENTS = 300
const PAGE_EVERY_MS = 40
const LOADER_BATCHES = 70
const LOADER_PER_SECOND = 5
const LOADER_SIZE = 20
const CRASH_AFTER_MS = 3_000
const DELIVERY_TIMEOUT_MS = 120_000
const RAW_TIMEOUT_MS = 10_000

/** One promise tried, for the summary. */
interface Outcome {
  name: string
  tried: string
  /** null: this stack cannot tell (the figure says why); not counted as broken. */
  held: boolean | null
  figure: string
}
const outcomes: Outcome[] = []
function report(o: Outcome): void {
  outcomes.push(o)
  console.log(`${o.held === null ? '-' : o.held ? '✓' : '✗'} ${o.name}: ${o.figure}`)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const int = (n: number) => Math.round(n).toLocaleString('en-US')

const seed = (persistTo: string) =>
  withLocalEnv(persistTo, async (env) => {
    await upsertSite(env.DB, { id: SITE, name: 'bench', keyHash: await hashKey(KEY), origins: ['http://127.0.0.1:*'] })
    await upsertSite(env.DB, { id: OTHER.id, name: 'other', keyHash: await hashKey(OTHER.key), origins: [OTHER.origin] })
    await upsertItems(env.DB, SITE, benchCatalog(ITEMS, CATEGORIES))
  })

// ---- Batches -------------------------------------------------------------------------------------

const rand = random(7)
const pickItem = zipf(ITEMS, 1, rand)

/** The 9-character prefix shared by a batch's event ids (`ld-000042`), so SQL can find a batch. */
const batchId = (prefix: string, index: number) => `${prefix}-${String(index).padStart(6, '0')}`

/** One shopper's outbox flush: mostly views, some cart adds and orders; ids `<batchId>-<n>`. */
function makeBatch(prefix: string, index: number, size: number): VistaEvent[] {
  const anonymousId = `s${Math.floor(rand() * SHOPPERS)}`
  const who = { anonymousId, sessionId: `${anonymousId}-1` }
  return Array.from({ length: size }, (_, n) => {
    const id = `${batchId(prefix, index)}-${n}`
    const rank = pickItem()
    const { id: product_id, category } = benchItem(rank, CATEGORIES)
    const product = { product_id, category, price: 10 }
    const r = rand()
    if (r < 0.7) return makeEvent('Product Viewed', product, { ...who, id })
    if (r < 0.9) return makeEvent('Product Added', { ...product, quantity: 1 }, { ...who, id })
    const products = [{ ...product, quantity: 1 }]
    return makeEvent('Order Completed', { order_id: id, revenue: 10, products }, { ...who, id })
  })
}

const envelope = (events: unknown[], over: object = {}) => ({ site: SITE, key: KEY, sentAt: Date.now(), events, ...over })

/** Posts one batch as the SDK does (text/plain, from an allowed origin); throws unless 2xx. */
async function post(worker: LocalWorker, events: VistaEvent[]): Promise<IngestResult> {
  const answer = await fetchOk(`${worker.url}/v1/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: worker.url },
    body: JSON.stringify(envelope(events)),
  })
  return JSON.parse(answer) as IngestResult
}

/** Events per id prefix of the bench site: rows and distinct ids, in one query. */
async function countByPrefix(worker: LocalWorker): Promise<Map<string, { n: number; d: number }>> {
  const rows = await worker.query<{ prefix: string; n: number; d: number }>(
    `SELECT substr(id, 1, 3) AS prefix, COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM events WHERE site_id = '${SITE}' GROUP BY prefix`,
  )
  return new Map(rows.map((r) => [r.prefix, { n: r.n, d: r.d }]))
}

const latencyFigure = (r: LoadResult) =>
  `p50 ${ms(percentile(r.latencies, 50))} ms, p99 ${ms(percentile(r.latencies, 99))} ms, max ${ms(r.latencies.at(-1) ?? NaN)} ms`

// ---- 1. Sustained load ---------------------------------------------------------------------------

interface Flags {
  seconds: number
  rate: number
  size: number
  inflight: number
}

/** Events accepted and answers received within each WINDOW_S of a paced run. */
interface Window {
  accepted: number
  latencies: number[]
}

const windowRows = (windows: Window[]) =>
  Array.from(windows, (w = { accepted: 0, latencies: [] }, k) => {
    const sorted = [...w.latencies].sort((a, b) => a - b)
    return [
      `${k * WINDOW_S}-${(k + 1) * WINDOW_S} s`,
      String(w.latencies.length),
      (w.accepted / WINDOW_S).toFixed(0),
      ms(percentile(sorted, 50)),
      ms(percentile(sorted, 99)),
    ]
  })

/** Paces `rate` events/s for `seconds`, checks D1 holds exactly what was accepted; returns batches to replay. */
async function sustainedLoad(worker: LocalWorker, { seconds, rate, size, inflight }: Flags): Promise<VistaEvent[][]> {
  const health = () => fetchOk(`${worker.url}/v1/health`).then(() => {})
  await load(WARMUP, inflight, health)
  const floor = await load(FLOOR_REQUESTS, inflight, health)
  let warmAccepted = 0
  await load(WARMUP, inflight, async (i) => {
    const answer = await post(worker, makeBatch('wu', i, size))
    warmAccepted += answer.accepted
  })

  const batches = Math.ceil((seconds * rate) / size)
  const perSecond = rate / size
  const step = Math.max(1, Math.floor(batches / REPLAYED))
  const kept: VistaEvent[][] = []
  const windows: Window[] = []
  let accepted = 0
  let duplicates = 0
  let failedEvents = 0
  const start = performance.now()
  const run = await pace(
    batches,
    perSecond,
    inflight,
    async (i) => {
      const events = makeBatch('ld', i, size)
      const sent = performance.now()
      const answer = await post(worker, events).catch((error: unknown) => {
        failedEvents += events.length
        throw error
      })
      const done = performance.now()
      const window = (windows[Math.floor((done - start) / 1000 / WINDOW_S)] ??= { accepted: 0, latencies: [] })
      window.accepted += answer.accepted
      window.latencies.push(done - sent)
      accepted += answer.accepted
      duplicates += answer.duplicates
      if (i % step === 0 && kept.length < REPLAYED) kept.push(events)
    },
    seconds * MAX_OVERRUN,
  )
  const achieved = accepted / run.seconds
  const offered = run.requests * size
  console.log(
    formatTable(
      ['route', 'requests', 'events', 'p50 ms', 'p99 ms', 'max ms', 'req/s', 'events/s', 'errors'],
      [
        [
          `POST /v1/events (paced, ≤${inflight} in flight)`,
          String(run.requests),
          int(accepted),
          ms(percentile(run.latencies, 50)),
          ms(percentile(run.latencies, 99)),
          ms(run.latencies.at(-1) ?? NaN),
          (run.requests / run.seconds).toFixed(1),
          achieved.toFixed(0),
          String(run.failures),
        ],
        [
          `GET /v1/health (floor, closed loop of ${inflight})`,
          String(floor.requests),
          '',
          ms(percentile(floor.latencies, 50)),
          ms(percentile(floor.latencies, 99)),
          ms(floor.latencies.at(-1) ?? NaN),
          (floor.requests / floor.seconds).toFixed(0),
          `(${int((floor.requests / floor.seconds) * size)})`,
          String(floor.failures),
        ],
      ],
    ),
  )
  console.log(`(floor events/s: ${size} events per request if storing them were free)`)
  console.log(`schedule slipped by at most ${ms(run.behindMs)} ms; ${run.requests} of ${batches} batches started within ${seconds * MAX_OVERRUN} s`)
  console.log(formatTable(['window', 'answers', 'events/s', 'p50 ms', 'p99 ms'], windowRows(windows)))
  if (run.firstFailure) console.log(`first failure: ${run.firstFailure}`)

  const first = windows[0]?.accepted ?? 0
  // The last window the run filled whole.
  const last = windows[Math.floor(run.seconds / WINDOW_S) - 1]?.accepted ?? 0
  report({
    name: `load: ${int(rate)} events/s for ${seconds} s`,
    tried: `${int(batches)} POSTs of ${size} events at ${perSecond}/s, ≤${inflight} in flight`,
    held: run.failures === 0 && run.requests === batches && achieved >= rate * RATE_TOLERANCE,
    figure:
      `${achieved.toFixed(0)} events/s (first ${WINDOW_S} s ${(first / WINDOW_S).toFixed(0)}, last ${(last / WINDOW_S).toFixed(0)}), ` +
      `${latencyFigure(run)}, ${run.failures} errors; floor /v1/health ${(floor.requests / floor.seconds).toFixed(0)} req/s, ` +
      `p50 ${ms(percentile(floor.latencies, 50))} ms`,
  })
  const counts = await countByPrefix(worker)
  const stored = counts.get('ld-') ?? { n: 0, d: 0 }
  const warm = counts.get('wu-') ?? { n: 0, d: 0 }
  // A failed request's batch may or may not be stored (the answer was lost, not the write): at most once.
  const unknown = stored.n - accepted
  report({
    name: 'load: D1 holds exactly the accepted events, none twice',
    tried: 'one COUNT(*), COUNT(DISTINCT id) per id prefix',
    held:
      stored.d === stored.n && unknown >= 0 && unknown <= failedEvents && duplicates === 0 &&
      accepted + failedEvents === offered && warm.n === warmAccepted && warm.d === warm.n,
    figure:
      `${int(stored.n)} rows, ${int(stored.d)} distinct ids; accepted ${int(accepted)} of ${int(offered)} sent (+${int(warm.n)} warm-up)` +
      (failedEvents > 0 ? `; ${int(unknown)} of ${int(failedEvents)} events of failed requests stored anyway` : ''),
  })
  return kept
}

// ---- 2. Concurrent replays -----------------------------------------------------------------------

/** Posts each accepted batch COPIES times at once; each event id must still have one row. */
async function replays(worker: LocalWorker, kept: VistaEvent[][]): Promise<void> {
  const before = await countByPrefix(worker)
  let accepted = 0
  let duplicates = 0
  let answers = 0
  const run = await load(kept.length, 2, async (i) => {
    const copies = await Promise.all(Array.from({ length: COPIES }, () => post(worker, kept[i]!)))
    for (const c of copies) {
      accepted += c.accepted
      duplicates += c.duplicates
      answers++
    }
  })
  const events = kept.reduce((n, b) => n + b.length, 0)
  const prefixes = kept.map((b) => `'${b[0]!.id.slice(0, 9)}'`).join(', ')
  const [row] = await worker.query<{ replayed: number; ids: number; n: number; d: number }>(
    `SELECT SUM(substr(id, 1, 9) IN (${prefixes})) AS replayed,
            COUNT(DISTINCT CASE WHEN substr(id, 1, 9) IN (${prefixes}) THEN id END) AS ids,
            COUNT(*) AS n, COUNT(DISTINCT id) AS d
     FROM events WHERE site_id = '${SITE}'`,
  )
  const total = [...before.values()].reduce((n, c) => n + c.n, 0)
  report({
    name: `replays: ${kept.length} accepted batches posted ${COPIES}× at once`,
    tried: `${kept.length * COPIES} concurrent POSTs of ${int(events)} already-stored events`,
    held:
      run.failures === 0 && answers === kept.length * COPIES && accepted === 0 && duplicates === events * COPIES &&
      row?.replayed === events && row.ids === events && row.n === total && row.d === total,
    figure: `${answers} answers 2xx, accepted ${accepted}, duplicates ${int(duplicates)}; ${int(row?.replayed ?? 0)} rows for ${int(events)} ids; site total ${int(row?.n ?? 0)} (was ${int(total)})`,
  })
}

// ---- 3. kill -9 mid-load -------------------------------------------------------------------------

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

async function crash(worker: LocalWorker): Promise<void> {
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
    const down = await fetch(`${worker.url}/v1/health`).then(() => false, () => true)
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
      held: waiting === 0 && pageRows.length === recorded && stored.size === recorded && samePosted && sdkStats.dropped === 0 && errors.length === 0,
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

// ---- 4. Bad input --------------------------------------------------------------------------------

/** An HTTP answer, read whole. */
interface Answer {
  status: number
  body: string
}

/** One bad (or odd but valid) request and what the Worker must answer. */
interface Case {
  name: string
  tried: string
  send: () => Promise<Answer>
  status: number
  /** For odd but valid input: events the answer must report accepted (and D1 then holds). */
  accepts?: number
  /** Reads back what was stored; a problem, or null. */
  verify?: () => Promise<string | null>
  /** wrangler dev's ProxyWorker may answer in the Worker's place (a request body cut short breaks its forwarding). */
  proxyMayAnswer?: boolean
}

/** A case tried: `held` null when wrangler dev's proxy answered, so the Worker's own answer is unknown. */
interface Tried {
  c: Case
  answer: Answer
  problem: string | null
  held: boolean | null
}

/** The proxy's plain-text 500 when its upstream request fails (wrangler-dist/ProxyWorker.js). */
const PROXY_FAILURE = /^Error: Network connection lost\.$/

async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init)
  return { status: res.status, body: await res.text() }
}

/** One HTTP/1.1 exchange on a bare socket, for what fetch will not send (lying lengths, invalid UTF-8, no type). */
function raw(url: string, head: string[], body: Buffer, halfClose = false): Promise<Answer> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    const done = () => {
      socket.destroy()
      resolve(parseAnswer(Buffer.concat(chunks)))
    }
    socket.setTimeout(RAW_TIMEOUT_MS, done)
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('close', done)
    // The server may answer and close before reading everything we wrote.
    socket.on('error', () => {})
    socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]))
    if (halfClose) socket.end()
  })
}

/** Status and body of the first response in `bytes` (status 0 when none came). */
function parseAnswer(bytes: Buffer): Answer {
  const split = bytes.indexOf('\r\n\r\n')
  if (split < 0) return { status: 0, body: '' }
  const head = bytes.subarray(0, split).toString('latin1')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
  let body = bytes.subarray(split + 4)
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) body = dechunk(body)
  else {
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]
    if (length) body = body.subarray(0, Number(length))
  }
  return { status, body: body.toString('utf8') }
}

function dechunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = []
  for (let at = 0; at < bytes.length; ) {
    const eol = bytes.indexOf('\r\n', at)
    const size = parseInt(bytes.subarray(at, eol).toString('latin1'), 16)
    if (!(size > 0)) break
    parts.push(bytes.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(parts)
}

const errorOf = (a: Answer): string | null => {
  try {
    const body = JSON.parse(a.body) as ApiError
    return typeof body.error === 'string' ? body.error : null
  } catch {
    return null
  }
}

/** Row counts of every table of the app, in one query. */
async function tableCounts(worker: LocalWorker): Promise<Record<string, number>> {
  const tables = await worker.query<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
  )
  const sql = tables.map((t) => `(SELECT COUNT(*) FROM "${t.name}") AS "${t.name}"`).join(', ')
  return (await worker.query<Record<string, number>>(`SELECT ${sql}`))[0] ?? {}
}

let fresh = 0
/** A valid event of a shopper of its own, with properties merged in. */
const goodEvent = (properties: object = {}, over: object = {}) =>
  makeEvent('Product Viewed', { product_id: 'p1', category: 'c1', price: 10, ...properties }, {
    id: `in-${Date.now().toString(36)}-${fresh++}`,
    anonymousId: 'bad-input',
    sessionId: 'bad-input-1',
    ...over,
  } as Partial<VistaEvent>)

/** The requests that must be refused: 4xx, a JSON `error`, nothing written anywhere. */
function refusals(url: string): Case[] {
  const events = `${url}/v1/events`
  const json = (body: unknown) => JSON.stringify(body)
  const postText = (body: string, headers: Record<string, string> = {}) => () =>
    request(events, { method: 'POST', headers: { 'Content-Type': 'text/plain', Origin: url, ...headers }, body })
  const postBatch = (batch: unknown, headers: Record<string, string> = {}) => postText(json(batch), headers)
  const withEvent = (e: object) => postBatch(envelope([e]))
  const head = (length: number | null) => rawHead(url, length)
  const valid = () => Buffer.from(json(envelope([goodEvent()])))
  const oversized = () => Buffer.from(json(envelope([goodEvent()])) + ' '.repeat(MAX_BATCH_BYTES))
  const huge = () => Buffer.from(json(envelope([goodEvent()])) + ' '.repeat(10 << 20))
  const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')])
  const recs = (query: string, headers: Record<string, string> = {}) => () =>
    request(`${url}/v1/recommendations?${query}`, { headers })
  const auth = `site=${SITE}&key=${KEY}`
  const decide = (body: unknown, headers: Record<string, string> = {}) => () =>
    request(`${url}/v1/decide`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: url, ...headers },
      body: typeof body === 'string' ? body : json(body),
    })
  const decision = { site: SITE, key: KEY, anonymousId: 'bad-input', placement: 'top' }
  const now = Date.now()
  const year = 365 * 24 * 3600_000
  const c = (name: string, tried: string, status: number, send: () => Promise<Answer>): Case => ({ name, tried, status, send })
  return [
    c('malformed JSON', "POST /v1/events '{\"site\":'", 400, postText('{"site":')),
    c('JSON null', 'POST /v1/events null', 400, postText('null')),
    c('JSON array', 'POST /v1/events []', 400, postText('[]')),
    c('form content type', 'application/x-www-form-urlencoded', 415, postText(`site=${SITE}&key=${KEY}`, { 'Content-Type': 'application/x-www-form-urlencoded' })),
    c('multipart content type', 'FormData with the batch as a field', 415, () => {
      const form = new FormData()
      form.set('batch', json(envelope([goodEvent()])))
      return request(events, { method: 'POST', headers: { Origin: url }, body: form })
    }),
    c('XML content type', 'application/xml, a valid batch', 415, postBatch(envelope([goodEvent()]), { 'Content-Type': 'application/xml' })),
    c('oversized body', `a batch + ${int(MAX_BATCH_BYTES)} B of spaces, honest length`, 413, () => raw(url, head(oversized().length), oversized())),
    c('oversized body, chunked', `a batch + ${int(MAX_BATCH_BYTES)} B of spaces, chunked`, 413, () => raw(url, head(null), chunk(oversized()))),
    c('10 MB body', '10 MB of JSON whitespace after a valid batch', 413, () => raw(url, head(huge().length), huge())),
    c('Content-Length too short', 'claims 10 B, sends a valid batch', 400, () => raw(url, head(10), valid())),
    {
      ...c('Content-Length too long', 'claims 4 KB, sends a 1 KB batch, then closes', 400, () => raw(url, head(4096), valid(), true)),
      proxyMayAnswer: true,
    },
    c('wrong type: sentAt', 'sentAt "now"', 400, postBatch(envelope([goodEvent()], { sentAt: 'now' }))),
    c('wrong type: events', 'events {} (an object)', 400, postBatch(envelope([], { events: { 0: goodEvent() } }))),
    c('wrong type: timestamp', 'timestamp "2026-11-23"', 400, withEvent({ ...goodEvent(), timestamp: '2026-11-23' })),
    c('wrong type: price', 'price "cheap"', 400, withEvent(goodEvent({ price: 'cheap' }))),
    c('wrong type: quantity', 'Product Added quantity 1.5', 400, withEvent({ ...goodEvent({ quantity: 1.5 }), type: 'Product Added' })),
    c('wrong type: properties', 'properties null', 400, withEvent({ ...goodEvent(), properties: null })),
    c('unknown event type', 'type "Hacked"', 400, withEvent({ ...goodEvent(), type: 'Hacked' })),
    c('huge string: product_id', 'product_id of 10,000 chars', 400, withEvent(goodEvent({ product_id: 'x'.repeat(10_000) }))),
    c('huge string: name', 'name of 100,000 chars', 400, withEvent(goodEvent({ name: 'x'.repeat(100_000) }))),
    c('huge string: custom property', 'properties of 9 KB (limit 8 KB)', 400, withEvent(goodEvent({ note: 'x'.repeat(9_000) }))),
    c('huge string: key', 'key of 10,000 chars', 400, postBatch(envelope([goodEvent()], { key: 'k'.repeat(10_000) }))),
    c('emoji in an id', 'product_id "🍵"', 400, withEvent(goodEvent({ product_id: '🍵' }))),
    c('lone surrogate in an id', 'event id "\\ud800"', 400, withEvent(goodEvent({}, { id: '\ud800' }))),
    c('SQL injection: event id', `id "x'); DROP TABLE events;--"`, 400, withEvent(goodEvent({}, { id: "x'); DROP TABLE events;--" }))),
    c('SQL injection: anonymousId', `anonymousId "' OR 1=1 --"`, 400, withEvent(goodEvent({}, { anonymousId: "' OR 1=1 --" }))),
    c('SQL injection: site', `site "${SITE}' OR '1'='1"`, 400, postBatch(envelope([goodEvent()], { site: `${SITE}' OR '1'='1` }))),
    c('prototype pollution: __proto__', 'site and key only under "__proto__"', 400, postText(`{"__proto__":{"site":"${SITE}","key":"${KEY}"},"sentAt":${now},"events":${json([goodEvent()])}}`)),
    c('prototype pollution: constructor.prototype', 'site and key only under constructor.prototype', 400, postText(`{"constructor":{"prototype":{"site":"${SITE}","key":"${KEY}"}},"sentAt":${now},"events":${json([goodEvent()])}}`)),
    c('forged key', 'key "pk_forged"', 401, postBatch(envelope([goodEvent()], { key: 'pk_forged' }))),
    c("other site's key", `site ${SITE} with ${OTHER.id}'s key`, 401, postBatch(envelope([goodEvent()], { key: OTHER.key }))),
    c("other site's origin", `${OTHER.id}'s key from ${SITE}'s origin`, 403, postBatch(envelope([goodEvent()], { site: OTHER.id, key: OTHER.key }))),
    c('unknown site', 'site "nope"', 401, postBatch(envelope([goodEvent()], { site: 'nope' }))),
    c('no Origin', 'a valid batch without Origin', 403, () => request(events, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: json(envelope([goodEvent()])) })),
    c('timestamp far past', 'timestamp 1 (1970)', 400, withEvent({ ...goodEvent(), timestamp: 1 })),
    c('timestamp 31 days old', 'timestamp now - 31 days', 400, withEvent({ ...goodEvent(), timestamp: now - 31 * 24 * 3600_000 })),
    c('timestamp far future', 'timestamp now + 10 years, sentAt now', 400, withEvent({ ...goodEvent(), timestamp: now + 10 * year })),
    c('timestamp zero', 'timestamp 0', 400, withEvent({ ...goodEvent(), timestamp: 0 })),
    c('timestamp 1e21', 'timestamp 1e21', 400, withEvent({ ...goodEvent(), timestamp: 1e21 })),
    c('empty batch', 'events []', 400, postBatch(envelope([]))),
    c('too many events', `${MAX_BATCH_EVENTS + 1} events`, 400, postBatch(envelope(Array.from({ length: MAX_BATCH_EVENTS + 1 }, () => goodEvent())))),
    c('one bad event spoils the batch', 'a valid event and a rating of 9', 400, postBatch(envelope([goodEvent(), makeEvent('Product Reviewed', { product_id: 'p1', rating: 9 })]))),
    c('GET on POST /v1/events', 'GET /v1/events', 404, () => request(events)),
    c('PUT on POST /v1/events', 'PUT /v1/events with a valid batch', 404, () => request(events, { method: 'PUT', headers: { Origin: url }, body: json(envelope([goodEvent()])) })),
    c('GET on POST /v1/decide', 'GET /v1/decide?site=…&key=…', 404, () => request(`${url}/v1/decide?${auth}&anonymousId=a&placement=top`)),
    c('GET on POST /v1/identify', 'GET /v1/identify', 404, () => request(`${url}/v1/identify?${auth}`)),
    c('recommendations: no query', 'GET /v1/recommendations', 400, recs('')),
    c('recommendations: no key', `site=${SITE} only`, 400, recs(`site=${SITE}`)),
    c('recommendations: forged key', 'key=pk_forged', 401, recs(`site=${SITE}&key=pk_forged`)),
    c('recommendations: limit 0', 'limit=0', 400, recs(`${auth}&limit=0`)),
    c('recommendations: limit abc', 'limit=abc', 400, recs(`${auth}&limit=abc`)),
    c('recommendations: limit 51', 'limit=51', 400, recs(`${auth}&limit=51`)),
    c('recommendations: limit -1', 'limit=-1', 400, recs(`${auth}&limit=-1`)),
    c('recommendations: strategy', 'strategy=evil', 400, recs(`${auth}&strategy=evil`)),
    c('recommendations: rules not JSON', 'rules={oops', 400, recs(`${auth}&rules=${encodeURIComponent('{oops')}`)),
    c('recommendations: rules wrong type', 'rules={"minPrice":"cheap"}', 400, recs(`${auth}&rules=${encodeURIComponent('{"minPrice":"cheap"}')}`)),
    c('recommendations: huge cart', 'cart of 5,000 chars', 400, recs(`${auth}&strategy=cart&cart=${'p1,'.repeat(1_700)}`)),
    c('recommendations: huge anonymousId', 'anonymousId of 300 chars', 400, recs(`${auth}&anonymousId=${'a'.repeat(300)}`)),
    c('recommendations: bad percent-encoding', 'site=%E0%A4%A&key=% (kept undecoded)', 401, recs('site=%E0%A4%A&key=%')),
    c('recommendations: foreign Origin', `right key, Origin ${OTHER.origin}`, 403, recs(auth, { Origin: OTHER.origin })),
    c('decide: malformed JSON', "POST /v1/decide '{'", 400, decide('{')),
    c('decide: form content type', 'application/x-www-form-urlencoded', 415, decide(`site=${SITE}`, { 'Content-Type': 'application/x-www-form-urlencoded' })),
    c('decide: oversized body', '20 KB (limit 16 KB)', 413, decide({ ...decision, context: { referrer: 'x'.repeat(20_000) } })),
    c('decide: no placement', 'placement missing', 400, decide({ ...decision, placement: undefined })),
    c('decide: SQL injection in anonymousId', `anonymousId "' OR 1=1 --"`, 400, decide({ ...decision, anonymousId: "' OR 1=1 --" })),
    c('decide: wrong type', 'context.device "toaster"', 400, decide({ ...decision, context: { device: 'toaster' } })),
    c('decide: forged key', 'key "pk_forged"', 401, decide({ ...decision, key: 'pk_forged' })),
    c('decide: foreign Origin', `Origin ${OTHER.origin}`, 403, decide(decision, { Origin: OTHER.origin })),
    c('decide: bad query string', '?site=%E0&limit=abc with a body missing its key', 400, () =>
      request(`${url}/v1/decide?site=%E0&limit=abc`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: url }, body: json({ ...decision, key: undefined }) })),
  ]
}

/** Odd but valid requests: answered 2xx, stored once and intact. */
function oddButValid(worker: LocalWorker, replay: VistaEvent[]): Case[] {
  const url = worker.url
  const events = `${url}/v1/events`
  const postBody = (body: string) => () =>
    request(events, { method: 'POST', headers: { 'Content-Type': 'text/plain', Origin: url }, body })
  const storedProperties = async (id: string) =>
    JSON.parse((await worker.query<{ properties: string }>(`SELECT properties FROM events WHERE site_id = '${SITE}' AND id = '${id}'`))[0]?.properties ?? 'null') as Record<string, unknown> | null
  /** One new event whose stored properties must give back `expected` under `field`. */
  const roundTrip = (name: string, tried: string, field: string, value: string, expected = value, body?: (e: VistaEvent) => Buffer): Case => {
    const event = goodEvent({ [field]: value })
    const bytes = body?.(event) ?? Buffer.from(JSON.stringify(envelope([event])))
    return {
      name,
      tried,
      status: 200,
      accepts: 1,
      send: body ? () => raw(url, rawHead(url, bytes.length), bytes) : postBody(bytes.toString()),
      verify: async () => {
        const got = (await storedProperties(event.id))?.[field]
        return got === expected ? null : `stored ${JSON.stringify(got)}`
      },
    }
  }
  const protoEvent = goodEvent()
  const ctorEvent = goodEvent()
  const noType = goodEvent()
  const skewed = goodEvent()
  const ahead = Date.now() + 10 * 365 * 24 * 3600_000
  const withRawProperties = (e: VistaEvent, extra: string) =>
    JSON.stringify(envelope([e])).replace('"properties":{', `"properties":{${extra},`)
  return [
    {
      name: 'replay of an accepted batch',
      tried: `${replay.length} events already stored, posted again`,
      status: 200,
      accepts: 0,
      send: postBody(JSON.stringify(envelope(replay))),
    },
    roundTrip('unicode: emoji and CJK', 'name "🍵 Sencha – 抹茶 ✓"', 'name', '🍵 Sencha – 抹茶 ✓'),
    roundTrip('unicode: lone surrogate (JSON escape)', 'name "\\ud800x"', 'name', '\ud800x'),
    roundTrip('unicode: invalid UTF-8 bytes', 'name with bytes ED A0 80', 'name', 'PLACEHOLDER', '\ufffd\ufffd\ufffdx', (e) => {
      const [before, after] = JSON.stringify(envelope([e])).split('PLACEHOLDER')
      return Buffer.concat([Buffer.from(before!), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`x${after!}`)])
    }),
    roundTrip('SQL injection in a property', `name "'); DROP TABLE events; --"`, 'name', "'); DROP TABLE events; --"),
    {
      name: 'prototype pollution: __proto__ in properties',
      tried: 'properties {"__proto__":{"polluted":"yes"}, …}',
      status: 200,
      accepts: 1,
      send: postBody(withRawProperties(protoEvent, '"__proto__":{"polluted":"yes"}')),
      verify: async () => {
        const p = await storedProperties(protoEvent.id)
        return p && Object.getPrototypeOf(p) === Object.prototype && p.product_id === 'p1' ? null : `stored ${JSON.stringify(p)}`
      },
    },
    {
      name: 'prototype pollution: constructor.prototype in properties',
      tried: 'properties {"constructor":{"prototype":{"polluted":"yes"}}, …}',
      status: 200,
      accepts: 1,
      send: postBody(withRawProperties(ctorEvent, '"constructor":{"prototype":{"polluted":"yes"}}')),
      verify: async () => ((await storedProperties(ctorEvent.id))?.product_id === 'p1' ? null : 'not stored'),
    },
    {
      name: 'no Content-Type',
      tried: 'a valid batch without Content-Type (read as text/plain)',
      status: 200,
      accepts: 1,
      send: () => {
        const bytes = Buffer.from(JSON.stringify(envelope([noType])))
        return raw(url, rawHead(url, bytes.length, null), bytes)
      },
    },
    {
      name: 'device clock 10 years ahead',
      tried: 'timestamp and sentAt both now + 10 years',
      status: 200,
      accepts: 1,
      send: postBody(JSON.stringify(envelope([{ ...skewed, timestamp: ahead - 1000 }], { sentAt: ahead }))),
      verify: async () => {
        const [row] = await worker.query<{ ts: number }>(`SELECT ts FROM events WHERE site_id = '${SITE}' AND id = '${skewed.id}'`)
        return row && Math.abs(row.ts - Date.now()) < 10 * 60_000 ? null : `stored ts ${row?.ts}`
      },
    },
    {
      name: 'recommendations: SQL injection in anonymousId',
      tried: `anonymousId "' OR 1=1 --"`,
      status: 200,
      accepts: 0,
      send: () => request(`${url}/v1/recommendations?site=${SITE}&key=${KEY}&anonymousId=${encodeURIComponent("' OR 1=1 --")}`),
    },
    {
      name: 'recommendations: __proto__ in rules',
      tried: 'rules={"__proto__":{"inStock":false}}',
      status: 200,
      accepts: 0,
      send: () => request(`${url}/v1/recommendations?site=${SITE}&key=${KEY}&rules=${encodeURIComponent('{"__proto__":{"inStock":false}}')}`),
    },
  ]
}

/** Request head of a raw POST /v1/events: `length` null sends the body chunked, `type` null sends none. */
const rawHead = (url: string, length: number | null, type: string | null = 'text/plain') => [
  'POST /v1/events HTTP/1.1',
  `Host: ${new URL(url).host}`,
  `Origin: ${url}`,
  ...(type ? [`Content-Type: ${type}`] : []),
  length === null ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`,
  'Connection: close',
]

/** Runs the cases in order; prints each. */
async function tryCases(cases: Case[]): Promise<Tried[]> {
  const results: Tried[] = []
  for (const c of cases) {
    const answer = await c.send().catch((error: unknown): Answer => ({ status: 0, body: String(error) }))
    if (c.proxyMayAnswer && answer.status === 500 && PROXY_FAILURE.test(answer.body)) {
      results.push({ c, answer, problem: null, held: null })
      continue
    }
    const error = errorOf(answer)
    let problem: string | null = null
    if (answer.status !== c.status) problem = `expected ${c.status}`
    else if (c.accepts === undefined && !error) problem = 'no JSON error field'
    else if (c.accepts !== undefined && c.status === 200 && answer.body.includes('accepted')) {
      const got = (JSON.parse(answer.body) as IngestResult).accepted
      if (got !== c.accepts) problem = `accepted ${got}, expected ${c.accepts}`
    }
    problem ??= (await c.verify?.()) ?? null
    results.push({ c, answer, problem, held: problem === null })
  }
  return results
}

const verdict = (held: boolean | null) => (held === null ? 'n/a' : held ? 'yes' : 'no')

const shortAnswer = (a: Answer) => {
  const error = errorOf(a)
  const text = error ?? a.body.replace(/\s+/g, ' ')
  return `${a.status || 'no answer'} ${text.length > 60 ? `${text.slice(0, 57)}…` : text}`
}

async function badInput(worker: LocalWorker, replay: VistaEvent[]): Promise<void> {
  const before = await tableCounts(worker)
  const refused = await tryCases(refusals(worker.url))
  const after = await tableCounts(worker)
  const changed = Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t])
  const odd = await tryCases(oddButValid(worker, replay))
  const [total] = await worker.query<{ n: number; d: number }>(
    "SELECT COUNT(*) AS n, COUNT(DISTINCT site_id || ' ' || id) AS d FROM events",
  )
  const expected = odd.reduce((n, r) => n + (r.c.accepts ?? 0), 0)
  const added = (total?.n ?? 0) - (after.events ?? 0)

  console.log(
    formatTable(
      ['case', 'sent', 'expected', 'answer', 'held'],
      [...refused, ...odd].map(({ c, answer, problem, held }) => [c.name, c.tried, String(c.status), shortAnswer(answer), verdict(held) + (problem ? `: ${problem}` : '')]),
      'llrll',
    ),
  )
  for (const { c, answer, problem, held } of [...refused, ...odd]) {
    const why = held === null ? " (wrangler dev's proxy answered; the Worker's answer is not visible)" : problem ? ` (${problem})` : ''
    report({ name: `input: ${c.name}`, tried: c.tried, held, figure: shortAnswer(answer) + why })
  }
  report({
    name: `input: ${refused.length} refusals wrote nothing`,
    tried: 'row counts of every table, before and after',
    held: changed.length === 0,
    figure: changed.length === 0 ? `${Object.keys(before).length} tables unchanged` : `changed: ${changed.map((t) => `${t} ${before[t]}→${after[t]}`).join(', ')}`,
  })
  report({
    name: `input: ${odd.length} odd but valid requests stored once`,
    tried: 'events rows before and after, distinct ids',
    held: added === expected && total?.n === total?.d,
    figure: `+${added} rows for ${expected} new events; ${int(total?.n ?? 0)} rows, ${int(total?.d ?? 0)} distinct`,
  })
}

async function main() {
  const flags = parseFlags(process.argv.slice(2), { seconds: 60, rate: 1000, size: 100, inflight: 4 })
  if (flags.size > MAX_BATCH_EVENTS) throw new Error(`--size must be at most ${MAX_BATCH_EVENTS}`)
  console.log(machine())
  const started = performance.now()
  const worker = await startWorker({ prefix: 'vista-reliability-', vars: { RATE_LIMITS: 'off' }, seed })
  console.log(`wrangler dev on ${worker.url} (RATE_LIMITS=off), state in ${worker.persistTo}`)
  try {
    const section = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
      console.log(`\n## ${name}`)
      try {
        return await run()
      } catch (error) {
        report({ name, tried: 'the section', held: false, figure: `threw: ${error instanceof Error ? error.message : error}` })
        return undefined
      }
    }
    const kept = (await section('1. sustained load', () => sustainedLoad(worker, flags))) ?? []
    await section('2. concurrent replays', () => replays(worker, kept))
    await section('3. kill -9 mid-load', () => crash(worker))
    await section('4. bad input over HTTP', () => badInput(worker, kept[0] ?? []))
  } finally {
    await worker.stop()
  }
  console.log(`\n## summary (${((performance.now() - started) / 1000).toFixed(0)} s)`)
  console.log(formatTable(['case', 'tried', 'held', 'figure'], outcomes.map((o) => [o.name, o.tried, verdict(o.held), o.figure]), 'llll'))
  const broken = outcomes.filter((o) => o.held === false).length
  const unjudged = outcomes.filter((o) => o.held === null).length
  const judged = outcomes.length - unjudged
  const tail = unjudged > 0 ? ` (${unjudged} not judged on this stack)` : ''
  console.log(broken === 0 ? `\nall ${judged} promises held${tail}` : `\n${broken} of ${judged} promises broke${tail}`)
  if (broken > 0) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error)
  process.exitCode = 1
})
