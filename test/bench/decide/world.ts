// The bench's world: the site, the actions, the hidden acceptance rates, the shoppers and their seeded histories.
import type { EventType, VistaEvent } from '../../../contract'
import type { Condition } from '../../../worker/decide/conditions'
import { storeEvents } from '../../../worker/events/store'
import { readBatch } from '../../../worker/events/ingest'
import { actionSchema, type Action } from '../../../worker/decide/engine'

export const SITE = { id: 'bench-decide', key: 'pk_bench_decide_0123456789' }
export const DAY = 86_400_000
/** Visits in one browser batch: their page views and impressions, and the previous batch's answers. */
export const TICK = 25
/** Visits per shopper on average, so the contact policy's caps and rests come into play. */
export const VISITS = 5
/** Share of unaccepted offers the shopper closes (two of them rest the action for 30 days). */
export const DISMISS = 0.3
/** Decide requests in flight at once within a batch of visits. */
export const CONCURRENCY = 8

export const TYPES = ['new', 'active', 'at-risk', 'lapsed'] as const
export type ShopperType = (typeof TYPES)[number]
export const TYPE_SHARES = [0.3, 0.35, 0.2, 0.15]
export const PAGES = ['home', 'category', 'product', 'cart']
export const CART: Record<ShopperType, number> = { new: 80, active: 150, 'at-risk': 120, lapsed: 100 }

export const offer = (id: string, title: string, value: number, when: Condition): Action =>
  actionSchema.parse({ id, title, text: title, placement: 'banner', value, when })

export const ACTIONS: Action[] = [
  offer('welcome', '10% off your first order', 8, { lifecycle: 'new' }),
  offer('shipping', 'Free shipping over 50', 6, { 'cart.total': { $gte: 50 } }),
  offer('winback', 'We miss you: 15% off', 12, { lifecycle: { $in: ['at-risk', 'lapsed', 'reactivated'] } }),
  offer('vip', 'Early access to the new season', 25, { 'profile.orders': { $gte: 4 } }),
  offer('bundle', 'Complete the look', 10, { 'page.type': { $in: ['product', 'cart'] } }),
  offer('newsletter', 'Join the newsletter', 3, {}),
]
export const VALUE = new Map(ACTIONS.map((a) => [a.id, a.value]))

// The hidden truth, by action and shopper type, before and after the drift. The largest value is
// seldom the best bet, and halfway the best bet changes for new and active shoppers (the welcome
// code and bundles start to work, the newsletter and free shipping fade).
export type Rates = Record<string, Record<ShopperType, number>>
export const BEFORE = {
  welcome: { new: 0.08, active: 0.02, 'at-risk': 0.02, lapsed: 0.02 },
  shipping: { new: 0.1, active: 0.16, 'at-risk': 0.2, lapsed: 0.12 },
  winback: { new: 0.01, active: 0.02, 'at-risk': 0.05, lapsed: 0.08 },
  vip: { new: 0.01, active: 0.02, 'at-risk': 0.01, lapsed: 0.01 },
  bundle: { new: 0.03, active: 0.06, 'at-risk': 0.02, lapsed: 0.02 },
  newsletter: { new: 0.3, active: 0.05, 'at-risk': 0.04, lapsed: 0.03 },
} satisfies Rates
export const AFTER: Rates = {
  ...BEFORE,
  welcome: { ...BEFORE.welcome, new: 0.2 },
  shipping: { ...BEFORE.shipping, active: 0.04 },
  bundle: { ...BEFORE.bundle, active: 0.16 },
  newsletter: { ...BEFORE.newsletter, new: 0.05 },
}

export interface Shopper {
  id: string
  type: ShopperType
}

export const pick = <T>(xs: readonly T[], rand: () => number) => xs[Math.floor(rand() * xs.length)]!

export const pageContext = (page: string, url = `https://shop.example/${page}`): VistaEvent['context'] => ({
  page: { url, path: `/${page}` },
  device: 'desktop',
  viewport: { width: 1280, height: 800 },
})

export const event = (
  type: EventType,
  anonymousId: string,
  timestamp: number,
  properties: object,
  id: string,
): VistaEvent =>
  ({
    id,
    type,
    timestamp,
    anonymousId,
    userId: null,
    sessionId: `${anonymousId}-s`,
    context: pageContext('home'),
    properties,
  }) as VistaEvent

/** Histories that make each type's lifecycle stage: first and last seen, and orders between. */
export function history(s: Shopper, now: number, rand: () => number): VistaEvent[] {
  const days = (low: number, high: number) => now - Math.round((low + rand() * (high - low)) * DAY)
  const [first, last, orders] =
    s.type === 'new'
      ? [days(2, 25), now - DAY, 0]
      : s.type === 'active'
        ? [days(60, 200), days(2, 20), 2 + Math.floor(rand() * 7)]
        : s.type === 'at-risk'
          ? [days(200, 400), days(50, 100), 1 + Math.floor(rand() * 5)]
          : [days(300, 500), days(130, 300), 1 + Math.floor(rand() * 3)]
  const events = [
    event('Page Viewed', s.id, first, {}, `${s.id}-first`),
    event('Page Viewed', s.id, last, {}, `${s.id}-last`),
  ]
  for (let o = 0; o < orders; o++) {
    const at = first + Math.round(rand() * (last - first))
    const revenue = 20 + Math.round(rand() * 80)
    const products = [{ product_id: `p${Math.floor(rand() * 50)}`, price: revenue, quantity: 1 }]
    events.push(event('Order Completed', s.id, at, { order_id: `${s.id}-o${o}`, revenue, products }, `${s.id}-o${o}`))
  }
  return events
}

/** Stores the histories through the real ingestion, in batches that each arrive when their last event happened. */
export async function seedHistories(db: D1Database, events: VistaEvent[]) {
  const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp)
  let group: VistaEvent[] = []
  const flush = async () => {
    if (group.length === 0) return
    const at = group.at(-1)!.timestamp
    const batch = readBatch({ site: SITE.id, key: SITE.key, sentAt: at, events: group }, at)
    if (!batch.ok) throw new Error(`seed batch rejected: ${JSON.stringify(batch.issues.slice(0, 3))}`)
    await storeEvents(db, SITE.id, batch.value.rows)
    group = []
  }
  for (const e of sorted) {
    if (group.length >= 100 || (group.length > 0 && e.timestamp - group[0]!.timestamp > 15 * DAY)) await flush()
    group.push(e)
  }
  await flush()
}
