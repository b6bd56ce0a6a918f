// Vista's "for you" as a benchmark ranker: interactions are replayed as events through the real ingestion code
// (readBatch per request of 100 events, storeEvents per flush of up to FLUSH_MAX_EVENTS, as the buffer does) into
// local D1, and each query is answered by the real loader and recommender the route uses. A query's history items
// that were never replayed (the visit so far) travel as the device's recent items, as the tag sends them.
import { rm } from 'node:fs/promises'
import { getPlatformProxy } from 'wrangler'
import type { RecentItem, VistaEvent } from '../../../contract'
import { MAX_RECENT } from '../../../contract'
import { upsertItems, upsertSite } from '../../../worker/admin/store'
import type { Bindings } from '../../../worker/env'
import { MAX_EVENT_AGE_MS, readBatch } from '../../../worker/events/ingest'
import { type EventRow, storeEvents } from '../../../worker/events/store'
import { FLUSH_MAX_EVENTS } from '../../../worker/events/tunables'
import { type Loaded, loadModelData } from '../../../worker/recommend/load'
import { recommend } from '../../../worker/recommend/rank'
import type { SharedSource } from '../../../worker/recommend/shared'
import { migratedState } from '../../e2e/server'
import { chronological, type Interaction, type Query, type Ranker } from './protocol'

const SITE = 'bench'
/** Events per request, as the tag's outbox sends them at most. */
const REQUEST = 100
const CONTEXT: VistaEvent['context'] = {
  page: { url: 'https://bench.example/', path: '/' },
  device: 'desktop',
  viewport: { width: 1280, height: 800 },
}

/** One interaction as the SDK would send it (a rating rounded to 1-5; an order of one product). */
function toEvent(i: Interaction, category: string | undefined): VistaEvent {
  const base = { id: `e${i.line}`, timestamp: i.ts, anonymousId: i.user, sessionId: i.session, context: CONTEXT }
  const product = { product_id: i.item, ...(category ? { category } : {}) }
  if (i.kind === 'rate')
    return {
      ...base,
      type: 'Product Reviewed',
      properties: { ...product, rating: Math.min(5, Math.max(1, Math.round(i.rating ?? 3))) },
    }
  if (i.kind === 'view') return { ...base, type: 'Product Viewed', properties: product }
  if (i.kind === 'add') return { ...base, type: 'Product Added', properties: { ...product, quantity: 1 } }
  return {
    ...base,
    type: 'Order Completed',
    properties: { order_id: `o${i.line}`, revenue: 1, products: [product] },
  }
}

/** A Cache API stand-in held in memory: the bench's process is one location, its parts read once from D1. */
function memoryCache(): Cache {
  const held = new Map<string, Response>()
  const url = (key: RequestInfo | URL) => (typeof key === 'string' ? key : key instanceof URL ? key.href : key.url)
  return {
    match: async (key: RequestInfo | URL) => held.get(url(key))?.clone(),
    put: async (key: RequestInfo | URL, res: Response) => void held.set(url(key), res.clone()),
    delete: async (key: RequestInfo | URL) => held.delete(url(key)),
  } as unknown as Cache
}

/**
 * Runs `work` again when the local runtime's connection dropped (an idle keep-alive socket closed while the bench
 * computed): safe for reads, and for storeEvents, which stores and folds each event id once.
 */
async function retried<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      if (attempt >= attempts || !(error instanceof TypeError) || error.message !== 'fetch failed') throw error
    }
  }
}

/** Vista over a local D1: replay interactions, load a query's model data, rank. */
export interface VistaBench {
  /** Replays what was not replayed yet, in time order; answers the seconds it took. */
  replay(interactions: Interaction[]): Promise<number>
  /** What the route would load for the query, "for you". */
  load(query: Query): Promise<Loaded>
  /** The production ranking of loaded data, with the query's exclusions as the request's rules. */
  rankLoaded(data: Loaded, query: Query): string[]
  ranker: Ranker
  close(): Promise<void>
}

