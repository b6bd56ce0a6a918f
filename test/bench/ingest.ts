// `npm run bench:ingest -- [--batches N] [--concurrency C] [--size S]`: event ingestion throughput
// of the real Worker under `wrangler dev` (local D1/KV), against the floor of an empty route, then
// checks that D1 holds every event exactly once, also after the batches are sent again.
import { MAX_BATCH_EVENTS, type IngestResult, type VistaEvent } from '../../contract'
import { upsertItems, upsertSite } from '../../worker/admin/store'
import { hashKey } from '../../worker/http/site-auth'
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

const countEvents = async (worker: LocalWorker) =>
  (await worker.query<{ n: number }>('SELECT COUNT(*) AS n FROM events'))[0]?.n ?? 0

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

async function main() {
  const flags = parseFlags(process.argv.slice(2), { batches: 500, concurrency: 4, size: 20 })
  const { batches, concurrency, size } = flags
  if (size > MAX_BATCH_EVENTS) throw new Error(`--size must be at most ${MAX_BATCH_EVENTS}`)
  console.log(machine())
  console.log(
    `wrangler dev on 127.0.0.1; ${batches} batches of ${size} events at concurrency ` +
      `${concurrency} from ${SHOPPERS} shoppers, after ${WARMUP} warm-up batches; ${ITEMS} items`,
  )
  const all = makeBatches(WARMUP + batches, size)
  const timed = all.slice(WARMUP)
  const sent = all.length * size
  let ok = true
  const check = (pass: boolean, message: string) => {
    console.log(`${pass ? '✓' : '✗'} ${message}`)
    ok &&= pass
  }
  // Many shoppers from one loopback address: the per-client limit would measure itself.
  const worker = await startWorker({ prefix: 'vista-ingest-', seed, vars: { RATE_LIMITS: 'off' } })
  try {
    const health = () => fetchOk(`${worker.url}/v1/health`).then(() => {})
    await load(WARMUP, concurrency, health)
    const floor = await load(batches, concurrency, health)
    const warm = await postAll(worker, all.slice(0, WARMUP), concurrency)
    const run = await postAll(worker, timed, concurrency)
    console.log(
      formatTable(HEADER, [
        row('POST /v1/events', run, run.accepted),
        row('GET /v1/health (floor)', floor, batches * size, ''),
      ]),
    )
    console.log(`(floor events/s: ${size} events per request if storing them were free)`)
    console.log(`duplicates reported: ${run.duplicates}`)
    for (const r of [floor, warm, run]) {
      if (r.failures > 0) check(false, `${r.failures} requests failed, first: ${r.firstFailure}`)
    }
    const accepted = warm.accepted + run.accepted
    check(accepted === sent, `accepted ${accepted} of ${sent} events sent (warm-up included)`)
    check((await countEvents(worker)) === sent, `D1 holds exactly the ${sent} events sent`)

    // Exactly once: a retried batch is acknowledged but nothing new is stored.
    const step = Math.max(1, Math.floor(timed.length / REPLAYED))
    const replays = timed.filter((_, i) => i % step === 0).slice(0, REPLAYED)
    const again = await postAll(worker, replays, concurrency)
    const replayed = replays.length * size
    check(
      again.failures === 0 && again.accepted === 0 && again.duplicates === replayed,
      `replayed ${replays.length} batches: accepted ${again.accepted}, ` +
        `duplicates ${again.duplicates} of ${replayed}`,
    )
    const after = await countEvents(worker)
    check(after === sent, `D1 holds ${after} events after the replay, ${sent} sent`)
  } finally {
    await worker.stop()
  }
  if (!ok) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
