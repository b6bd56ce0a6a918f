import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { VistaEvent } from '../../../contract'
import { upsertItems, upsertSite } from '../../../worker/admin/store'
import { storeEvents, type EventRow } from '../../../worker/events/store'
import { TRUST } from '../../../worker/recommend/model'
import { readBatch } from '../../../worker/events/ingest'
import type { Strategy } from '../../../contract'
import { RECOMMENDERS } from '../../../worker/recommend/strategies'
import { loadModelData, uncached } from '../../../worker/recommend/load'
import { makeEvent, SITE } from '../../fixtures/events'

const DAY = 86_400_000
const MINUTE = 60_000
const NOW = Date.now()

type Delivery = { at: number; events: VistaEvent[] }

/** One request's rows, as the Worker reads them when it receives the request at `at`. */
function read(site: string, { at, events }: Delivery): EventRow[] {
  const batch = readBatch({ site, key: SITE.key, sentAt: at, events }, at)
  if (!batch.ok) throw new Error(JSON.stringify(batch.issues))
  return batch.value.rows
}

/** Stores one request received at `at`. */
const deliver = (site: string, events: VistaEvent[], at = Math.max(...events.map((e) => e.timestamp))) =>
  storeEvents(env.DB, site, read(site, { at, events }))

/**
 * Stores requests in time order, indexing several in one transaction when no browser repeats: the
 * indexer then sees exactly what it would see request by request, in a fraction of the time.
 */
async function deliverAll(site: string, requests: Delivery[]) {
  let rows: EventRow[] = []
  let browsers = new Set<string>()
  for (const request of [...requests].sort((a, b) => a.at - b.at)) {
    const browser = request.events[0]!.anonymousId
    if (browsers.has(browser) || rows.length + request.events.length > 500) {
      await storeEvents(env.DB, site, rows)
      ;[rows, browsers] = [[], new Set()]
    }
    rows.push(...read(site, request))
    browsers.add(browser)
  }
  await storeEvents(env.DB, site, rows)
}

const as = (anonymousId: string, timestamp: number) => ({
  anonymousId,
  timestamp,
  sessionId: `${anonymousId}-${Math.floor(timestamp / DAY)}`,
})
const view = (who: string, item: string, at: number) => makeEvent('Product Viewed', { product_id: item }, as(who, at))
const add = (who: string, item: string, at: number) => makeEvent('Product Added', { product_id: item }, as(who, at))
const rate = (who: string, item: string, rating: number, at: number) =>
  makeEvent('Product Reviewed', { product_id: item, rating }, as(who, at))
const order = (who: string, items: string[], at: number) =>
  makeEvent(
    'Order Completed',
    { order_id: `o-${who}-${at}`, revenue: 10 * items.length, products: items.map((product_id) => ({ product_id })) },
    as(who, at),
  )

