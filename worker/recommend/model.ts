// What every recommender reads and returns, the helpers they share, and the model's tunables: each defined once,
// read by the recommenders and bound as parameters into the SQL that folds events (events/fold.ts).
import { EVENT_WEIGHTS } from '../../contract'

export { EVENT_WEIGHTS }

/** One item in the shopper's history, newest first. */
export interface HistoryItem {
  item: string
  lastTs: number
  views: number
  adds: number
  purchases: number
  rating: number | null
  dismissed: boolean
}

/** A co-occurring item and how many shoppers interacted with it (for cosine normalisation). */
export interface Neighbour {
  item: string
  weight: number
  support: number
}

/** Catalog facts a recommender may show or filter on. */
export interface CatalogItem {
  id: string
  title: string
  category: string
  price: number
  image: string | null
  inStock: boolean
}

/** Everything a recommender may read, loaded by the route for one request. */
export interface ModelData {
  now: number
  /** The shopper's items, newest first, bounded. */
  history: HistoryItem[]
  /** Items co-interacted with each source item ('seen' pairs), strongest first, bounded. */
  seen: Map<string, Neighbour[]>
  /** Items co-bought with each source item, strongest first, bounded. */
  bought: Map<string, Neighbour[]>
  /** Items shoppers opened next after each source item ('next' pairs, directed), strongest first, bounded. */
  next: Map<string, Neighbour[]>
  /** Shoppers who interacted with (or bought) each source item. */
  support: Map<string, number>
  /** Trending items, hottest first, with their current decayed score; `isNew` ones only fill. */
  trending: Array<{ item: string; score: number; category: string | null; isNew?: boolean }>
  /** Metadata of every item mentioned above. */
  catalog: Map<string, CatalogItem>
  /** Where the request comes from: the product on screen, the category page, the cart. */
  context: { item?: string; category?: string; cart: string[] }
}

/** A recommended item, its score and why. */
export interface Scored {
  item: string
  score: number
  reasons: string[]
}

/** A recommender: best items first, at most `limit`. */
export type Recommender = (data: ModelData, limit: number) => Scored[]

/** A source item's name for reasons: its title when known. */
export const titleOf = (data: ModelData, item: string) => data.catalog.get(item)?.title ?? item

/** Sums scored lists item by item, keeping each item's reasons in order of contribution (none of a zero one). */
export function merge(lists: Scored[][]): Scored[] {
  const byItem = new Map<string, { score: number; reasons: Array<[number, string]> }>()
  for (const list of lists) {
    for (const { item, score, reasons } of list) {
      const entry = byItem.get(item) ?? { score: 0, reasons: [] }
      entry.score += score
      // A signal weighted 0 (a tunable switched off) explains nothing.
      if (score !== 0) for (const reason of reasons) entry.reasons.push([score, reason])
      byItem.set(item, entry)
    }
  }
  return [...byItem].map(([item, { score, reasons }]) => ({
    item,
    score,
    reasons: [...new Set(reasons.sort((a, b) => b[0] - a[0]).map(([, r]) => r))].slice(0, 2),
  }))
}

/** Highest score first; ties by item id so answers are stable. */
export const byScore = (a: Scored, b: Scored) => b.score - a.score || (a.item < b.item ? -1 : 1)

/**
 * The tunables of "for you", as `npm run bench:quality` fitted them on the shop data set's validation split
 * (docs/benchmarks.md): 0 and 1 are values the fit chose, and each term stays for shops whose fit differs.
 */
export const FOR_YOU = {
  /** What an event kind says about taste: the shared event weights. */
  kinds: {
    purchase: EVENT_WEIGHTS['Order Completed'],
    add: EVENT_WEIGHTS['Product Added'],
    view: EVENT_WEIGHTS['Product Viewed'],
  },
  /** Ratings are graded signals: a low rating pushes similar items down. */
  ratings: { 1: -1, 2: -0.5, 3: 0.3, 4: 1.2, 5: 1.5 } as Record<number, number>,
  /** Each older item in the history counts this much less than the one after it. */
  recency: 0.85,
  /** Weight of the time-decayed popularity blended into personal scores. */
  trendBlend: 0.2,
  /** Weight of "opened next" transitions from the shopper's latest items, against co-occurrence's 1. */
  next: 32,
  /** Each older source of transitions counts this much less than the one after it. */
  nextRecency: 0.3,
  /** How many of the shopper's latest items transitions are read from. */
  nextSources: 1,
  /** Factor on the interest of items of the current visit (the device sends them). */
  visit: 1,
  /** Weight of category affinity (the trending items of the shopper's favourite categories). */
  affinity: 1,
}

