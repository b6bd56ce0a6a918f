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
import { rm } from 'node:fs/promises'
import { migratedState, startWorker, type LocalWorker } from '../e2e/server'
import { readBatch } from '../../worker/events/ingest'
import { storeEvents } from '../../worker/events/store'
import { FLUSH_MAX_EVENTS } from '../../worker/events/tunables'
import { ARCHIVE_AFTER_MS, KEPT_IN_D1 } from '../../worker/events/archive'
import { migratedMemory, openLocalD1, tableBytes } from './local-d1'
import { SIM_SITES, seedSites, simulateSites } from './ingest/sites'
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

const seed = (persistTo: string) =>
  withLocalEnv(persistTo, async (env) => {
    const origins = ['http://127.0.0.1:*']
    await upsertSite(env.DB, { id: SITE, name: 'bench', keyHash: await hashKey(KEY), origins })
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
async function post(worker: LocalWorker, events: VistaEvent[]): Promise<IngestResult> {
  const body = JSON.stringify({ site: SITE, key: KEY, sentAt: Date.now(), events })
  const answer = await fetchOk(`${worker.url}/v1/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: worker.url },
    body,
  })
  return JSON.parse(answer) as IngestResult
}

/** Posts the batches, `concurrency` at a time, and sums the answers. */
async function postAll(worker: LocalWorker, batches: VistaEvent[][], concurrency: number) {
  let accepted = 0
  let duplicates = 0
  const run = await load(batches.length, concurrency, async (i) => {
    const answer = await post(worker, batches[i]!)
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

/**
 * Rows D1 writes per event (what it bills, indexes included), through the production storeEvents on
 * a fresh local state, `perFlush` events a transaction as the buffer folds them.
 */
async function rowsWrittenPerEvent(batches: VistaEvent[][], perFlush: number) {
  const persistTo = await migratedState('vista-ingest-rows-')
  try {
    await seed(persistTo)
    return await withLocalEnv(persistTo, async (env) => {
      const rows = batches.flatMap((events) => {
        const parsed = readBatch({ site: SITE, key: KEY, sentAt: Date.now(), events }, Date.now())
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
        return parsed.value.rows
      })
      let written = 0
      for (let i = 0; i < rows.length; i += perFlush) {
        written += (await storeEvents(env.DB, SITE, rows.slice(i, i + perFlush))).rowsWritten
      }
      return written / rows.length
    })
  } finally {
    await rm(persistTo, { recursive: true, force: true })
  }
}

async function main() {
  const flags = parseFlags(process.argv.slice(2), { batches: 1000, concurrency: 4, size: 20, rate: 1000, seconds: 60 })
  const { batches, concurrency, size, rate, seconds } = flags
  if (size > MAX_BATCH_EVENTS) throw new Error(`--size must be at most ${MAX_BATCH_EVENTS}`)
  console.log(machine())
  const paced = Math.round((rate * seconds) / size)
  console.log(
    `wrangler dev on 127.0.0.1; ${batches} batches of ${size} events at concurrency ${concurrency} from ` +
      `${SHOPPERS} shoppers, after ${WARMUP} warm-up batches; then ${rate} events/s for ${seconds} s ` +
      `(${paced} batches, open loop); ${ITEMS} items`,
  )
  const all = makeBatches(WARMUP + batches + paced, size)
  const timed = all.slice(WARMUP, WARMUP + batches)
  const lagged = all.slice(WARMUP + batches)
  let ok = true
  const check = (pass: boolean, message: string) => {
    console.log(`${pass ? '✓' : '✗'} ${message}`)
    ok &&= pass
  }
  // Many shoppers from one loopback address: the per-client limit would measure itself.
  const worker = await startWorker({ prefix: 'vista-ingest-', seed, vars: { RATE_LIMITS: 'off' } })
  const d1 = await openLocalD1(worker.persistTo, SITE)
  const folded = () => (d1.prepare('SELECT COUNT(*) AS n FROM events WHERE indexed = 1').get() as { n: number }).n
  // All sites' events (the simulation's sites too).
  const stored = () => (d1.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n
  try {
    // 1. The edge path, closed loop at `concurrency`, against the empty route.
    const health = () => fetchOk(`${worker.url}/v1/health`).then(() => {})
    await load(WARMUP, concurrency, health)
    const floor = await load(batches, concurrency, health)
    const warm = await postAll(worker, all.slice(0, WARMUP), concurrency)
    await until(() => folded() === WARMUP * size)
    const started = performance.now()
    const run = await postAll(worker, timed, concurrency)
    const edgeDone = performance.now()
    const target = (WARMUP + batches) * size
    const drained = await until(() => folded() === target)
    const foldSeconds = (performance.now() - started) / 1000
    console.log('\n## 1. The edge path')
    console.log(
      formatTable(HEADER, [
        row('POST /v1/events', run, run.accepted),
        row('GET /v1/health (floor)', floor, batches * size, ''),
      ]),
    )
    const ratio = run.requests / run.seconds / (floor.requests / floor.seconds)
    const p50 = percentile(run.latencies, 50) / percentile(floor.latencies, 50)
    console.log(
      `a ${size}-event batch costs ${(1 / ratio).toFixed(2)} empty requests (throughput ratio ${ratio.toFixed(2)}); ` +
        `p50 ${p50.toFixed(2)}x the floor's`,
    )
    console.log('\n## 2. The fold behind it')
    console.log(
      `${batches * size} events folded into D1 in ${foldSeconds.toFixed(1)} s from the first batch ` +
        `(${((batches * size) / foldSeconds).toFixed(0)} events/s per shard); the backlog was gone ` +
        `${drained.toFixed(1)} s after the last answer (${((performance.now() - edgeDone) / 1000).toFixed(1)} s)`,
    )
    for (const r of [floor, warm, run]) {
      if (r.failures > 0) check(false, `${r.failures} requests failed, first: ${r.firstFailure}`)
    }
    check(warm.accepted + run.accepted === target, `accepted ${warm.accepted + run.accepted} of ${target} events sent`)
    check(stored() === target, `D1 holds exactly the ${target} events sent`)

    // Lag, open loop: each batch's events are folded together; a batch's lag is from its send to the fold.
    const sentAt = new Map<string, number>()
    const lags: number[] = []
    const seen = d1.prepare('SELECT id FROM events WHERE indexed = 1 AND id IN (SELECT value FROM json_each(?))')
    let polling = true
    const poller = (async () => {
      while (polling || sentAt.size > 0) {
        if (sentAt.size > 0) {
          const now = performance.now()
          for (const { id } of seen.all(JSON.stringify([...sentAt.keys()])) as Array<{ id: string }>) {
            lags.push(now - sentAt.get(id)!)
            sentAt.delete(id)
          }
        }
        await new Promise((r) => setTimeout(r, 20))
        if (!polling && lags.length >= paced) break
      }
    })()
    const pacedRun = await pace(paced, rate / size, 64, async (i) => {
      const events = lagged[i]!
      sentAt.set(events.at(-1)!.id, performance.now())
      await post(worker, events)
    })
    polling = false
    await Promise.race([poller, until(() => sentAt.size === 0, 60_000)])
    lags.sort((a, b) => a - b)
    console.log(
      `lag at ${rate} events/s for ${seconds} s (${pacedRun.requests} batches; edge p50 ` +
        `${ms(percentile(pacedRun.latencies, 50))} ms, p99 ${ms(percentile(pacedRun.latencies, 99))} ms, ` +
        `schedule slipped at most ${ms(pacedRun.behindMs)} ms): sent → folded p50 ${ms(percentile(lags, 50))} ms, ` +
        `p99 ${ms(percentile(lags, 99))} ms, max ${ms(lags.at(-1) ?? NaN)} ms`,
    )
    check(pacedRun.failures === 0, `${pacedRun.failures} paced requests failed`)
    check(lags.length === pacedRun.requests, `${lags.length} of ${pacedRun.requests} paced batches seen folded`)
    check(percentile(lags, 99) <= 5000, `lag p99 ${ms(percentile(lags, 99))} ms ≤ 5,000 ms`)

    // 3. Exactly once: a retried batch is acknowledged but nothing new is stored.
    const sent = (WARMUP + batches + pacedRun.requests) * size
    const step = Math.max(1, Math.floor(timed.length / REPLAYED))
    const replays = timed.filter((_, i) => i % step === 0).slice(0, REPLAYED)
    const again = await postAll(worker, replays, concurrency)
    const replayed = replays.length * size
    console.log('\n## 3. Exactly once')
    check(
      again.failures === 0 && again.accepted === 0 && again.duplicates === replayed,
      `replayed ${replays.length} batches: accepted ${again.accepted}, duplicates ${again.duplicates} of ${replayed}`,
    )
    await new Promise((r) => setTimeout(r, 2000))
    const benchStored = () =>
      (d1.prepare('SELECT COUNT(*) AS n FROM events WHERE site_id = ?').get(SITE) as { n: number }).n
    check(benchStored() === sent, `D1 holds ${benchStored()} events after the replay, ${sent} sent`)

    // 5 runs before 4 so the byte counts cover every event sent.
    console.log(`\n## 5. ${SIM_SITES} sites of Zipf sizes, ${rate} events/s in all for ${seconds / 2} s each phase`)
    const sim = await simulateSites(worker, d1, rate, seconds / 2)
    check(sim.failures === 0, `${sim.failures} of ${sim.requests} simulation requests failed`)
    check(sim.lost === 0, `${sim.lost} sites lost or duplicated events`)
    check(sim.worstP99 <= 5000, `every site's lag p99 ≤ 5,000 ms (worst ${ms(sim.worstP99)} ms)`)

    // 4. Bytes per event.
    console.log('\n## 4. Bytes of D1 per event')
    const events = stored()
    const tables = tableBytes(d1)
    const bytesOf = (names: string[]) => tables.filter((t) => names.includes(t.table)).reduce((n, t) => n + t.bytes, 0)
    console.log(
      formatTable(
        ['table (indexes included)', 'bytes', `bytes/event (${events} events)`],
        tables.map((t) => [t.table, String(t.bytes), (t.bytes / events).toFixed(1)]),
      ),
    )
    const sample = all.slice(0, WARMUP + batches + pacedRun.requests)
    const sampled = sample.length * size
    const { before, after, kept } = await bytesBeforeAfter(sample)
    console.log(
      `events, sessions and shopper-days of the same ${sampled} events: before 0015 ` +
        `${(before / sampled).toFixed(0)} B/event, after ${(after / sampled).toFixed(0)} B/event ` +
        `(${((100 * after) / before - 100).toFixed(0)}%), after the archive took what it takes ` +
        `${(kept / sampled).toFixed(0)} B/event`,
    )
    // Growing with events: kept rows, sessions, days and each shopper's items; bounded by the catalog: pairs, stats.
    const perShopper = bytesOf(['visitor_items', 'visitors']) / events
    const catalogBound = bytesOf(['item_pairs', 'item_stats', 'items'])
    const hotDays = ARCHIVE_AFTER_MS / 86_400_000
    const hot = hotDays * SHOP_EVENTS_PER_DAY * (after / sampled + perShopper)
    const growth = SHOP_EVENTS_PER_DAY * (kept / sampled + perShopper)
    const daysFull = (D1_MAX_BYTES - hot - catalogBound) / growth
    const daysBefore = D1_MAX_BYTES / (SHOP_EVENTS_PER_DAY * (before / sampled + perShopper))
    console.log(
      `the ${SHOP_EVENTS_PER_DAY.toLocaleString('en')}-events-a-day shop: ${(growth / 1e6).toFixed(1)} MB a day ` +
        `stays in D1 (${hotDays} days of raw events: ${(hot / 1e9).toFixed(2)} GB; catalog-bound model: ` +
        `${(catalogBound / 1e6).toFixed(0)} MB), so one 10 GB shard lasts ${daysFull.toFixed(0)} days ` +
        `(before 0015 and the archive: ${daysBefore.toFixed(0)})`,
    )
    check(daysFull >= 400, `a shard lasts ≥ 400 days for the 500,000-events-a-day shop (${daysFull.toFixed(0)})`)
  } finally {
    d1.close()
    await worker.stop()
  }
  const perEvent = await rowsWrittenPerEvent(all.slice(0, WARMUP + batches), FLUSH_MAX_EVENTS)
  console.log(`D1 rows written per event (indexes included, as D1 bills them): ${perEvent.toFixed(1)}`)
  if (!ok) process.exitCode = 1
}
main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
