// `npm run bench:latency -- [--requests N] [--concurrency C]`: recommendation latency of the real
// Worker under `wrangler dev` (local D1/KV) for a small and a large catalog, against the floor of
// an empty route. Each catalog gets a fresh state seeded with synthetic shoppers' activity.
import type { VistaEvent } from '../../contract'
import { upsertItems, upsertSite } from '../../worker/admin/store'
import { storeEvents } from '../../worker/events/store'
import { readBatch } from '../../worker/events/ingest'
import { hashKey } from '../../worker/http/site-auth'
import { startWorker } from '../e2e/server'
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
  withLocalEnv,
  zipf,
} from './load'

const CATALOGS = [1_000, 50_000]
const CATEGORIES = 20
const SHOPPERS = 2_000
const POPULAR = 100
const WARMUP = 100
const LIMIT = 8
const SITE = 'bench'
const KEY = 'pk_bench_latency'
const DAY = 24 * 3600_000
const itemId = (rank: number) => benchItem(rank, CATEGORIES).id

/**
 * Each shopper's visit over the last 7 days: mostly product views, with adds, orders and reviews of
 * viewed items. Items are Zipf-skewed and 80% come from the shopper's favourite category.
 */
function activity(size: number, rand: () => number, now: number): VistaEvent[] {
  const anyItem = zipf(size, 1, rand)
  const category = zipf(CATEGORIES, 0.7, rand)
  const inCategory = zipf(Math.floor(size / CATEGORIES), 1, rand)
  return Array.from({ length: SHOPPERS }, (_, n) => {
    const favourite = category()
    const pickItem = () => (rand() < 0.8 ? inCategory() * CATEGORIES + favourite : anyItem())
    return shopper(n, pickItem, rand, now)
  }).flat()
}

function shopper(n: number, pickItem: () => number, rand: () => number, now: number): VistaEvent[] {
  const product = (rank: number) => {
    const { id, category, price } = benchItem(rank, CATEGORIES)
    return { product_id: id, category, price }
  }
  const viewed: number[] = []
  const added: number[] = []
  const events: VistaEvent[] = []
  let ts = now - 7 * DAY + Math.floor(rand() * (7 * DAY - 3600_000))
  const count = 8 + Math.floor(rand() * 15)
  const at = () => ({
    id: `s${n}-${events.length}`,
    anonymousId: `s${n}`,
    sessionId: `s${n}-1`,
    timestamp: (ts += 20_000 + Math.floor(rand() * 100_000)),
  })
  const any = (list: number[]) => list[Math.floor(rand() * list.length)]!
  while (events.length < count) {
    const r = rand()
    if (r < 0.12 && viewed.length > 0) {
      const rank = any(viewed)
      added.push(rank)
      events.push(makeEvent('Product Added', { ...product(rank), quantity: 1 }, at()))
    } else if (r < 0.18 && added.length > 0) {
      const products = added.splice(0).map((rank) => ({ ...product(rank), quantity: 1 }))
      const revenue = products.reduce((sum, p) => sum + p.price, 0)
      const order = { order_id: `o${n}-${events.length}`, revenue, currency: 'EUR', products }
      events.push(makeEvent('Order Completed', order, at()))
    } else if (r < 0.24 && viewed.length > 0) {
      const rating = 1 + Math.floor(rand() * 5)
      events.push(makeEvent('Product Reviewed', { product_id: itemId(any(viewed)), rating }, at()))
    } else {
      const rank = pickItem()
      viewed.push(rank)
      events.push(makeEvent('Product Viewed', product(rank), at()))
    }
  }
  return events
}

interface Seeded {
  events: number
  pairs: number
  seconds: number
  /** Neighbour list lengths of the POPULAR most popular items, sorted. */
  neighbours: number[]
}

/** Writes the site, catalog and activity through the Worker's own code into the local D1. */
async function seed(persistTo: string, size: number): Promise<Seeded> {
  const start = performance.now()
  return withLocalEnv(persistTo, async (env) => {
    const db = env.DB
    await upsertSite(db, { id: SITE, name: 'bench', keyHash: await hashKey(KEY), origins: [] })
    await upsertItems(db, SITE, benchCatalog(size, CATEGORIES))
    const now = Date.now()
    const events = activity(size, random(size), now).sort((a, b) => a.timestamp - b.timestamp)
    for (let i = 0; i < events.length; i += 100) {
      const batch = readBatch({ site: SITE, key: KEY, sentAt: now, events: events.slice(i, i + 100) }, now)
      if (!batch.ok) throw new Error(`seed batch rejected: ${JSON.stringify(batch.issues.slice(0, 3))}`)
      await storeEvents(db, SITE, batch.value.rows)
      if (i % 10_000 === 0) process.stderr.write(`catalog ${size}: stored ${i} events\n`)
    }
    const pairs = await db
      .prepare(`SELECT COUNT(*) AS n FROM item_pairs WHERE site_id = ? AND kind = 'seen'`)
      .bind(SITE)
      .first<number>('n')
    const popular = Array.from({ length: POPULAR }, (_, rank) => itemId(rank))
    const lists = await db
      .prepare(
        `SELECT COUNT(*) AS n FROM item_pairs WHERE site_id = ? AND kind = 'seen'
         AND a IN (SELECT value FROM json_each(?)) GROUP BY a`,
      )
      .bind(SITE, JSON.stringify(popular))
      .all<{ n: number }>()
    const neighbours = lists.results.map((r) => r.n).sort((a, b) => a - b)
    const seconds = (performance.now() - start) / 1000
    return { events: events.length, pairs: pairs ?? 0, seconds, neighbours }
  })
}

