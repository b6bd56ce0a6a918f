// What a recommendation reads from D1, as the plain ModelData the strategies rank: what to read comes from the
// strategy's registry entry (its needs), never from its name.
import type { ItemRow } from '../admin/store'
import {
  catalogItems,
  dismissedItems,
  historyItems,
  itemSupport,
  neighbourList,
  newestItems,
  trendingItems,
  visitorHistory,
  type HistoryRow,
} from './store'
import type { RecentItem, Strategy } from '../../contract'
import { mergeHistory } from './history'
import { trendScore, type CatalogItem, type ModelData, type Neighbour } from './model'
import { RECOMMENDERS } from './strategies'
import { categoryWeights } from './strategies/popular'

/** Bounds that keep a request's work independent of catalog and traffic size. */
export const HISTORY_LIMIT = 30
export const NEIGHBOURS_PER_ITEM = 50
export const TRENDING_LIMIT = 100
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

const toCatalog = (r: Pick<ItemRow, 'id' | 'title' | 'category' | 'price' | 'image' | 'in_stock'>): CatalogItem => ({
  id: r.id,
  title: r.title,
  category: r.category,
  price: r.price,
  image: r.image,
  inStock: r.in_stock === 1,
})
const rows = <T>(results: D1Result[], i: number) => (results[i]?.results ?? []) as T[]

/**
 * Loads what the strategy needs in three round trips of bounded size: the shopper's history, trending
 * items and the catalog rows of the page's item and the device's recent items; the neighbours of the
 * source items; then the catalog rows of every candidate.
 */
export async function loadModelData(
  db: D1Database,
  siteId: string,
  input: LoadInput,
): Promise<ModelData & { dismissed: Set<string> }> {
  const { anonymousId, item, now } = input
  const needs = RECOMMENDERS[input.strategy].needs
  const cart = (input.cart ?? []).slice(0, CART_LIMIT)
  const recent = input.recent ?? []
  const first = await db.batch([
    anonymousId ? visitorHistory(db, siteId, anonymousId, HISTORY_LIMIT) : db.prepare('SELECT 1 WHERE 0'),
    anonymousId ? dismissedItems(db, siteId, anonymousId) : db.prepare('SELECT 1 WHERE 0'),
    trendingItems(db, siteId, TRENDING_LIMIT),
    newestItems(db, siteId, TRENDING_LIMIT),
    ...catalogItems(db, siteId, [...new Set([item ?? '', ...recent.map((r) => r.id)])]),
  ])
  const stored = historyItems(rows<HistoryRow>(first, 0))
  const known = first.slice(4).flatMap((r) => (r.results ?? []) as ItemRow[])
  // The device's items join the history only as real catalog items: a reason may name them.
  const history = mergeHistory(stored, recent, new Set(known.map((r) => r.id)), HISTORY_LIMIT)
  const dismissed = new Set(rows<{ item_id: string }>(first, 1).map((r) => r.item_id))
  type TrendRow = { item_id: string; trend: number; category: string | null }
  const toTrend = (t: TrendRow) => ({ item: t.item_id, score: trendScore(t.trend, now), category: t.category })
  const trending = rows<TrendRow>(first, 2).map(toTrend)
  // A shop with little activity yet still fills its slots, with its newest items, scored below any trend.
  const hot = new Set(trending.map((t) => t.item))
  const newest = rows<{ id: string; category: string }>(first, 3)
    .filter((r) => !hot.has(r.id))
    .map((r, i) => ({ item: r.id, score: 1e-12 / (i + 1), category: r.category, isNew: true }))
  const contextItem = known.find((r) => r.id === item)
  const category = input.category ?? contextItem?.category

  const { personal } = needs
  const sources = [
    ...new Set(
      needs.sources === 'cart'
        ? cart
        : needs.sources === 'history' && history.length > 0
          ? history.map((h) => h.item)
          : item && needs.sources !== 'none'
            ? [item]
            : [],
    ),
  ]
  const historyRows = catalogItems(db, siteId, personal && history.length > 0 ? history.map((h) => h.item) : [''])
  const pairLists = needs.pairs.flatMap((kind) => sources.map((source) => ({ kind, source })))
  const second = await db.batch([
    ...historyRows,
    category ? trendingItems(db, siteId, TRENDING_LIMIT, category) : db.prepare('SELECT 1 WHERE 0'),
    ...pairLists.map(({ kind, source }) => neighbourList(db, siteId, kind, source, NEIGHBOURS_PER_ITEM)),
    ...itemSupport(db, siteId, sources.length > 0 ? sources : ['']),
  ])
  const catalog = new Map<string, CatalogItem>()
  if (contextItem) catalog.set(contextItem.id, toCatalog(contextItem))
  for (let i = 0; i < historyRows.length; i++) for (const r of rows<ItemRow>(second, i)) catalog.set(r.id, toCatalog(r))
  let at = historyRows.length
  const categoryTrending = rows<TrendRow>(second, at++).map(toTrend)
  type PairRow = { item_id: string; weight: number; support: number }
  const seen = new Map<string, Neighbour[]>()
  const bought = new Map<string, Neighbour[]>()
  for (const { kind, source } of pairLists) {
    const neighbours = rows<PairRow>(second, at++).map((r) => ({
      item: r.item_id,
      weight: r.weight,
      support: r.support,
    }))
    ;(kind === 'seen' ? seen : bought).set(source, neighbours)
  }
  const support = new Map<string, number>()
  for (; at < second.length; at++) {
    for (const r of rows<{ item_id: string; visitors: number; buyers: number }>(second, at))
      support.set(r.item_id, r.visitors)
  }

  // Category affinity reads trending items of the shopper's favourite categories too.
  const data: ModelData = { now, history, seen, bought, support, trending, catalog, context: { item, category, cart } }
  const favourites = personal
    ? [...categoryWeights(data)]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 2)
        .map(([c]) => c)
        .filter((c) => c !== category)
    : []
  const candidates = new Set<string>([...trending, ...categoryTrending, ...newest].map((t) => t.item))
  for (const lists of [seen, bought]) for (const ns of lists.values()) for (const n of ns) candidates.add(n.item)
  for (const h of history) candidates.add(h.item)
  for (const c of cart) candidates.add(c)
  const third = await db.batch([
    ...favourites.map((c) => trendingItems(db, siteId, TRENDING_LIMIT, c)),
    ...catalogItems(db, siteId, [...candidates].filter((id) => !catalog.has(id)).concat('')),
  ])
  const favouriteTrending = favourites.flatMap((_, i) => rows<TrendRow>(third, i).map(toTrend))
  for (let i = favourites.length; i < third.length; i++)
    for (const r of rows<ItemRow>(third, i)) catalog.set(r.id, toCatalog(r))
  const byItem = new Map([...newest, ...trending, ...categoryTrending, ...favouriteTrending].map((t) => [t.item, t]))
  data.trending = [...byItem.values()].sort((a, b) => b.score - a.score)
  return { ...data, dismissed }
}
