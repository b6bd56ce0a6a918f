// The bench site and the traffic sent to it: shoppers' outbox batches, posted as the SDK posts them,
// and counted back in D1 by their id prefix.
import type { IngestResult, VistaEvent } from '../../../contract'
import { upsertItems, upsertSite } from '../../../worker/admin/store'
import { hashKey } from '../../../worker/http/site-auth'
import type { LocalWorker } from '../../e2e/server'
import { makeEvent } from '../../fixtures/events'
import { benchCatalog, benchItem, fetchOk, random, withLocalEnv, zipf } from '../load'

/** The site every section sends to. */
export const SITE = 'bench'
/** Its public key. */
export const KEY = 'pk_bench_reliability'
/** A second site, whose key and origin must not open the first. */
export const OTHER = { id: 'other', key: 'pk_other_reliability', origin: 'https://other.example' }
const ITEMS = 1_000
const CATEGORIES = 20
// 1,000 events/s is what about 5,000 shoppers send at once (one event every 5 s each); fewer would
// make each a bot with thousands of events a minute.
const SHOPPERS = 5_000

/** Seeds both sites and the bench catalog into a fresh local state. */
export const seed = (persistTo: string) =>
  withLocalEnv(persistTo, async (env) => {
    await upsertSite(env.DB, { id: SITE, name: 'bench', keyHash: await hashKey(KEY), origins: ['http://127.0.0.1:*'] })
    await upsertSite(env.DB, {
      id: OTHER.id,
      name: 'other',
      keyHash: await hashKey(OTHER.key),
      origins: [OTHER.origin],
    })
    await upsertItems(env.DB, SITE, benchCatalog(ITEMS, CATEGORIES))
  })

const rand = random(7)
const pickItem = zipf(ITEMS, 1, rand)

/** The 9-character prefix shared by a batch's event ids (`ld-000042`), so SQL can find a batch. */
const batchId = (prefix: string, index: number) => `${prefix}-${String(index).padStart(6, '0')}`

/** One shopper's outbox flush: mostly views, some cart adds and orders; ids `<batchId>-<n>`. */
export function makeBatch(prefix: string, index: number, size: number): VistaEvent[] {
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

/** The body of a POST /v1/events to the bench site, with `over` merged in. */
export const envelope = (events: unknown[], over: object = {}) => ({
  site: SITE,
  key: KEY,
  sentAt: Date.now(),
  events,
  ...over,
})

/** Posts one batch as the SDK does (text/plain, from an allowed origin); throws unless 2xx. */
export async function post(worker: LocalWorker, events: VistaEvent[]): Promise<IngestResult> {
  const answer = await fetchOk(`${worker.url}/v1/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: worker.url },
    body: JSON.stringify(envelope(events)),
  })
  return JSON.parse(answer) as IngestResult
}

/** Events per id prefix of the bench site: rows and distinct ids, in one query. */
export async function countByPrefix(worker: LocalWorker): Promise<Map<string, { n: number; d: number }>> {
  const rows = await worker.query<{ prefix: string; n: number; d: number }>(
    `SELECT substr(id, 1, 3) AS prefix, COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM events WHERE site_id = '${SITE}' GROUP BY prefix`,
  )
  return new Map(rows.map((r) => [r.prefix, { n: r.n, d: r.d }]))
}
