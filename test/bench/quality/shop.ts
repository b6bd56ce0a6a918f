// A seeded synthetic shop for the quality race. No public e-commerce session log is reachable from the npm
// registry, so we build one whose structure is known: skewed popularity, per-shopper taste, a directed
// next-item graph within visits, complements after cart adds, and orders of the cart.
import { type Interaction, seeded } from './protocol'

/** The generator's knobs; these defaults build the benchmark's data set. */
export const SHOP = {
  seed: 1,
  users: 3000,
  items: 2000,
  categories: 40,
  /** Visits spread over `days` days from `start` (Unix ms). */
  start: Date.UTC(2026, 0, 1),
  days: 60,
  /** Zipf exponents of popularity across categories and within one. */
  categoryZipf: 0.8,
  itemZipf: 1,
  /** Visits per shopper: geometric (each one more with this probability), truncated at `maxVisits`. */
  moreVisits: 0.82,
  maxVisits: 8,
  /** Events per visit, checkout included; `lengthTilt` < 1 favours longer visits. */
  minEvents: 3,
  maxEvents: 15,
  lengthTilt: 0.7,
  /** Favourite categories per shopper (1 to this), and the chance per later visit that one is swapped. */
  maxFavourites: 3,
  drift: 0.15,
  /** Successors per item in the next-item graph, and the share of edges inside the item's category. */
  minNext: 3,
  maxNext: 5,
  nextInCategory: 0.8,
  /** Accessory categories per category (cross-category edges and most complements land there). */
  accessories: 2,
  /** Complements per item, and the share of them in an accessory category. */
  complements: 2,
  complementsElsewhere: 0.7,
  /** The next view: after an add, a complement of it; else a re-view; else a graph successor; else a fresh pick. */
  pComplement: 0.5,
  pReview: 0.04,
  pFollow: 0.55,
  /** A fresh pick comes from the shopper's favourites with this probability, else by popularity. */
  pTaste: 0.7,
  /** A view becomes a cart add: by default, in a favourite category, and for a complement of the cart. */
  pAdd: 0.06,
  pAddTaste: 0.18,
  pAddComplement: 0.4,
  /** Share of visits meant to order: they end with every cart item bought at one checkout time. */
  pOrder: 0.35,
  /** Median seconds between events of a visit and median hours between visits (lognormal, these spreads). */
  gapSeconds: 40,
  gapSpread: 0.8,
  visitGapHours: 36,
  visitGapSpread: 1,
}

/** The generator's knobs (defaults are the benchmark's data set). */
export type ShopOptions = Partial<typeof SHOP>

/** A generated shop: its log in time order, its catalog, the hidden structure and how it was built. */
export interface ShopData {
  interactions: Interaction[]
  catalog: Map<string, { category: string; price: number }>
  /** The ground truth: each item's successors (most likely first) and complements. */
  truth: { next: Map<string, string[]>; complements: Map<string, string[]> }
  description: string
}

const id = (prefix: string, n: number, width: number) => prefix + String(n).padStart(width, '0')
const zipf = (n: number, s: number) => Array.from({ length: n }, (_, r) => 1 / (r + 1) ** s)

/** Draws an index with probability proportional to its weight. */
function sampler(weights: number[]): (u: number) => number {
  const cum: number[] = []
  let total = 0
  for (const w of weights) cum.push((total += w))
  // A linear scan: every list drawn from here is short (a category's items, an item's successors).
  return (u) => cum.findIndex((c) => c > u * total)
}

