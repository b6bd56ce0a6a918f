// `npm run bench:ingest -- [--batches N] [--concurrency C] [--size S]`: event ingestion throughput
// of the real Worker under `wrangler dev` (local D1/KV), against the floor of an empty route, then
// checks that D1 holds every event exactly once, also after the batches are sent again.
import { getPlatformProxy } from 'wrangler'
import { MAX_BATCH_EVENTS, type IngestResult, type VistaEvent } from '../../sdk/schema'
import { upsertItems, upsertSite } from '../../worker/db'
import type { Bindings } from '../../worker/env'
import { hashKey } from '../../worker/sites'
import { startWorker, type LocalWorker } from '../e2e/server'
import { makeEvent } from '../fixtures/events'
import { fetchOk, formatTable, load, machine, ms, parseFlags, percentile, random, zipf } from './load'

const SITE = 'bench'
const KEY = 'pk_bench_ingest'
const ITEMS = 1_000
const CATEGORIES = 20
const SHOPPERS = 300
const WARMUP = 20
const REPLAYED = 50

async function seed(persistTo: string): Promise<void> {
  const { env, dispose } = await getPlatformProxy<Bindings>({
    configPath: 'wrangler.toml',
    persist: { path: `${persistTo}/v3` },
    remoteBindings: false,
  })
  try {
    const origins = ['http://127.0.0.1:*']
    await upsertSite(env.DB, { id: SITE, name: 'bench', keyHash: await hashKey(KEY), origins })
    const items = Array.from({ length: ITEMS }, (_, i) => ({
      id: `p${i}`,
      title: `Product ${i}`,
      category: `c${i % CATEGORIES}`,
      price: 5 + ((i * 37) % 200),
      image: null,
      description: null,
      in_stock: 1,
    }))
    await upsertItems(env.DB, SITE, items)
  } finally {
    await dispose()
  }
}

/** `count` batches of `size` events, each from one shopper's outbox, as the SDK flushes them. */
function makeBatches(count: number, size: number): VistaEvent[][] {
  const rand = random(size)
  const item = zipf(ITEMS, 1, rand)
  return Array.from({ length: count }, (_, b) => {
    const anonymousId = `s${Math.floor(rand() * SHOPPERS)}`
    const who = { anonymousId, sessionId: `${anonymousId}-1` }
    return Array.from({ length: size }, (_, e) => {
      const rank = item()
      const product = { product_id: `p${rank}`, category: `c${rank % CATEGORIES}`, price: 10 }
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

const countEvents = async (worker: LocalWorker) =>
  (await worker.query<{ n: number }>('SELECT COUNT(*) AS n FROM events'))[0]?.n ?? 0

async function main() {
  const flags = parseFlags(process.argv.slice(2), { batches: 500, concurrency: 4, size: 20 })
  const { batches, concurrency, size } = flags
  if (size > MAX_BATCH_EVENTS) throw new Error(`--size must be at most ${MAX_BATCH_EVENTS}`)
  console.log(machine())
  console.log(
    `wrangler dev on 127.0.0.1; ${batches} batches of ${size} events at concurrency ${concurrency} ` +
      `from ${SHOPPERS} shoppers (after ${WARMUP} warm-up batches); ${ITEMS} items`,
  )
  const all = makeBatches(WARMUP + batches, size)
  const timed = all.slice(WARMUP)
  const worker = await startWorker({ prefix: 'vista-ingest-', seed })
  const failures: string[] = []
  const check = (ok: boolean, message: string) => {
    console.log(`${ok ? '✓' : '✗'} ${message}`)
    if (!ok) failures.push(message)
  }
  try {
    const health = () => fetchOk(`${worker.url}/v1/health`).then(() => {})
    await load(WARMUP, concurrency, health)
    const floor = await load(batches, concurrency, health)

    let accepted = 0
    let duplicates = 0
    for (const events of all.slice(0, WARMUP)) accepted += (await post(worker, events)).accepted
    const run = await load(batches, concurrency, async (i) => {
      const answer = await post(worker, timed[i]!)
      accepted += answer.accepted
      duplicates += answer.duplicates
    })
    const sent = all.length * size
    const timedAccepted = accepted - WARMUP * size

    const header = ['route', 'requests', 'events', 'p50 ms', 'p99 ms', 'max ms', 'req/s', 'events/s']
    const row = (name: string, r: typeof run, events: string, eventsPerSecond: number) => [
      name,
      String(r.requests),
      events,
      ms(percentile(r.latencies, 50)),
      ms(percentile(r.latencies, 99)),
      ms(r.latencies.at(-1) ?? NaN),
      (r.requests / r.seconds).toFixed(0),
      eventsPerSecond.toFixed(0),
    ]
    console.log(
      formatTable(header, [
        row('POST /v1/events', run, String(timedAccepted), timedAccepted / run.seconds),
        row('GET /v1/health (floor)', floor, '', (floor.requests * size) / floor.seconds),
      ]),
    )
    console.log(`(floor events/s: what ${size} events per request would allow if storing were free)`)
    console.log(`duplicates reported: ${duplicates}`)
    for (const [name, r] of [['events', run], ['health', floor]] as const) {
      if (r.failures > 0) check(false, `${name}: ${r.failures} requests failed, first: ${r.firstFailure}`)
    }
    check(accepted === sent, `accepted ${accepted} of ${sent} events sent (warm-up included)`)
    const stored = await countEvents(worker)
    check(stored === sent, `D1 holds ${stored} events, ${sent} sent`)

    // Exactly once: a retried batch is acknowledged but nothing new is stored.
    const step = Math.max(1, Math.floor(timed.length / REPLAYED))
    const replays = timed.filter((_, i) => i % step === 0).slice(0, REPLAYED)
    let replayAccepted = 0
    let replayDuplicates = 0
    const replay = await load(replays.length, concurrency, async (i) => {
      const answer = await post(worker, replays[i]!)
      replayAccepted += answer.accepted
      replayDuplicates += answer.duplicates
    })
    if (replay.failures > 0) check(false, `replay: ${replay.failures} failed: ${replay.firstFailure}`)
    const replayed = replays.length * size
    check(
      replayAccepted === 0 && replayDuplicates === replayed,
      `replayed ${replays.length} batches: accepted ${replayAccepted}, duplicates ${replayDuplicates} of ${replayed}`,
    )
    const after = await countEvents(worker)
    check(after === sent, `D1 holds ${after} events after the replay`)
  } finally {
    await worker.stop()
  }
  if (failures.length > 0) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