/** A small deterministic generator (mulberry32), so the shop is the same on every run. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// A catalog of 80 items in 4 categories with Zipf popularity: ITEMS[0] is the best seller.
const CATEGORIES = ['tea', 'coffee', 'kitchen', 'books']
const ITEMS = Array.from({ length: 80 }, (_, rank) => `${CATEGORIES[rank % 4]}-${String(rank).padStart(2, '0')}`)
const ANCHOR = ITEMS[0]!
const TARGET = ITEMS[72]! // same category as the anchor, and almost nobody's choice
const REGULAR = 'regular' // an honest returning shopper who looked at the anchor: whose "for you" we watch

/** The honest shop: 300 shoppers over four weeks, one request per visit, ratings sent on a later visit. */
function honestShop(): Delivery[] {
  const next = random(42)
  const zipf = ITEMS.map((_, rank) => 1 / (rank + 1))
  const pick = (category?: string) => {
    const pool = ITEMS.map((item, rank) => [item, zipf[rank]!] as const).filter(
      ([item]) => !category || item.startsWith(category),
    )
    let r = next() * pool.reduce((sum, [, w]) => sum + w, 0)
    for (const [item, w] of pool) if ((r -= w) <= 0) return item
    return pool[0]![0]
  }
  const requests: Delivery[] = []
  for (let s = 0; s < 300; s++) {
    const who = `shopper-${s}`
    const favourite = CATEGORIES[Math.floor(next() * 4)]!
    const visits = 1 + Math.floor(next() ** 2 * 4)
    const days = [...new Set(Array.from({ length: visits }, () => 2 + Math.floor(next() * 26)))].sort((a, b) => b - a)
    let toRate: string[] = []
    for (const day of days) {
      let at = NOW - day * DAY + Math.floor(next() * 8) * 3600_000
      const events: VistaEvent[] = toRate.map((item) => rate(who, item, 3 + Math.floor(next() * 3), (at += MINUTE)))
      const seen = new Set<string>()
      for (let n = 2 + Math.floor(next() * 6); n > 0; n--) seen.add(pick(next() < 0.7 ? favourite : undefined))
      for (const item of seen) events.push(view(who, item, (at += MINUTE)))
      const cart = [...seen].filter(() => next() < 0.25)
      for (const item of cart) events.push(add(who, item, (at += MINUTE)))
      if (cart.length > 0 && next() < 0.6) events.push(order(who, cart, (at += MINUTE)))
      toRate = cart.filter(() => next() < 0.5)
      requests.push({ at, events })
    }
  }
  // The regular browsed two tea items three days ago and came back yesterday for the anchor.
  const earlier = [ITEMS[4]!, ITEMS[8]!].map((item, i) => view(REGULAR, item, NOW - 3 * DAY + i * MINUTE))
  requests.push({ at: NOW - 3 * DAY + MINUTE, events: earlier })
  requests.push({ at: NOW - DAY, events: [view(REGULAR, ANCHOR, NOW - DAY)] })
  return requests
}

const FAKES = 200

/** The push: fresh ids at bot speed, one request each; half view the target, all rate it 5 stars. */
const attack = () =>
  Array.from({ length: FAKES }, (_, i) => {
    const who = `fake-${i}`
    const at = NOW - MINUTE + i * 10
    const events = [view(who, ANCHOR, at)]
    if (i % 2 === 0) events.push(view(who, TARGET, at + 1))
    events.push(rate(who, TARGET, 5, at + 2))
    return { at: at + 2, events }
  })

/** The same events from shoppers with a history (a visit three days ago), paced like people, ratings last. */
const honestPush = () =>
  Array.from({ length: FAKES }, (_, i): Delivery[] => {
    const who = `fan-${i}`
    const at = NOW - 30 * MINUTE + i * 5
    const history = [ITEMS[1 + (i % 20)]!, ITEMS[21 + (i % 20)]!, ITEMS[41 + (i % 20)]!].map((item, n) =>
      view(who, item, NOW - 3 * DAY + i * 1000 + n * MINUTE),
    )
    const requests = [
      { at: history.at(-1)!.timestamp, events: history },
      { at, events: [view(who, ANCHOR, at)] },
    ]
    if (i % 2 === 0) requests.push({ at: at + 2 * MINUTE, events: [view(who, TARGET, at + 2 * MINUTE)] })
    requests.push({ at: at + 10 * MINUTE, events: [rate(who, TARGET, 5, at + 10 * MINUTE)] })
    return requests
  }).flat()

type Placement = { strategy: Strategy; item?: string; anonymousId?: string }
const PLACEMENTS: Record<string, Placement> = {
  trending: { strategy: 'trending' },
  'also viewed with the anchor': { strategy: 'also-viewed', item: ANCHOR },
  'also bought with the anchor': { strategy: 'also-bought', item: ANCHOR },
  'for you (a regular)': { strategy: 'for-you', anonymousId: REGULAR },
}

