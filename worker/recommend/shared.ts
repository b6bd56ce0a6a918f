// What every shopper of a site shares (trending, newest, each category's trending, each item's neighbour
// lists and catalog rows), read through the edge cache: a part comes from the isolate's memory, else this
// location's cache, else D1, and all the parts one step misses come in one D1 batch. Keys carry the site's catalog
// version (bumped by every catalog write, worker/admin/route.ts), so a catalog change is seen at once.
import type { Bindings, Site } from '../env'
import type { CatalogItem, Neighbour } from './model'
import { itemWithSupport, neighboursWithRows, newestWithRows, trendingWithRows, type RowColumns } from './store'

/**
 * Seconds a shared part may be served from one location's cache after it was read: how stale trending and
 * neighbour lists may be. Catalog rows are never staler than the site entry (SITE_CACHE_TTL), which names
 * the catalog version.
 */
export const SHARED_TTL = { trending: 60, category: 60, neighbours: 300 } as const
/** How many items each shared list holds. */
export const SHARED_LIMITS = { trending: 100, neighbours: 50 } as const

/** A trending item: its log-space trend, decayed at read time so a cached list never ages wrong. */
export interface TrendEntry {
  item: string
  trend: number
  category: string | null
}
/** The site's trending and newest items with their catalog rows. */
export interface TrendingPart {
  trending: TrendEntry[]
  newest: Array<{ item: string; category: string }>
  rows: CatalogItem[]
}
/** One category's trending items with their catalog rows. */
export interface CategoryPart {
  trending: TrendEntry[]
  rows: CatalogItem[]
}
/** One item's catalog row, its shopper count, one kind of its neighbours with their rows, and what comes next. */
export interface ItemPart {
  row: CatalogItem | null
  visitors: number | null
  neighbours: Neighbour[]
  /** Of a 'seen' part only: the items shoppers opened next after this one (their rows are in `rows`). */
  next?: Neighbour[]
  rows: CatalogItem[]
}

/** What one step asks for: any of the trending part, categories, and items' neighbour lists of each kind. */
export interface SharedRequest {
  trending?: boolean
  categories?: string[]
  seen?: string[]
  bought?: string[]
}
/** What one step gets: each part asked for, by its name. */
export interface SharedParts {
  trending: TrendingPart | null
  categories: Map<string, CategoryPart>
  seen: Map<string, ItemPart>
  bought: Map<string, ItemPart>
}

/** Where shared parts come from: the site's shard, this location's cache (null: none), and who finishes the cache writes. */
export interface SharedSource {
  db: D1Database
  siteId: string
  /** Names the site's data as of now: shard and catalog version. */
  scope: string
  cache: Cache | null
  defer: (work: Promise<unknown>) => void
}

const toRow = (r: RowColumns): CatalogItem | null =>
  r.row_id === null
    ? null
    : {
        id: r.row_id,
        title: r.title,
        category: r.row_category,
        price: r.price,
        image: r.image,
        inStock: r.in_stock === 1,
      }
const rowsOf = (rows: RowColumns[]) => rows.map(toRow).filter((r): r is CatalogItem => r !== null)
type TrendRow = RowColumns & { item_id: string; trend: number; category: string | null }
const trendsOf = (rows: TrendRow[]): TrendEntry[] =>
  rows.map((r) => ({ item: r.item_id, trend: r.trend, category: r.category }))

/** One part: its cache key, seconds to keep, the statements that read it, and how its rows become the part. */
interface Part {
  name: string
  ttl: number
  /** Prepared only for a part no cache holds. */
  statements: () => D1PreparedStatement[]
  build: (results: D1Result[]) => unknown
}

const results = <T>(r: D1Result | undefined) => (r?.results ?? []) as T[]
type NeighbourRow = RowColumns & { item_id: string; weight: number; support: number }
const toNeighbour = (n: NeighbourRow): Neighbour => ({ item: n.item_id, weight: n.weight, support: n.support })

function partsOf(source: SharedSource, request: SharedRequest): Part[] {
  const { db, siteId } = source
  const parts: Part[] = []
  if (request.trending)
    parts.push({
      name: 'trending',
      ttl: SHARED_TTL.trending,
      statements: () => [
        trendingWithRows(db, siteId, SHARED_LIMITS.trending),
        newestWithRows(db, siteId, SHARED_LIMITS.trending),
      ],
      build: ([trending, newest]): TrendingPart => {
        const hot = results<TrendRow>(trending)
        const fresh = results<RowColumns & { item_id: string }>(newest)
        return {
          trending: trendsOf(hot),
          newest: fresh.map((r) => ({ item: r.item_id, category: r.row_category })),
          rows: rowsOf([...hot, ...fresh]),
        }
      },
    })
  for (const category of new Set(request.categories))
    parts.push({
      name: `category/${encodeURIComponent(category)}`,
      ttl: SHARED_TTL.category,
      statements: () => [trendingWithRows(db, siteId, SHARED_LIMITS.trending, category)],
      build: ([trending]): CategoryPart => {
        const rows = results<TrendRow>(trending)
        return { trending: trendsOf(rows), rows: rowsOf(rows) }
      },
    })
  for (const kind of ['seen', 'bought'] as const)
    for (const item of new Set(request[kind]))
      parts.push({
        name: `${kind}/${encodeURIComponent(item)}`,
        ttl: SHARED_TTL.neighbours,
        // A 'seen' part brings what shoppers opened next too: whoever reads an item's co-views reads those.
        statements: () => [
          itemWithSupport(db, siteId, item),
          neighboursWithRows(db, siteId, kind, item, SHARED_LIMITS.neighbours),
          ...(kind === 'seen' ? [neighboursWithRows(db, siteId, 'next', item, SHARED_LIMITS.neighbours)] : []),
        ],
        build: ([own, pairs, next]): ItemPart => {
          const self = results<RowColumns & { visitors: number | null }>(own)[0]
          const neighbours = results<NeighbourRow>(pairs)
          const after = results<NeighbourRow>(next)
          return {
            row: self ? toRow(self) : null,
            visitors: self?.visitors ?? null,
            neighbours: neighbours.map(toNeighbour),
            ...(kind === 'seen' ? { next: after.map(toNeighbour) } : {}),
            rows: rowsOf([...neighbours, ...after]),
          }
        },
      })
  return parts
}

