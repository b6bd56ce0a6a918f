// What a recommendation reads, as the plain ModelData the strategies rank: what to read comes from the
// strategy's registry entry (its needs), never from its name. The shopper's own history is one D1 read
// (from a read replica where there is one); everything shoppers share comes through the edge cache (shared.ts).
import { dismissedItems, historyItems, visitorHistory, type HistoryRow } from './store'
import type { RecentItem, Strategy } from '../../contract'
import { mergeHistory } from './history'
import { trendReference, trendScore, type CatalogItem, type HistoryItem, type ModelData, type Neighbour } from './model'
import { readShared, type SharedParts, type SharedRequest, type SharedSource, type TrendEntry } from './shared'
import { aboutTheShopper, RECOMMENDERS } from './strategies'
import { categoryWeights } from './strategies/popular'

/** Bounds that keep a request's work independent of catalog and traffic size. */
export const HISTORY_LIMIT = 30
export const CART_LIMIT = 20

/** What the loader reads of a request: the strategy, the shopper, the page, the cart, the device's recent items, and the time. */
export interface LoadInput {
  strategy: Strategy
  anonymousId?: string
  item?: string
  category?: string
  cart?: string[]
  /** What the device did lately, on the Worker's clock: merged into the stored history, never stored. */
  recent?: RecentItem[]
  now: number
}

/** The model's data, the shopper's dismissed items, and how many D1 round trips it took. */
export type Loaded = ModelData & { dismissed: Set<string>; d1: number }

/** A source with no edge cache: every shared part is read from D1 (benches, and tests of the SQL itself). */
export const uncached = (db: D1Database, siteId: string): SharedSource => ({
  db,
  siteId,
  scope: 'none',
  cache: null,
  defer: () => {},
})

/** The customer's stored history and dismissed items, in one round trip to the nearest replica. */
async function readShopper(db: D1Database, siteId: string, anonymousId: string) {
  // Replica lag is harmless here: the device's recent items, merged in, cover what D1 has not seen yet.
  const session = db.withSession('first-unconstrained')
  const [history, dismissed] = await session.batch([
    visitorHistory(session, siteId, anonymousId, HISTORY_LIMIT),
    dismissedItems(session, siteId, anonymousId),
  ])
  return {
    history: historyItems((history?.results ?? []) as HistoryRow[]),
    dismissed: ((dismissed?.results ?? []) as Array<{ item_id: string }>).map((r) => r.item_id),
  }
}

/**
 * Loads what the strategy needs: the shopper's history (one D1 read, only for strategies that need it),
 * then the shared parts in at most three steps (the page's item, the device's items and the trending
 * lists; the sources' neighbours; the favourite categories), each from the edge cache or one D1 batch.
 */