/** The co-occurrence weight of the anchor and the target. */
const pairWeight = async (site: string) =>
  (
    await env.DB.prepare("SELECT weight FROM item_pairs WHERE site_id = ? AND kind = 'seen' AND a = ? AND b = ?")
      .bind(site, ANCHOR, TARGET)
      .first<{ weight: number }>()
  )?.weight ?? 0

/** Where the target ranks (1 = first; Infinity when absent) and its score, in each placement. */
async function standing(site: string) {
  const out: Record<string, { rank: number; score: number }> = {}
  for (const [name, p] of Object.entries(PLACEMENTS)) {
    const data = await loadModelData(uncached(env.DB, site), { ...p, cart: [], now: NOW })
    const list = RECOMMENDERS[p.strategy].recommend(data, ITEMS.length)
    const at = list.findIndex((s) => s.item === TARGET)
    out[name] = { rank: at < 0 ? Infinity : at + 1, score: at < 0 ? 0 : list[at]!.score }
  }
  return out
}

const ATTACKED = 'shop-attacked'
const CONTROL = 'shop-control'

describe('a push attack of fake profiles', () => {
  let before: Awaited<ReturnType<typeof standing>>
  let attacked: typeof before
  let control: typeof before
  const pairs = { before: 0, attacked: 0, control: 0 }

  beforeAll(async () => {
    const catalog = ITEMS.map((id, rank) => ({
      id,
      title: id,
      category: CATEGORIES[rank % 4]!,
      price: 10,
      image: null,
      description: null,
      in_stock: 1,
    }))
    for (const site of [ATTACKED, CONTROL]) {
      await upsertSite(env.DB, { id: site, name: site, keyHash: '0'.repeat(64), origins: [] })
      await upsertItems(env.DB, site, catalog)
      await deliverAll(site, honestShop())
    }
    before = await standing(ATTACKED)
    pairs.before = await pairWeight(ATTACKED)
    await deliverAll(ATTACKED, attack())
    await deliverAll(CONTROL, honestPush())
    attacked = await standing(ATTACKED)
    control = await standing(CONTROL)
    pairs.attacked = await pairWeight(ATTACKED)
    pairs.control = await pairWeight(CONTROL)
  }, 120_000)

  it('starts from a cold target, outside the top 10 everywhere', () => {
    for (const { rank } of Object.values(before)) expect(rank).toBeGreaterThan(10)
  })

  it('would move the target to the top had the same events come from shoppers with a history', () => {
    expect(control.trending!.rank).toBeLessThanOrEqual(3)
    expect(control['also viewed with the anchor']!.rank).toBeLessThanOrEqual(3)
    expect(control['for you (a regular)']!.rank).toBeLessThanOrEqual(3)
  })

  it('keeps the target out of the top 10 of every list', () => {
    for (const { rank } of Object.values(attacked)) expect(rank).toBeGreaterThan(10)
  })

  it('moves the target a small fraction of what the same events from real shoppers move it', () => {
    expect((pairs.attacked - pairs.before) / (pairs.control - pairs.before)).toBeLessThan(0.1)
    for (const name of ['trending', 'also viewed with the anchor', 'for you (a regular)']) {
      const gained = attacked[name]!.score - before[name]!.score
      const counterfactual = control[name]!.score - before[name]!.score
      expect(gained / counterfactual, name).toBeLessThan(0.1)
    }
  })
})

