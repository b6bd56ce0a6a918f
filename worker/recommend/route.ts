import { Hono } from 'hono'
import { z } from 'zod'
import { type ItemRow } from '../admin/store'
import { TREND_EPOCH, TREND_TAU } from './model'
import { catalogItems, dismissedItems, itemSupport, logRecommendation, neighbourList, newestItems, trendingItems, visitorHistory } from './store'
import type { RecommendationAnswer } from '../../contract'
import type { AppEnv } from '../env'
import { randomId } from '../ids'
import {
  RECOMMENDERS,
  STRATEGIES,
  byScore,
  type CatalogItem,
  type HistoryItem,
  type ModelData,
  type Neighbour,
  type Scored,
  type Strategy,
} from './strategies'
import { unwanted } from './strategies/for-you'
import { categoryWeights } from './strategies/popular'
import { applyRules, rulesSchema, type Rules } from './rules'
import { siteAuth } from '../http/site-auth'
import { afterResponse } from '../http/body'

/** Bounds that keep a request's work independent of catalog and traffic size. */
export const HISTORY_LIMIT = 30
export const NEIGHBOURS_PER_ITEM = 50
export const TRENDING_LIMIT = 100
export const CART_LIMIT = 20
export const CANDIDATE_POOL = 100

const list = z
  .string()
  .max(4000)
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))

/** The query of GET /v1/recommendations. */
export const recommendationQuery = z.object({
  site: z.string().min(1).max(128),
  key: z.string().min(1).max(200),
  strategy: z.enum(STRATEGIES).default('for-you'),
  limit: z.coerce.number().int().min(1).max(50).default(8),
  anonymousId: z.string().max(200).optional(),
  item: z.string().max(200).optional(),
  category: z.string().max(128).optional(),
  cart: list.optional(),
  rules: z
    .string()
    .max(8000)
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' })
        return z.NEVER
      }
    })
    .pipe(rulesSchema)
    .optional(),
})

/** A request for recommendations, after validation. */
export type RecommendationRequest = z.infer<typeof recommendationQuery>


const LABELS: Record<Strategy, string> = {
  'for-you': 'Recommended for you',
  'also-viewed': 'Shoppers also viewed',
  'also-bought': 'Frequently bought together',
  cart: 'Goes well with your cart',
  trending: 'Trending now',
  'recently-viewed': 'Recently viewed',
  category: 'Picked from categories you like',
}

type Input = Pick<RecommendationRequest, 'strategy' | 'anonymousId' | 'item' | 'category' | 'cart'> & {
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
 * Loads what the strategy needs in three round trips of bounded size: the shopper's history and
 * trending items; the neighbours of the source items; then the catalog rows of every candidate.
 */
export async function loadModelData(db: D1Database, siteId: string, input: Input): Promise<ModelData & { dismissed: Set<string> }> {
  const { strategy, anonymousId, item, now } = input
  const cart = (input.cart ?? []).slice(0, CART_LIMIT)
  const first = await db.batch([
    anonymousId ? visitorHistory(db, siteId, anonymousId, HISTORY_LIMIT) : db.prepare('SELECT 1 WHERE 0'),
    anonymousId ? dismissedItems(db, siteId, anonymousId) : db.prepare('SELECT 1 WHERE 0'),
    trendingItems(db, siteId, TRENDING_LIMIT),
    newestItems(db, siteId, TRENDING_LIMIT),
    ...catalogItems(db, siteId, item ? [item] : ['']),
  ])
  type HistoryRow = { item_id: string; last_ts: number; views: number; adds: number; purchases: number; rating: number | null; dismissed: number }
  const history: HistoryItem[] = rows<HistoryRow>(first, 0).map((h) => ({
    item: h.item_id,
    lastTs: h.last_ts,
    views: h.views,
    adds: h.adds,
    purchases: h.purchases,
    rating: h.rating,
    dismissed: h.dismissed === 1,
  }))
  const dismissed = new Set(rows<{ item_id: string }>(first, 1).map((r) => r.item_id))
  const decay = (now - TREND_EPOCH) / TREND_TAU
  type TrendRow = { item_id: string; trend: number; category: string | null }
  const toTrend = (t: TrendRow) => ({ item: t.item_id, score: Math.exp(t.trend - decay), category: t.category })
  const trending = rows<TrendRow>(first, 2).map(toTrend)
  // A shop with little activity yet still fills its slots, with its newest items, scored below any trend.
  const hot = new Set(trending.map((t) => t.item))
  const newest = rows<{ id: string; category: string }>(first, 3)
    .filter((r) => !hot.has(r.id))
    .map((r, i) => ({ item: r.id, score: 1e-12 / (i + 1), category: r.category, isNew: true }))
  const contextItem = rows<ItemRow>(first, 4)[0]
  const category = input.category ?? contextItem?.category

  // Whose neighbours to read depends on the strategy.
  const personal = strategy === 'for-you' || strategy === 'category'
  const sources = [
    ...new Set(
      strategy === 'cart'
        ? cart
        : strategy === 'for-you' && history.length > 0
          ? history.map((h) => h.item)
          : item && strategy !== 'trending' && strategy !== 'recently-viewed'
            ? [item]
            : [],
    ),
  ]
  const kinds: Array<'seen' | 'bought'> = strategy === 'also-bought' || strategy === 'cart' ? ['seen', 'bought'] : ['seen']
  const historyRows = catalogItems(db, siteId, personal && history.length > 0 ? history.map((h) => h.item) : [''])
  const pairLists = kinds.flatMap((kind) => sources.map((source) => ({ kind, source })))
  const second = await db.batch([
    ...historyRows,
    category ? trendingItems(db, siteId, TRENDING_LIMIT, category) : db.prepare('SELECT 1 WHERE 0'),
    ...pairLists.map(({ kind, source }) => neighbourList(db, siteId, kind, source, NEIGHBOURS_PER_ITEM)),
    ...itemSupport(db, siteId, sources.length > 0 ? sources : ['']),
  ])
  const catalog = new Map<string, CatalogItem>()
  if (contextItem) catalog.set(contextItem.id, toCatalog(contextItem))
  historyRows.forEach((_, i) => rows<ItemRow>(second, i).forEach((r) => catalog.set(r.id, toCatalog(r))))
  let at = historyRows.length
  const categoryTrending = rows<TrendRow>(second, at++).map(toTrend)
  type PairRow = { item_id: string; weight: number; support: number }
  const seen = new Map<string, Neighbour[]>()
  const bought = new Map<string, Neighbour[]>()
  for (const { kind, source } of pairLists) {
    const neighbours = rows<PairRow>(second, at++).map((r) => ({ item: r.item_id, weight: r.weight, support: r.support }))
    ;(kind === 'seen' ? seen : bought).set(source, neighbours)
  }
  const support = new Map<string, number>()
  for (; at < second.length; at++) {
    for (const r of rows<{ item_id: string; visitors: number; buyers: number }>(second, at)) support.set(r.item_id, r.visitors)
  }

  // Category affinity reads trending items of the shopper's favourite categories too.
  const data: ModelData = { now, history, seen, bought, support, trending, catalog, context: { item, category, cart } }
  const favourites = personal
    ? [...categoryWeights(data)].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([c]) => c).filter((c) => c !== category)
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
  for (let i = favourites.length; i < third.length; i++) for (const r of rows<ItemRow>(third, i)) catalog.set(r.id, toCatalog(r))
  const byItem = new Map([...newest, ...trending, ...categoryTrending, ...favouriteTrending].map((t) => [t.item, t]))
  data.trending = [...byItem.values()].sort((a, b) => b.score - a.score)
  return { ...data, dismissed }
}

