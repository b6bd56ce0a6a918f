// The shopper's profile on the device: a pure fold over their events, so the Worker can reuse it.
import type { EventProperties, VistaEvent } from '../contract'
import { MAX_RECENT, type RecentItem, type RecentKind } from '../contract/recent'

/** What the device knows about its shopper, updated on every event. */
export interface Profile {
  anonymousId: string
  userId: string | null
  traits: Record<string, unknown>
  firstSeen: number
  lastSeen: number
  /** Events recorded on this device. */
  events: number
  pageViews: number
  /** Sessions: runs of activity without a 30-minute gap. */
  sessions: number
  /** Visits: distinct calendar days (UTC) with activity. */
  visits: number
  lastSessionId: string | null
  lastVisitDay: string | null
  /** Products viewed, added, bought and rated, newest first, one per product and kind, at most MAX_RECENT. */
  recent: RecentItem[]
  /** Product id to quantity, as the shopper's cart holds it now. */
  cart: Record<string, number>
  /** Unit prices of the cart's products, as last tracked (for the cart's value). */
  cartPrices: Record<string, number>
  /** Product id to the shopper's latest rating, 1-5. */
  ratings: Record<string, number>
  /** Category to the number of product views, cart adds and purchases in it. */
  categories: Record<string, number>
  orders: number
  revenue: number
  /** Latest order ids, so a reloaded confirmation page is not counted twice. */
  orderIds: string[]
}

/** A profile with nothing in it yet. */
export const emptyProfile = (anonymousId: string): Profile => ({
  anonymousId,
  userId: null,
  traits: {},
  firstSeen: 0,
  lastSeen: 0,
  events: 0,
  pageViews: 0,
  sessions: 0,
  visits: 0,
  lastSessionId: null,
  lastVisitDay: null,
  recent: [],
  cart: {},
  cartPrices: {},
  ratings: {},
  categories: {},
  orders: 0,
  revenue: 0,
  orderIds: [],
})

type Product = EventProperties['Product Viewed']

/** Order ids remembered in `orderIds`. */
export const MAX_ORDER_IDS = 50

/** The profile after one more event; the input is not modified. */
export function applyEvent(profile: Profile, event: VistaEvent): Profile {
  if (event.type === 'Order Completed' && profile.orderIds.includes(event.properties.order_id)) {
    return profile
  }
  const p: Profile = {
    ...profile,
    cart: { ...profile.cart },
    cartPrices: { ...profile.cartPrices },
    ratings: { ...profile.ratings },
    categories: { ...profile.categories },
  }
  const day = new Date(event.timestamp).toISOString().slice(0, 10)
  p.events++
  p.firstSeen = p.firstSeen || event.timestamp
  p.lastSeen = Math.max(p.lastSeen, event.timestamp)
  if (event.userId) p.userId = event.userId
  if (event.sessionId !== p.lastSessionId) p.sessions++
  p.lastSessionId = event.sessionId
  if (day !== p.lastVisitDay) p.visits++
  p.lastVisitDay = day
  const countCategory = (product: Product) => {
    if (product.category) p.categories[product.category] = (p.categories[product.category] ?? 0) + 1
  }
  // A new array each time, so the input's stays as it was.
  const note = (id: string, kind: RecentKind, rating?: number) => {
    p.recent = [
      { id, kind, ts: event.timestamp, rating },
      ...p.recent.filter((r) => r.id !== id || r.kind !== kind),
    ].slice(0, MAX_RECENT)
  }
  switch (event.type) {
    case 'Page Viewed':
      p.pageViews++
      break
    case 'Product Viewed':
      note(event.properties.product_id, 'view')
      countCategory(event.properties)
      break
    case 'Product Added': {
      const { product_id, quantity = 1, price } = event.properties
      note(product_id, 'add')
      p.cart[product_id] = (p.cart[product_id] ?? 0) + quantity
      if (price !== undefined) p.cartPrices[product_id] = price
      countCategory(event.properties)
      break
    }
    case 'Product Removed': {
      const { product_id, quantity } = event.properties
      // Without a quantity, the whole line leaves the cart (a "remove" button).
      const left = quantity === undefined ? 0 : (p.cart[product_id] ?? 0) - quantity
      if (left > 0) p.cart[product_id] = left
      else {
        delete p.cart[product_id]
        delete p.cartPrices[product_id]
      }
      break
    }
    case 'Cart Viewed':
      // The site's own cart is the truth: a snapshot replaces what the events added up to.
      p.cart = Object.fromEntries(event.properties.products.map((x) => [x.product_id, x.quantity ?? 1]))
      p.cartPrices = Object.fromEntries(
        event.properties.products.flatMap((x) => (x.price === undefined ? [] : [[x.product_id, x.price]])),
      )
      break
    case 'Order Completed':
      p.orderIds = [event.properties.order_id, ...p.orderIds].slice(0, MAX_ORDER_IDS)
      p.orders++
      p.revenue = Math.round((p.revenue + event.properties.revenue) * 100) / 100
      p.cart = {}
      p.cartPrices = {}
      for (const product of event.properties.products) {
        note(product.product_id, 'buy')
        countCategory(product)
      }
      break
    case 'Product Reviewed':
      p.ratings[event.properties.product_id] = event.properties.rating
      note(event.properties.product_id, 'rate', event.properties.rating)
      break
    // Kept so that slots answered without the stored history (also viewed, trending) still hide it.
    case 'Recommendation Dismissed':
      note(event.properties.product_id, 'dismiss')
      break
  }
  return p
}

/** What the cart holds now: its value at the last tracked prices, and its number of units. */
export const cartTotals = (p: Profile) =>
  Object.entries(p.cart).reduce(
    (t, [id, quantity]) => ({ total: t.total + quantity * (p.cartPrices[id] ?? 0), count: t.count + quantity }),
    { total: 0, count: 0 },
  )