/** A fresh local D1 with the catalog (ids and categories) in it. */
export async function openVista(catalog: Map<string, { category: string; price: number }>): Promise<VistaBench> {
  const persistTo = await migratedState('vista-bench-')
  const { env, dispose } = await getPlatformProxy<Bindings>({
    configPath: 'wrangler.toml',
    persist: { path: `${persistTo}/v3` },
    remoteBindings: false,
  })
  const db = env.DB
  await upsertSite(db, { id: SITE, name: 'bench', keyHash: '0'.repeat(64), origins: [] })
  const rows = [...catalog].map(([id, { category, price }]) => ({
    id,
    title: id,
    category,
    price,
    image: null,
    description: null,
    in_stock: 1,
  }))
  for (let at = 0; at < rows.length; at += 500) await upsertItems(db, SITE, rows.slice(at, at + 500))
  const replayed = new Set<number>()
  const source: SharedSource = { db, siteId: SITE, scope: 'bench', cache: memoryCache(), defer: () => {} }

  async function replay(interactions: Interaction[]): Promise<number> {
    const start = performance.now()
    const fresh = interactions.filter((i) => !replayed.has(i.line)).sort(chronological)
    let flush: EventRow[] = []
    const store = async () => {
      const rows = flush
      flush = []
      if (rows.length > 0) await retried(() => storeEvents(db, SITE, rows))
    }
    for (let at = 0; at < fresh.length; ) {
      // A request never spans more than the accepted event age: it is sent when its last event happened.
      const first = fresh[at]!.ts
      let end = at
      while (end < fresh.length && end - at < REQUEST && fresh[end]!.ts - first <= MAX_EVENT_AGE_MS / 2) end++
      const events = fresh.slice(at, end).map((i) => toEvent(i, catalog.get(i.item)?.category))
      const sentAt = events.at(-1)!.timestamp
      const batch = readBatch({ site: SITE, key: 'k', sentAt, events }, sentAt)
      if (!batch.ok) throw new Error(`replay rejected: ${JSON.stringify(batch.issues.slice(0, 3))}`)
      if (flush.length + batch.value.rows.length > FLUSH_MAX_EVENTS) await store()
      flush.push(...batch.value.rows)
      for (let i = at; i < end; i++) replayed.add(fresh[i]!.line)
      at = end
      if (replayed.size % 5000 < REQUEST) process.stderr.write(`\rreplayed ${replayed.size} events`)
    }
    await store()
    const seconds = (performance.now() - start) / 1000
    process.stderr.write(`\rreplayed ${fresh.length} events in ${seconds.toFixed(1)} s\n`)
    return seconds
  }

  /** The visit's events the Worker has not stored, newest first, one per item and kind, as the tag keeps them. */
  const recentOf = (query: Query): RecentItem[] => {
    const recent: RecentItem[] = []
    const kept = new Set<string>()
    for (const i of [...query.history].reverse()) {
      if (replayed.has(i.line) || kept.has(`${i.item} ${i.kind}`)) continue
      kept.add(`${i.item} ${i.kind}`)
      recent.push({ id: i.item, kind: i.kind, ts: i.ts, ...(i.rating ? { rating: i.rating } : {}) })
    }
    return recent.slice(0, MAX_RECENT)
  }

  async function load(query: Query): Promise<Loaded> {
    const last = query.history.at(-1)
    const unstored = query.history.filter((i) => !replayed.has(i.line))
    const cart = unstored.filter((i) => i.kind === 'add').map((i) => i.item)
    const bought = new Set(unstored.filter((i) => i.kind === 'buy').map((i) => i.item))
    return retried(() =>
      loadModelData(source, {
        strategy: 'for-you',
        anonymousId: query.user,
        // The page on screen: the product the shopper viewed last, where the visit is under way.
        ...(last && !replayed.has(last.line) && last.kind === 'view' ? { item: last.item } : {}),
        cart: cart.filter((i) => !bought.has(i)),
        recent: recentOf(query),
        now: query.now,
      }),
    )
  }

  const rankLoaded = (data: Loaded, query: Query) =>
    recommend(data, 'for-you', { exclude: [...query.exclude], inStock: false }, data.dismissed, query.k).map(
      (s) => s.item,
    )

  return {
    replay,
    load,
    rankLoaded,
    ranker: { name: 'vista for-you', rank: async (query) => rankLoaded(await load(query), query) },
    async close() {
      await dispose()
      await rm(persistTo, { recursive: true, force: true })
    },
  }
}