/** Runs the strategy, applies the rules and fills a short answer with trending items. */
export function recommend(data: ModelData, strategy: Strategy, rules: Rules, dismissed: Set<string>, limit: number): Scored[] {
  // Ask for a wide pool: rules may filter, boost and diversify before the cut.
  const pool = Math.max(limit * 4, CANDIDATE_POOL)
  const picked = RECOMMENDERS[strategy](data, pool)
  const fill = RECOMMENDERS.trending(data, pool).filter((t) => !picked.some((p) => p.item === t.item))
  const onScreen = new Set([...data.context.cart, ...(data.context.item ? [data.context.item] : [])])
  const shown = strategy === 'recently-viewed' ? picked : picked.filter((p) => !onScreen.has(p.item))
  const ranked = applyRules(shown, data.catalog, rules, dismissed, limit)
  if (ranked.length >= limit || strategy === 'recently-viewed') return ranked
  // Fill a short answer with popular items the shopper has not bought, disliked or dismissed,
  // scored below the last real pick.
  const skip = unwanted(data)
  const lowest = Math.min(...ranked.map((r) => r.score), 1)
  const extra = applyRules(
    fill.filter((f) => !skip.has(f.item)).map((f) => ({ ...f, score: (lowest * f.score) / (1 + f.score) })),
    data.catalog,
    { ...rules, pin: [], exclude: [...(rules.exclude ?? []), ...ranked.map((r) => r.item)] },
    dismissed,
    limit - ranked.length,
  )
  return [...ranked, ...extra.sort(byScore)]
}

/** GET /v1/recommendations: a strategy's items for a shopper, with reasons and a recommendation id. */
export default new Hono<AppEnv>().get('/', siteAuth('invalid query', recommendationQuery), async (c) => {
  const { site, input: req } = c.var
  const now = Date.now()
  const data = await loadModelData(c.env.DB, site.id, { ...req, now })
  const rules: Rules = { ...site.settings?.recommendations?.rules, ...req.rules }
  const items = recommend(data, req.strategy, rules, data.dismissed, req.limit)
  const answer: RecommendationAnswer = {
    id: randomId('rec'),
    strategy: req.strategy,
    label: LABELS[req.strategy],
    items: items.map(({ item, score, reasons }) => {
      const { inStock: _, ...meta } = data.catalog.get(item)!
      return { ...meta, score: Math.round(score * 1e4) / 1e4, reasons }
    }),
  }
  const log = logRecommendation(c.env.DB, site.id, {
    id: answer.id,
    visitor: req.anonymousId ?? null,
    strategy: req.strategy,
    items: answer.items.map((i) => i.id),
    at: now,
  })
  await afterResponse(c, log)
  return c.json(answer)
})