/** Bytes of parts (as JSON) an isolate keeps in memory, least recently used out first: a fraction of its 128 MB. */
export const MEMORY_BYTES = 16 * 1024 * 1024
/** The header a cached part carries: when it expires (ms), so the memory copy expires with it. */
const EXPIRES = 'X-Vista-Expires'

/**
 * Parts this isolate read lately, parsed, each until the time its cache entry expires: a hit costs no cache
 * read and no parse, and no part lives longer than its TTL since D1 gave it. Plain data only: nothing here
 * belongs to a request.
 */
const memory = new Map<string, { value: unknown; expires: number; bytes: number }>()
let memoryBytes = 0

function remember(key: string, value: unknown, expires: number, bytes: number): void {
  forget(key)
  memory.set(key, { value, expires, bytes })
  memoryBytes += bytes
  for (const [old] of memory) {
    if (memoryBytes <= MEMORY_BYTES) break
    forget(old)
  }
}
function forget(key: string): void {
  const entry = memory.get(key)
  if (!entry) return
  memory.delete(key)
  memoryBytes -= entry.bytes
}
function recall(key: string, now: number): unknown {
  const entry = memory.get(key)
  if (!entry || entry.expires <= now) {
    forget(key)
    return undefined
  }
  // Most recently used last: eviction takes from the front.
  memory.delete(key)
  memory.set(key, entry)
  return entry.value
}

/** A cache key: a URL, as the Cache API wants, private to Vista by its host. */
const keyOf = (source: SharedSource, name: string) =>
  `https://shared.vista.invalid/${encodeURIComponent(source.siteId)}/${source.scope}/${name}`

/**
 * Reads the parts `request` names: each from the cache when held, the rest in one D1 batch (then cached
 * for its TTL once the answer is out). `d1` counts the D1 round trips: 0 or 1.
 */
export async function readShared(source: SharedSource, request: SharedRequest): Promise<SharedParts & { d1: number }> {
  const { cache } = source
  const now = Date.now()
  const values = new Map<string, unknown>()
  const parts = partsOf(source, request).filter((p) => {
    const held = cache ? recall(keyOf(source, p.name), now) : undefined
    if (held !== undefined) values.set(p.name, held)
    return held === undefined
  })
  await Promise.all(
    parts.map(async (part) => {
      const key = keyOf(source, part.name)
      const res = cache ? await cache.match(key) : undefined
      if (!res) return
      const text = await res.text()
      const value = JSON.parse(text) as unknown
      values.set(part.name, value)
      const expires = Number(res.headers.get(EXPIRES))
      if (expires > now) remember(key, value, expires, text.length)
    }),
  )
  const missing = parts.filter((p) => !values.has(p.name))
  if (missing.length > 0) {
    const statements = missing.map((p) => p.statements())
    const batch = await source.db.batch(statements.flat())
    let at = 0
    for (const [i, part] of missing.entries()) {
      const count = statements[i]!.length
      const value = part.build(batch.slice(at, at + count))
      at += count
      values.set(part.name, value)
      if (!cache) continue
      const key = keyOf(source, part.name)
      const body = JSON.stringify(value)
      const expires = now + part.ttl * 1000
      remember(key, value, expires, body.length)
      const headers = {
        'Content-Type': 'application/json',
        'Cache-Control': `max-age=${part.ttl}`,
        [EXPIRES]: String(expires),
      }
      // A failed put costs only a later read from D1.
      source.defer(cache.put(key, new Response(body, { headers })).catch(() => {}))
    }
  }
  const named = <T>(prefix: string, ids: Iterable<string> = []) =>
    new Map([...new Set(ids)].map((id) => [id, values.get(`${prefix}/${encodeURIComponent(id)}`) as T]))
  return {
    trending: (values.get('trending') as TrendingPart | undefined) ?? null,
    categories: named<CategoryPart>('category', request.categories),
    seen: named<ItemPart>('seen', request.seen),
    bought: named<ItemPart>('bought', request.bought),
    d1: missing.length > 0 ? 1 : 0,
  }
}

/** The shared source of a site's requests: its shard and catalog version, and this location's cache. */
export async function sharedSource(
  env: Pick<Bindings, 'SHARED_CACHE'>,
  site: Site,
  db: D1Database,
  defer: SharedSource['defer'],
): Promise<SharedSource> {
  // No cache where the runtime has none: every part then comes from D1, and answers stay the same.
  const cache = env.SHARED_CACHE === 'off' ? null : await caches.open('vista:shared').catch(() => null)
  return { db, siteId: site.id, scope: `${site.shard}/${site.catalogVersion ?? 0}`, cache, defer }
}
