// `npm run bench:ingest -- [--batches N] [--concurrency C] [--size S] [--rate R] [--seconds T]`: event
// ingestion of the real Worker under `wrangler dev` (local D1, KV and the Durable Object buffer):
// 1. the edge path (POST /v1/events answered once the buffer holds the batch) against an empty route;
// 2. the fold behind it: events/s into D1, and the lag from sending an event to its being folded
//    (stored history and item stats commit with it), open-loop at R events/s for T s;
// 3. exactly once after replays; 4. bytes of D1 per event, before (the schema of migration 0014) and
//    after (0015) on the same events, and what that means for how long one database lasts.
import { MAX_BATCH_EVENTS, type IngestResult, type VistaEvent } from '../../contract'
import { upsertItems, upsertSite } from '../../worker/admin/store'
import { hashKey } from '../../worker/http/site-auth'
import { startWorker, type LocalWorker } from '../e2e/server'
import { ARCHIVE_AFTER_MS, KEPT_IN_D1 } from '../../worker/events/archive'
import { migratedMemory, openLocalD1, tableBytes, watchFolds } from './local-d1'
import { SIM_SITES, seedSites, simulateSites } from './ingest/sites'
import { IDLE_BROWSER_DAYS } from '../../worker/retention/sweep'
import { shopSessions, storeShopDay } from './ingest/shop-day'
import { FLUSH_MAX_EVENTS } from '../../worker/events/tunables'
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
const KEY = 'pk_bench_ingest'
const ITEMS = 1_000
const CATEGORIES = 20
const SHOPPERS = 300
const WARMUP = 20
const REPLAYED = 50
const HELD = 'bench-held'
const BURST = 'bench-burst'
/** Shop sessions for the fold and its lag: a burst first, then the paced run; the SDK sends a session's 10 events as one batch. */
const FOLD_SESSIONS = 2000
const SESSION_EVENTS = 10

const seed = (persistTo: string) =>
  withLocalEnv(persistTo, async (env) => {
    const origins = ['http://127.0.0.1:*']
    await upsertSite(env.DB, { id: SITE, name: 'bench', keyHash: await hashKey(KEY), origins })
    // Sites marked as moving: their buffers hold every event, so the edge path is measured without a
    // fold, and the fold (once BURST is released) without the edge.
    for (const id of [HELD, BURST]) {
      await upsertSite(env.DB, { id, name: id, keyHash: await hashKey(KEY), origins })
      await env.DB.prepare("UPDATE sites SET moving_to = 'SHARD_1' WHERE id = ?").bind(id).run()
    }
    await upsertItems(env.DB, SITE, benchCatalog(ITEMS, CATEGORIES))
    await seedSites(env)
  })

/** `count` batches of `size` events, each from one shopper's outbox, as the SDK flushes them. */
function makeBatches(count: number, size: number): VistaEvent[][] {
  const rand = random(size)
  const item = zipf(ITEMS, 1, rand)
  return Array.from({ length: count }, (_, b) => {
    const anonymousId = `s${Math.floor(rand() * SHOPPERS)}`
    const who = { anonymousId, sessionId: `${anonymousId}-1` }
    return Array.from({ length: size }, (_, e) => {
      const rank = item()
      const { id: product_id, category } = benchItem(rank, CATEGORIES)
      const product = { product_id, category, price: 10 }
      const r = rand()
      if (r < 0.7) return makeEvent('Product Viewed', product, who)
      if (r < 0.9) return makeEvent('Product Added', { ...product, quantity: 1 }, who)
      const order = { order_id: `o${b}-${e}`, revenue: 10 }
      return makeEvent('Order Completed', { ...order, products: [{ ...product, quantity: 1 }] }, who)
    })
  })
}