export async function loadModelData(source: SharedSource, input: LoadInput): Promise<Loaded> {
  const { anonymousId, item, now } = input
  const needs = RECOMMENDERS[input.strategy].needs
  const cart = (input.cart ?? []).slice(0, CART_LIMIT)
  const recent = input.recent ?? []
  const parts: SharedParts = { trending: null, categories: new Map(), seen: new Map(), bought: new Map() }
  let d1 = 0
  /** Reads what `request` names and parts lack, into parts. */
  const read = async (request: SharedRequest) => {
    const fresh = {
      trending: request.trending && !parts.trending,
      categories: request.categories?.filter((c) => !parts.categories.has(c)),
      seen: request.seen?.filter((i) => !parts.seen.has(i)),
      bought: request.bought?.filter((i) => !parts.bought.has(i)),
    }
    if (!fresh.trending && !fresh.categories?.length && !fresh.seen?.length && !fresh.bought?.length) return
    const got = await readShared(source, fresh)
    d1 += got.d1
    parts.trending ??= got.trending
    for (const kind of ['categories', 'seen', 'bought'] as const)
      for (const [k, v] of got[kind]) (parts[kind] as Map<string, unknown>).set(k, v)
  }
  const pairsOf = (kind: 'seen' | 'bought', ids: string[]) => (needs.pairs.includes(kind) ? ids : [])
  const fixed = needs.sources === 'cart' ? cart : needs.sources === 'item' && item ? [item] : []
  // The page's item is read for its catalog row (a 'seen' part holds one), and so are the device's items
  // where an answer may show or name them; elsewhere they only hide what was bought, disliked or dismissed.
  const ownItems = aboutTheShopper(needs)
  const [shopper] = await Promise.all([
    needs.history && anonymousId
      ? readShopper(source.db, source.siteId, anonymousId).finally(() => d1++)
      : { history: [] as HistoryItem[], dismissed: [] as string[] },
    read({
      trending: true,
      categories: input.category ? [input.category] : [],
      seen: [...(item ? [item] : []), ...(ownItems ? recent.map((r) => r.id) : []), ...pairsOf('seen', fixed)],
      bought: pairsOf('bought', fixed),
    }),
  ])
  const rowOf = (id: string) => parts.seen.get(id)?.row ?? parts.bought.get(id)?.row ?? null
  // The device's items join the history only as real catalog items where a reason may name them.
  const known = new Set([item ?? '', ...recent.map((r) => r.id)].filter((id) => !ownItems || rowOf(id)))
  const history = mergeHistory(shopper.history, recent, known, HISTORY_LIMIT)
  const contextItem = item ? rowOf(item) : null
  const category = input.category ?? contextItem?.category
  const { personal } = needs
  const sources = [
    ...new Set(
      needs.sources !== 'history' ? fixed : history.length > 0 ? history.map((h) => h.item) : item ? [item] : [],
    ),
  ]
  await read({
    categories: category ? [category] : [],
    seen: [...(personal ? history.map((h) => h.item) : []), ...pairsOf('seen', sources)],
    bought: pairsOf('bought', sources),
  })

  const catalog = new Map<string, CatalogItem>()
  const addRows = (rows: Array<CatalogItem | null>) => {
    for (const r of rows) if (r) catalog.set(r.id, r)
  }
  const seen = new Map<string, Neighbour[]>()
  const bought = new Map<string, Neighbour[]>()
  const next = new Map<string, Neighbour[]>()
  const support = new Map<string, number>()
  for (const [kind, lists] of [
    ['seen', seen],
    ['bought', bought],
  ] as const) {
    for (const [id, part] of parts[kind]) {
      addRows([part.row, ...part.rows])
      if (sources.includes(id) && needs.pairs.includes(kind)) lists.set(id, part.neighbours)
      if (sources.includes(id) && kind === 'seen' && part.next) next.set(id, part.next)
      if (sources.includes(id) && part.visitors !== null) support.set(id, part.visitors)
    }
  }
  const shared = parts.trending ?? { trending: [], newest: [], rows: [] }
  addRows(shared.rows)

  // Category affinity reads trending items of the shopper's favourite categories too.
  const data: ModelData = {
    now,
    history,
    seen,
    bought,
    next,
    support,
    trending: [],
    catalog,
    context: { item, category, cart },
  }
  const favourites = personal
    ? [...categoryWeights(data)]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 2)
        .map(([c]) => c)
        .filter((c) => c !== category)
    : []
  await read({ categories: favourites })
  for (const part of parts.categories.values()) addRows(part.rows)
  const trends: TrendEntry[] = [
    ...shared.trending,
    ...[category, ...favourites].flatMap((c) => (c && parts.categories.get(c)?.trending) || []),
  ]
  const reference = trendReference(Math.max(...trends.map((t) => t.trend)), now)
  const byItem = new Map<string, ModelData['trending'][number]>()
  for (const t of trends)
    byItem.set(t.item, { item: t.item, score: trendScore(t.trend, reference), category: t.category })
  // A shop with little activity yet still fills its slots, with its newest items, scored below any trend.
  shared.newest.forEach((r, i) => {
    if (!byItem.has(r.item))
      byItem.set(r.item, { item: r.item, score: 1e-12 / (i + 1), category: r.category, isNew: true })
  })
  data.trending = [...byItem.values()].sort((a, b) => b.score - a.score)
  // Dismissed on any of the customer's browsers (stored), or lately on this device (its recent items).
  const dismissed = new Set([...shopper.dismissed, ...history.filter((h) => h.dismissed).map((h) => h.item)])
  return { ...data, dismissed, d1 }
}