interface Route {
  name: string
  path: (rand: () => number) => string
}

const recommendations =
  (strategy: string, withItem = false) =>
  (rand: () => number) => {
    const anonymousId = `s${Math.floor(rand() * SHOPPERS)}`
    const params = new URLSearchParams({
      site: SITE,
      key: KEY,
      strategy,
      limit: `${LIMIT}`,
      anonymousId,
    })
    if (withItem) params.set('item', itemId(Math.floor(rand() * POPULAR)))
    return `/v1/recommendations?${params}`
  }

const ROUTES: Route[] = [
  { name: 'health (floor)', path: () => '/v1/health' },
  { name: 'for-you', path: recommendations('for-you') },
  { name: 'also-viewed', path: recommendations('also-viewed', true) },
  { name: 'trending', path: recommendations('trending') },
]

/** Requests a route and checks a recommendation answer is full. */
async function hit(url: string): Promise<void> {
  const body = await fetchOk(url)
  if (url.includes('/recommendations?')) {
    const { items } = JSON.parse(body) as { items: unknown[] }
    if (items.length !== LIMIT) throw new Error(`${url} -> ${items.length} items, expected ${LIMIT}`)
  }
}

async function bench(size: number, requests: number, concurrency: number): Promise<boolean> {
  let seeded: Seeded | undefined
  const worker = await startWorker({
    prefix: 'vista-latency-',
    // Thousands of shoppers from one loopback address: the per-client limit would measure itself.
    vars: { RATE_LIMITS: 'off' },
    seed: async (persistTo) => void (seeded = await seed(persistTo, size)),
  })
  const rows: string[][] = []
  let ok = true
  try {
    const s = seeded!
    const median = percentile(s.neighbours, 50)
    console.log(
      `\ncatalog ${size.toLocaleString('en')} items in ${CATEGORIES} categories: ` +
        `${s.events.toLocaleString('en')} events of ${SHOPPERS.toLocaleString('en')} shoppers, ` +
        `${s.pairs.toLocaleString('en')} seen pairs, neighbours of the top ${POPULAR} items: ` +
        `median ${median}, max ${s.neighbours.at(-1) ?? 0} (seeded in ${s.seconds.toFixed(0)} s)`,
    )
    let floor = NaN
    for (const route of ROUTES) {
      const rand = random(size + route.name.length)
      await load(WARMUP, concurrency, () => hit(worker.url + route.path(rand)))
      const result = await load(requests, concurrency, () => hit(worker.url + route.path(rand)))
      const p50 = percentile(result.latencies, 50)
      if (Number.isNaN(floor)) floor = p50
      rows.push([
        route.name,
        String(requests),
        ms(p50),
        ms(percentile(result.latencies, 99)),
        ms(result.latencies.at(-1) ?? NaN),
        (requests / result.seconds).toFixed(0),
        route === ROUTES[0] ? '' : `+${ms(p50 - floor)}`,
      ])
      if (result.failures > 0) {
        ok = false
        console.log(`✗ ${route.name}: ${result.failures} failed, first: ${result.firstFailure}`)
      }
    }
  } finally {
    await worker.stop()
  }
  const header = ['route', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'req/s', 'p50 − floor']
  console.log(formatTable(header, rows))
  return ok
}

async function main() {
  const { requests, concurrency } = parseFlags(process.argv.slice(2), {
    requests: 1_000,
    concurrency: 8,
  })
  console.log(machine())
  console.log(
    `wrangler dev on 127.0.0.1; per route ${WARMUP} warm-up requests, then ${requests} ` +
      `at concurrency ${concurrency}; recommendations limit=${LIMIT}`,
  )
  let ok = true
  for (const size of CATALOGS) ok = (await bench(size, requests, concurrency)) && ok
  if (!ok) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