/** Longest pause between two events of one visit, ms (the usual 30 minutes of web analytics). */
export const VISIT_GAP_MS = 30 * 60_000

/** What an item of the history says about taste, whatever its age: the event kind and the rating. */
export function taste(h: HistoryItem): number {
  const { kinds, ratings } = FOR_YOU
  const kind = h.purchases > 0 ? kinds.purchase : h.adds > 0 ? kinds.add : kinds.view
  return kind * (h.rating === null ? 1 : (ratings[h.rating] ?? 1))
}

/** How much one history item says about the shopper now. */
export const interest = (h: HistoryItem, position: number) => taste(h) * FOR_YOU.recency ** position

/** How many of the history's first (newest) items belong to the visit under way at `now`. */
export function visitLength(history: HistoryItem[], now: number): number {
  let at = now
  let count = 0
  for (const h of history) {
    if (at - h.lastTs > VISIT_GAP_MS) break
    at = h.lastTs
    count++
  }
  return count
}

// Trend scores use forward decay: an event of weight w at ts adds w * exp(trendAt(ts)), summed in log space
// (the fold computes trendAt in SQL from the same two bound constants), so a stored score never needs rewriting;
// dividing by exp(trendAt(now)) at read time turns the sum into one decayed by age. Trends are only ever compared,
// so where that division would leave what a double holds (a replay whose store holds later events than `now`, or
// a site idle for decades), one common reference near the hottest trend keeps every ratio exact instead.
/** Forward-decay epoch and time constant of item trend scores (half-life 7 days). */
export const TREND_EPOCH = Date.UTC(2020, 0, 1)
export const TREND_TAU = (7 * 24 * 3600_000) / Math.LN2
/** The log-space trend of one unit-weight event at `ts` (what the fold writes: `(ts - TREND_EPOCH) / TREND_TAU`). */
export const trendAt = (ts: number) => (ts - TREND_EPOCH) / TREND_TAU
/** Widest gap in log units between the hottest trend and the reference: exp(-700) is still a normal double. */
const TREND_RANGE = 700
/** The log-space trend the fold stores for an item with no counted event: it scores 0 against any reference. */
export const NO_TREND = -1e308
/** The log-space level trends are read against: `now`'s, moved just enough that the hottest stays in (e^-700, 1]. */
export const trendReference = (hottest: number, now: number) =>
  hottest > NO_TREND ? hottest + Math.min(Math.max(trendAt(now) - hottest, 0), TREND_RANGE) : trendAt(now)
/** A stored log-space trend as its decayed score against a reference (trendReference): finite at any time scale. */
export const trendScore = (trend: number, reference: number) => Math.exp(trend - reference)
/** How many of a shopper's most recent items a new item is paired with. */
export const PAIR_WINDOW = 30

/**
 * "Opened next" transitions: a shopper-item's first event links from the shopper's latest other item before it,
 * weighted `halfAfterMs / (halfAfterMs + gap)` (half at 10 minutes), and not at all after `withinMs`.
 */
export const NEXT = { halfAfterMs: 600_000, withinMs: 86_400_000 } as const

// Poisoning defences. A fresh anonymous id costs an attacker nothing; time on our clock and a real
// history do. So a browser in its first day with fewer than 10 items counts a tenth of one that came
// back later or browsed 10 items; a rating sent with no view, cart add or order of the item in an
// earlier request (a bot sends them at once) counts a tenth again; a shopper-item enters co-occurrence
// and support once, a rating counts once, a repeated view, add or order moves the trend at most daily,
// and a browser brings at most 1,000 new items a day into the shared model (people browse far fewer).
// What is held back is still stored and in the shopper's own items. Cheap: one visitors row per
// shopper and one visitor_items row per shopper-item are read per batch, on the server's clock.
/** What a shopper's events may move in the shared model, in units of a first visit (only ratios matter). */
export const TRUST = {
  /** Weight of a browser with a history: back `returnAfterMs` after its first event, or `historyItems` items. */
  established: 10,
  returnAfterMs: 86_400_000,
  historyItems: 10,
  /** Factor of a shopper-item first rated with no earlier view, cart add or order of it. */
  unviewedRating: 0.1,
  /** New items one browser may bring into the shared model per day (UTC, server clock). */
  dailyItems: 1000,
  /** How long before a repeated view, cart add or order of a shopper-item counts in the trend again. */
  repeatAfterMs: 86_400_000,
} as const