describe('poisoning defences', () => {
  const site = 'shop-defences'
  const stats = (item: string) =>
    env.DB.prepare('SELECT visitors, views, trend FROM item_stats WHERE site_id = ? AND item_id = ?')
      .bind(site, item)
      .first<{ visitors: number; views: number; trend: number }>()

  beforeAll(() => upsertSite(env.DB, { id: site, name: site, keyHash: '0'.repeat(64), origins: [] }))

  it('counts one rating per shopper and item, however often it is changed', async () => {
    const t = NOW - DAY
    await deliver(site, [view('once', 'r-once', t)])
    await deliver(site, [view('often', 'r-often', t)])
    await deliver(site, [rate('once', 'r-once', 5, t + MINUTE)])
    for (const [i, rating] of [5, 1, 5, 4].entries()) {
      await deliver(site, [rate('often', 'r-often', rating, t + (i + 1) * MINUTE)])
    }
    const [once, often] = [(await stats('r-once'))!, (await stats('r-often'))!]
    expect(often.visitors).toBe(once.visitors)
    expect(often.trend).toBeCloseTo(once.trend, 9)
    const kept = await env.DB.prepare('SELECT rating FROM visitor_items WHERE site_id = ? AND anonymous_id = ?')
      .bind(site, 'often')
      .first()
    expect(kept).toEqual({ rating: 4 })
  })

  it('weighs a rating with no earlier view a tenth, in support and trend', async () => {
    const t = NOW - DAY
    await deliver(site, [view('viewer', 'u-viewed', t)])
    await deliver(site, [rate('viewer', 'u-viewed', 5, t + MINUTE)])
    await deliver(site, [view('hasty', 'u-hasty', t), rate('hasty', 'u-hasty', 5, t + MINUTE)]) // one request
    await deliver(site, [rate('blind', 'u-blind', 5, t + MINUTE)])
    const [viewed, hasty, blind] = [(await stats('u-viewed'))!, (await stats('u-hasty'))!, (await stats('u-blind'))!]
    expect(viewed.visitors).toBe(1)
    expect(hasty.visitors).toBeCloseTo(TRUST.unviewedRating, 9)
    expect(blind.visitors).toBeCloseTo(TRUST.unviewedRating, 9)
    expect(Math.exp(hasty.trend - viewed.trend)).toBeCloseTo(TRUST.unviewedRating, 6)
  })

  it('moves the trend once a day however often one browser views an item', async () => {
    const t = NOW - 2 * DAY
    await deliver(site, [view('reader', 'v-once', t)])
    for (let i = 0; i < 30; i++) await deliver(site, [view('refresher', 'v-often', t + i * 1000)])
    await deliver(site, [view('refresher', 'v-often', t + DAY + MINUTE)])
    await deliver(site, [view('reader', 'v-once', t + DAY + MINUTE)])
    const [once, often] = [(await stats('v-once'))!, (await stats('v-often'))!]
    expect(often.views).toBe(31)
    expect(often.trend).toBeCloseTo(once.trend, 6)
  })

  it('lets one browser bring at most TRUST.dailyItems new items a day into the shared model', async () => {
    const items = Array.from({ length: TRUST.dailyItems + 20 }, (_, i) => `crawl-${i}`)
    const t = (Math.floor(NOW / DAY) - 3) * DAY + 3600_000 // 1 am, three days ago: the crawl stays in one day
    for (let i = 0; i < items.length; i += 100) {
      await deliver(
        site,
        items.slice(i, i + 100).map((item, j) => view('crawler', item, t + i + j)),
      )
    }
    const own = await env.DB.prepare('SELECT COUNT(*) AS n FROM visitor_items WHERE site_id = ? AND anonymous_id = ?')
      .bind(site, 'crawler')
      .first()
    expect(own).toEqual({ n: items.length })
    expect((await stats(items[TRUST.dailyItems - 1]!))!.visitors).toBeGreaterThan(0)
    expect(await stats(items[TRUST.dailyItems]!)).toMatchObject({ visitors: 0, views: 1, trend: -1e308 })
    const pairs = await env.DB.prepare('SELECT COUNT(*) AS n FROM item_pairs WHERE site_id = ? AND (a = ? OR b = ?)')
      .bind(site, items.at(-1), items.at(-1))
      .first()
    expect(pairs).toEqual({ n: 0 })
    // The next day brings a fresh budget.
    await deliver(site, [view('crawler', 'crawl-next-day', t + DAY)])
    expect((await stats('crawl-next-day'))!.visitors).toBeGreaterThan(0)
  }, 60_000)
})