/** Posts one batch as the SDK does (text/plain, from an allowed origin). */
async function post(worker: LocalWorker, events: VistaEvent[], site = SITE): Promise<IngestResult> {
  const body = JSON.stringify({ site, key: KEY, sentAt: Date.now(), events })
  const answer = await fetchOk(`${worker.url}/v1/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: worker.url },
    body,
  })
  return JSON.parse(answer) as IngestResult
}

/** Posts the batches, `concurrency` at a time, and sums the answers. */
async function postAll(worker: LocalWorker, batches: VistaEvent[][], concurrency: number, site = SITE) {
  let accepted = 0
  let duplicates = 0
  const run = await load(batches.length, concurrency, async (i) => {
    const answer = await post(worker, batches[i]!, site)
    accepted += answer.accepted
    duplicates += answer.duplicates
  })
  return { ...run, accepted, duplicates }
}

/** Waits until `done()` holds, polling every `everyMs`; answers the seconds it took, or NaN at the deadline. */
async function until(done: () => boolean, deadlineMs = 120_000, everyMs = 20): Promise<number> {
  const start = performance.now()
  while (!done()) {
    if (performance.now() - start > deadlineMs) return Number.NaN
    await new Promise((r) => setTimeout(r, everyMs))
  }
  return (performance.now() - start) / 1000
}

/** D1's cap per database, and the shop the capacity goal is sized for. */
const D1_MAX_BYTES = 10 * 1000 ** 3
const SHOP_EVENTS_PER_DAY = 500_000
/** Sessions of 10 events stored for the byte counts. */
const SHOP_SESSIONS = 5_000

const HEADER = ['route', 'requests', 'events', 'p50 ms', 'p99 ms', 'max ms', 'req/s', 'events/s']
const row = (name: string, r: LoadResult, events: number, shown = String(events)) => [
  name,
  String(r.requests),
  shown,
  ms(percentile(r.latencies, 50)),
  ms(percentile(r.latencies, 99)),
  ms(r.latencies.at(-1) ?? NaN),
  (r.requests / r.seconds).toFixed(0),
  (events / r.seconds).toFixed(0),
]

/** The same events as rows of the schema before migration 0015 (context and device clock on every event). */
function oldRows(events: VistaEvent[][], receivedAt: number) {
  return events.flat().map((e) => {
    const props = e.properties as { product_id?: string }
    return [SITE, e.id, e.type, e.anonymousId, e.userId ?? null, e.sessionId, e.timestamp, e.timestamp, receivedAt]
      .concat([typeof props.product_id === 'string' ? props.product_id : null, e.context.page.path])
      .concat([JSON.stringify(e.context), JSON.stringify(e.properties), 1])
  })
}

/** Bytes per event of the events table (indexes included) and what goes with it, before and after migration 0015. */
async function bytesBeforeAfter(events: VistaEvent[][]) {
  const db = await migratedMemory('0015')
  const insert = db.prepare(`INSERT INTO events VALUES (${Array(14).fill('?').join(', ')})`)
  db.exec('BEGIN')
  for (const r of oldRows(events, Date.now())) insert.run(...(r as Array<string | number | null>))
  db.exec('COMMIT')
  const raw = ['events', 'sessions', 'visitor_days']
  const sum = () =>
    tableBytes(db)
      .filter((t) => raw.includes(t.table))
      .reduce((n, t) => n + t.bytes, 0)
  const before = sum()
  const { readFile } = await import('node:fs/promises')
  for (const file of ['0015_lean_events.sql', '0016_archive.sql']) {
    db.exec(await readFile(`worker/migrations/${file}`, 'utf8'))
  }
  db.exec('VACUUM')
  const after = sum()
  // What stays once the archive has taken the rest: the same test as its partial index.
  db.prepare(`DELETE FROM events WHERE type NOT IN (SELECT value FROM json_each(?))`).run(JSON.stringify(KEPT_IN_D1))
  db.exec('VACUUM')
  const kept = sum()
  db.close()
  return { before, after, kept }
}

/** 4. A shop's day stored, archived and retained: bytes and rows written per event, and how long a shard lasts. */
async function bytesPerEvent(): Promise<boolean> {
  console.log(`\n## 4. Bytes of D1 per event: ${SHOP_SESSIONS.toLocaleString('en')} sessions of a shop's day`)
  const sessions = shopSessions(SHOP_SESSIONS, Date.now() - 5 * 86_400_000)
  const day = await storeShopDay(sessions)
  const n = day.events
  const bytes = (tables: Array<{ table: string; bytes: number }>, name: string) =>
    tables.find((t) => t.table === name)?.bytes ?? 0
  const names = [...new Set([...day.stored, ...day.kept].map((t) => t.table))].filter(
    (t) => bytes(day.stored, t) + bytes(day.kept, t) > 8192,
  )
  console.log(
    formatTable(
      ['table (indexes included)', 'stored B/event', 'after the archive', `after ${IDLE_BROWSER_DAYS} days`],
      names.map((t) => [t, ...[day.stored, day.kept, day.lasting].map((tables) => (bytes(tables, t) / n).toFixed(1))]),
    ),
  )
  const sum = (tables: Array<{ table: string; bytes: number }>, only?: string[]) =>
    tables.filter((t) => !only || only.includes(t.table)).reduce((total, t) => total + t.bytes, 0)
  const { before, after } = await bytesBeforeAfter(sessions)
  console.log(
    `events, sessions and shopper-days of the same ${n} events: before 0015 ${(before / n).toFixed(0)} B/event, ` +
      `after ${(after / n).toFixed(0)} B/event (${((100 * after) / before - 100).toFixed(0)}%); the archive took ` +
      `${day.archived} of them (${((100 * day.archived) / n).toFixed(0)}%) to R2`,
  )
  console.log(`D1 rows written per event (indexes included, as D1 bills them): ${(day.rowsWritten / n).toFixed(1)}`)
  // Bounded by the catalog, not by traffic: the pairs and item stats of ITEMS items.
  const catalogBound = ['item_pairs', 'item_stats', 'items']
  const fixed = sum(day.kept, catalogBound)
  const hotDays = ARCHIVE_AFTER_MS / 86_400_000
  const perEvent = (tables: Array<{ table: string; bytes: number }>) => (sum(tables) - sum(tables, catalogBound)) / n
  const hot = hotDays * SHOP_EVENTS_PER_DAY * perEvent(day.stored)
  const daily = (tables: Array<{ table: string; bytes: number }>) => SHOP_EVENTS_PER_DAY * perEvent(tables)
  // Forgotten after IDLE_BROWSER_DAYS: an upper bound, as if no browser ever came back (a return
  // updates its rows rather than adding new ones).
  const forgotten = daily(day.kept) - daily(day.lasting)
  const room = D1_MAX_BYTES - hot - fixed
  const daysFull = (room - IDLE_BROWSER_DAYS * forgotten) / daily(day.lasting)
  const daysKeepingAll = room / daily(day.kept)
  const daysBefore = (D1_MAX_BYTES - fixed) / (SHOP_EVENTS_PER_DAY * (perEvent(day.stored) + (before - after) / n))
  console.log(
    `the ${SHOP_EVENTS_PER_DAY.toLocaleString('en')}-events-a-day shop: ${(daily(day.kept) / 1e6).toFixed(1)} MB a day ` +
      `stays in D1 (${perEvent(day.kept).toFixed(0)} B/event), ${(daily(day.lasting) / 1e6).toFixed(1)} MB of it ` +
      `(${perEvent(day.lasting).toFixed(0)} B/event) past ${IDLE_BROWSER_DAYS} days, plus ${hotDays} days of raw ` +
      `events (${(hot / 1e9).toFixed(2)} GB) and a catalog-bound model (${(fixed / 1e6).toFixed(0)} MB): one 10 GB ` +
      `shard lasts ${daysFull.toFixed(0)} days (${daysKeepingAll.toFixed(0)} if no browser were forgotten, ` +
      `${daysBefore.toFixed(0)} before 0015 and the archive)`,
  )
  const pass = daysFull >= 400
  console.log(`${pass ? '✓' : '✗'} a shard lasts ≥ 400 days for the 500,000-events-a-day shop`)
  return pass
}

async function main() {
  const flags = parseFlags(process.argv.slice(2), { batches: 1000, concurrency: 4, size: 20, rate: 1000, seconds: 60 })
  const { batches, concurrency, size, rate, seconds } = flags
  if (size > MAX_BATCH_EVENTS) throw new Error(`--size must be at most ${MAX_BATCH_EVENTS}`)
  console.log(machine())
  const paced = Math.round((rate * seconds) / SESSION_EVENTS)
  console.log(
    `wrangler dev on 127.0.0.1, ${ITEMS} items. Edge: ${batches} batches of ${size} events at concurrency ` +
      `${concurrency} from ${SHOPPERS} shoppers. Fold: ${FOLD_SESSIONS} shop sessions of ${SESSION_EVENTS} events ` +
      `at once, then ${rate} events/s for ${seconds} s (${paced} sessions, open loop)`,
  )
  const edgeBatches = makeBatches(WARMUP + batches, size)
  const burst = shopSessions(FOLD_SESSIONS, null)
  const lagged = shopSessions(paced, null, FOLD_SESSIONS)
  let ok = true
  const check = (pass: boolean, message: string) => {
    console.log(`${pass ? '✓' : '✗'} ${message}`)
    ok &&= pass
  }
  // Many shoppers from one loopback address: the per-client limit would measure itself.
  const worker = await startWorker({ prefix: 'vista-ingest-', seed, vars: { RATE_LIMITS: 'off' } })
  const d1 = await openLocalD1(worker.persistTo, SITE)
  const count = (where: string) =>
    (d1.prepare(`SELECT COUNT(*) AS n FROM events WHERE site_id = ? AND ${where}`).get(SITE) as { n: number }).n
  try {
    // 1. The edge path alone: the held site's buffer keeps what it gets (it is "moving"), so no fold runs
    // on this machine meanwhile, as in production, where D1 folds on its own machine.
    const health = () => fetchOk(`${worker.url}/v1/health`).then(() => {})
    await load(WARMUP, concurrency, health)
    const floor = await load(batches, concurrency, health)
    // The same bodies to a route that answers without reading them (404): what carrying 10 KB costs.
    const carry = (i: number) =>
      fetch(`${worker.url}/v1/health`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: worker.url },
        body: JSON.stringify({ site: HELD, key: KEY, sentAt: Date.now(), events: edgeBatches[WARMUP + i] }),
      }).then((r) => r.text().then(() => {}))
    await load(WARMUP, concurrency, carry)
    const carried = await load(batches, concurrency, carry)
    const warm = await postAll(worker, edgeBatches.slice(0, WARMUP), concurrency, HELD)
    const run = await postAll(worker, edgeBatches.slice(WARMUP), concurrency, HELD)
    console.log('\n## 1. The edge path (POST /v1/events answered once the buffer holds the batch)')
    console.log(
      formatTable(HEADER, [
        row('POST /v1/events', run, run.accepted),
        row('GET /v1/health (floor)', floor, batches * size, ''),
        row('POST of the same bodies, 404 (carrying them)', carried, batches * size, ''),
      ]),
    )
    const ratio = run.requests / run.seconds / (floor.requests / floor.seconds)
    const p50 = percentile(run.latencies, 50) / percentile(floor.latencies, 50)
    console.log(
      `a ${size}-event batch costs ${(1 / ratio).toFixed(2)} empty requests (throughput ratio ${ratio.toFixed(2)}); ` +
        `p50 ${p50.toFixed(2)}x the floor's`,
    )
    console.log(
      `carrying a batch's body alone costs ${(floor.requests / floor.seconds / (carried.requests / carried.seconds)).toFixed(2)} empty requests`,
    )
    for (const r of [floor, warm, run]) {
      if (r.failures > 0) check(false, `${r.failures} requests failed, first: ${r.firstFailure}`)
    }
    check(warm.accepted + run.accepted === edgeBatches.length * size, `accepted every event sent`)
    check((batches * size) / run.seconds >= 5000, `edge ≥ 5,000 events/s`)
    check(ratio >= 0.6, `a batch costs at most 1.7 empty requests`)
    check(p50 <= 2, `edge p50 within 2x the empty route's`)

    // 2. The fold alone: a burst of shop sessions held in the buffer of a "moving" site, then released;
    // the rate is how fast the buffer then folds the backlog into the shard, nothing else running.
    console.log('\n## 2. The fold behind it')
    const sent = await postAll(worker, burst, concurrency, BURST)
    const burstEvents = FOLD_SESSIONS * SESSION_EVENTS
    const burstCount = (where = 'true') =>
      (d1.prepare(`SELECT COUNT(*) AS n FROM events WHERE site_id = ? AND ${where}`).get(BURST) as { n: number }).n
    d1.prepare('UPDATE sites SET moving_to = NULL WHERE id = ?').run(BURST)
    // The buffer sees the release once the site's KV entry (60 s) expires, and looks every 5 s.
    await until(() => burstCount() > 0, 120_000, 5)
    const foldStart = performance.now()
    await until(() => burstCount('indexed = 1') === burstEvents, 300_000, 5)
    const foldSeconds = (performance.now() - foldStart) / 1000
    console.log(
      `${burstEvents} events of ${FOLD_SESSIONS} shop sessions, held then released: folded in ` +
        `${foldSeconds.toFixed(1)} s, ${(burstEvents / foldSeconds).toFixed(0)} events/s per shard ` +
        `(${FLUSH_MAX_EVENTS} a transaction, nothing else running)`,
    )
    check(sent.failures === 0 && sent.accepted === burstEvents, `accepted ${sent.accepted} of ${burstEvents}`)
    check(burstCount() === burstEvents, `D1 holds exactly the ${burstEvents} events sent`)

    // Lag, open loop: a session's events are folded together; its lag runs from its send to the fold.
    const lags: number[] = []
    const folds = watchFolds<null>(d1, (_, lag) => lags.push(lag))
    const pacedRun = await pace(paced, rate / SESSION_EVENTS, 64, async (i) => {
      const events = lagged[i]!
      folds.watch(events.at(-1)!.id, null)
      await post(worker, events)
    })
    await folds.stop()
    lags.sort((a, b) => a - b)
    const achieved = (pacedRun.requests * SESSION_EVENTS) / pacedRun.seconds
    console.log(
      `lag at ${rate} events/s for ${seconds} s (${pacedRun.requests} sessions, ${achieved.toFixed(0)} events/s ` +
        `achieved, the schedule slipped at most ${ms(pacedRun.behindMs)} ms; edge p50 from the schedule ` +
        `${ms(percentile(pacedRun.latencies, 50))} ms, p99 ${ms(percentile(pacedRun.latencies, 99))} ms): ` +
        `sent → folded p50 ${ms(percentile(lags, 50))} ms, p99 ${ms(percentile(lags, 99))} ms, max ${ms(lags.at(-1) ?? NaN)} ms`,
    )
    check(pacedRun.failures === 0, `${pacedRun.failures} paced requests failed`)
    check(pacedRun.behindMs < 1000, `the rate was held (schedule slipped ${ms(pacedRun.behindMs)} ms)`)
    check(lags.length === pacedRun.requests, `${lags.length} of ${pacedRun.requests} paced sessions seen folded`)
    check(percentile(lags, 99) <= 5000, `lag p99 ${ms(percentile(lags, 99))} ms ≤ 5,000 ms`)

    // 3. Exactly once: a retried batch is acknowledged but nothing new is stored.
    const total = pacedRun.requests * SESSION_EVENTS
    const step = Math.max(1, Math.floor(burst.length / REPLAYED))
    const replays = burst.filter((_, i) => i % step === 0).slice(0, REPLAYED)
    const again = await postAll(worker, replays, concurrency, BURST)
    const replayed = replays.length * SESSION_EVENTS
    console.log('\n## 3. Exactly once')
    check(
      again.failures === 0 && again.accepted === 0 && again.duplicates === replayed,
      `replayed ${replays.length} batches: accepted ${again.accepted}, duplicates ${again.duplicates} of ${replayed}`,
    )
    await new Promise((r) => setTimeout(r, 2000))
    check(count('true') === total, `D1 holds ${count('true')} events of the paced run, ${total} sent`)
    check(
      burstCount() === burstEvents,
      `D1 holds ${burstCount()} events of the burst after the replay, ${burstEvents} sent`,
    )

    // 5 runs before 4 so the byte counts cover every event sent.
    console.log(`\n## 5. ${SIM_SITES} sites of Zipf sizes, ${rate} events/s in all for ${seconds / 2} s each phase`)
    const sim = await simulateSites(worker, d1, rate, seconds / 2)
    check(sim.failures === 0, `${sim.failures} of ${sim.requests} simulation requests failed`)
    check(sim.lost === 0, `${sim.lost} sites lost or duplicated events`)
    check(sim.worstP99 <= 5000, `every site's lag p99 ≤ 5,000 ms (worst ${ms(sim.worstP99)} ms)`)
  } finally {
    d1.close()
    await worker.stop()
  }
  const lasts = await bytesPerEvent()
  ok &&= lasts
  if (!ok) process.exitCode = 1
}
main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