/** A seeded synthetic e-commerce log with known structure (see `SHOP` and the returned description). */
export function generateShop(options: ShopOptions = {}): ShopData {
  const o = { ...SHOP, ...options }
  const rng = seeded(o.seed)
  const int = (n: number) => Math.floor(rng() * n)
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng())
  const lognormal = (median: number, spread: number) => median * Math.exp(spread * normal())
  const itemIds = Array.from({ length: o.items }, (_, i) => id('p', i + 1, 4))
  const catIds = Array.from({ length: o.categories }, (_, c) => id('c', c + 1, 2))

  // Shuffled, so an item's id reveals neither its category nor its popularity rank.
  const order = itemIds.map((_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = int(i + 1)
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const members = catIds.map((_, c) => order.filter((_, k) => k % o.categories === c))
  const categoryOf = new Array<number>(o.items)
  members.forEach((list, c) => list.forEach((i) => (categoryOf[i] = c)))
  const pickCategory = sampler(zipf(o.categories, o.categoryZipf))
  const withinCat = members.map((list) => sampler(zipf(list.length, o.itemZipf)))
  // Graph targets lean on popularity only half as much, so following the graph is not popularity again.
  const edgeTarget = members.map((list) => sampler(zipf(list.length, o.itemZipf / 2)))
  const fromCategory = (c: number) => members[c]![withinCat[c]!(rng())]!
  const popular = () => fromCategory(pickCategory(rng()))

  const catalog = new Map<string, { category: string; price: number }>()
  const basePrice = catIds.map(() => lognormal(30, 1))
  itemIds.forEach((item, i) => {
    const price = Math.max(1, Math.round(basePrice[categoryOf[i]!]! * Math.exp(0.4 * normal()) * 100) / 100)
    catalog.set(item, { category: catIds[categoryOf[i]!]!, price })
  })

  const accessoriesOf = catIds.map((_, c) => {
    const others = new Set<number>()
    while (others.size < Math.min(o.accessories, o.categories - 1)) {
      const d = int(o.categories)
      if (d !== c) others.add(d)
    }
    return [...others]
  })
  const elsewhere = (c: number) => accessoriesOf[c]![int(accessoriesOf[c]!.length)] ?? c
  const next: number[][] = itemIds.map(() => [])
  const complements: number[][] = itemIds.map(() => [])
  for (let i = 0; i < o.items; i++) {
    const c = categoryOf[i]!
    const degree = o.minNext + int(o.maxNext - o.minNext + 1)
    for (let tries = 0; next[i]!.length < degree && tries < 20 * degree; tries++) {
      const d = rng() < o.nextInCategory ? c : elsewhere(c)
      const j = members[d]![edgeTarget[d]!(rng())]!
      // No edge gets its reverse, so the graph is directed in fact, not only in name.
      if (j !== i && !next[i]!.includes(j) && !next[j]!.includes(i)) next[i]!.push(j)
    }
    for (let tries = 0; complements[i]!.length < o.complements && tries < 20; tries++) {
      const j = fromCategory(rng() < o.complementsElsewhere ? elsewhere(c) : c)
      if (j !== i && !complements[i]!.includes(j)) complements[i]!.push(j)
    }
  }
  // Truncated rather than clamped, so no spike of shoppers sits at `maxVisits`.
  const visitCount = sampler(Array.from({ length: o.maxVisits }, (_, k) => o.moreVisits ** k))
  const successor = Array.from({ length: o.maxNext + 1 }, (_, n) => sampler(zipf(n, 1)))

  const events: Interaction[] = []
  let sessions = 0
  let orders = 0
  const span = o.days * 86_400_000
  for (let u = 0; u < o.users; u++) {
    const user = id('s', u + 1, 4)
    const favourites: number[] = []
    const addFavourite = () => {
      let c = pickCategory(rng())
      while (favourites.includes(c)) c = pickCategory(rng())
      favourites.push(c)
    }
    const wanted = Math.min(1 + int(o.maxFavourites), o.categories)
    while (favourites.length < wanted) addFavourite()
    const pickTaste = sampler(favourites.map(() => 0.5 + rng()))

    const visits = 1 + visitCount(rng())
    const gaps = Array.from({ length: visits - 1 }, () => lognormal(o.visitGapHours * 3_600_000, o.visitGapSpread))
    const planned = gaps.reduce((a, b) => a + b, 0)
    const squeeze = Math.min(1, (0.9 * span) / (planned || 1))
    let t = o.start + rng() * (span - planned * squeeze)

    for (let v = 0; v < visits; v++) {
      if (v > 0) {
        t += gaps[v - 1]! * squeeze
        if (rng() < o.drift) {
          favourites.splice(int(favourites.length), 1)
          addFavourite()
        }
      }
      const session = `${user}-${v + 1}`
      sessions++
      const length = o.minEvents + Math.floor((o.maxEvents - o.minEvents + 1) * rng() ** o.lengthTilt)
      const ordering = rng() < o.pOrder
      const viewed: number[] = []
      const cart: number[] = []
      let count = 0
      let added = -1
      const emit = (item: number, kind: Interaction['kind']) => {
        events.push({ user, item: itemIds[item]!, kind, ts: Math.round(t), session, tie: rng(), line: -1 })
        count++
      }
      const fresh = () => {
        let item: number
        let tries = 0
        do item = rng() < o.pTaste ? fromCategory(favourites[pickTaste(rng())]!) : popular()
        while (viewed.includes(item) && ++tries < 10)
        return item
      }
      const pickNext = (): [number, boolean] => {
        const last = viewed.at(-1)
        if (last === undefined) return [fresh(), false]
        if (added >= 0 && rng() < o.pComplement) {
          const item = complements[added]!.find((j) => !viewed.includes(j))
          if (item !== undefined) return [item, true]
        }
        const earlier = viewed.filter((j) => j !== last)
        if (earlier.length > 0 && rng() < o.pReview) return [earlier[int(earlier.length)]!, false]
        if (rng() < o.pFollow) {
          const out = next[last]!
          const pick = out[successor[out.length]!(rng())]
          const item = pick !== undefined && !viewed.includes(pick) ? pick : out.find((j) => !viewed.includes(j))
          if (item !== undefined) return [item, false]
        }
        return [fresh(), false]
      }
      const pause = () => (t += Math.max(1000, lognormal(o.gapSeconds * 1000, o.gapSpread)))
      while (count + (ordering ? cart.length : 0) < length) {
        if (count > 0) pause()
        const [item, complement] = pickNext()
        added = -1
        viewed.push(item)
        emit(item, 'view')
        const room = ordering ? count + cart.length + 2 <= length : count < length
        const taste = favourites.includes(categoryOf[item]!)
        const p = complement ? o.pAddComplement : taste ? o.pAddTaste : o.pAdd
        if (room && !cart.includes(item) && rng() < p) {
          pause()
          emit(item, 'add')
          cart.push(item)
          added = item
        }
      }
      if (ordering && cart.length > 0) {
        pause()
        orders++
        for (const item of cart) emit(item, 'buy')
      }
      // A visit that ran long must not overlap the next one.
      t += 600_000
    }
  }

  events.sort((a, b) => a.ts - b.ts || a.tie - b.tie)
  events.forEach((e, line) => (e.line = line))
  const byKind = (kind: Interaction['kind']) => events.filter((e) => e.kind === kind).length
  const named = (lists: number[][]) => new Map(lists.map((list, i) => [itemIds[i]!, list.map((j) => itemIds[j]!)]))
  const description =
    `A synthetic shop (seed ${o.seed}): ${o.users} shoppers, ${o.items} products in ${o.categories} categories, ` +
    `${sessions} visits and ${events.length} events (${byKind('view')} views, ${byKind('add')} cart adds, ` +
    `${byKind('buy')} ordered items) over ${o.days} days from ${new Date(o.start).toISOString().slice(0, 10)}. ` +
    `Popularity is Zipf-like (exponent ${o.categoryZipf} across categories, ${o.itemZipf} within one). ` +
    `Each shopper favours 1-${o.maxFavourites} categories, one swapped with probability ${o.drift} per later visit. ` +
    `A visit holds ${o.minEvents}-${o.maxEvents} events about ${o.gapSeconds} s apart; visits are about ` +
    `${o.visitGapHours} h apart. Each next view follows a sparse directed graph (${o.minNext}-${o.maxNext} ` +
    `successors per product, ${o.nextInCategory * 100}% in its category, the rest in accessory categories, ` +
    `no edge with its reverse) with probability ${o.pFollow}, is a re-view with probability ${o.pReview}, and is ` +
    `otherwise a fresh pick (from the shopper's favourites with probability ${o.pTaste}, else by popularity); ` +
    `after a cart add it is one of that product's ${o.complements} complements with probability ${o.pComplement}. ` +
    `A view becomes an add with probability ${o.pAdd} (${o.pAddTaste} in a favourite category, ` +
    `${o.pAddComplement} for a complement); a visit meant to order (probability ${o.pOrder}) ends by ` +
    `ordering its cart, if not empty (${orders} orders).`
  return { interactions: events, catalog, truth: { next: named(next), complements: named(complements) }, description }
}
