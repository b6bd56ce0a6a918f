// Model definitions the SDK and the Worker share: plain values, so importing one adds no library to the browser bundle.
import type { EventType } from './events'

/**
 * What one event says about a shopper's interest in its item: an order more than a cart add, a cart add more than
 * a view. A review counts as a view (its grade weighs in ranking); a dismissal hides an item and weighs nothing.
 */
export const EVENT_WEIGHTS = {
  'Product Viewed': 1,
  'Product Added': 3,
  'Order Completed': 5,
  'Product Reviewed': 1,
} as const satisfies Partial<Record<EventType, number>>

/** Interest from counts of views, cart adds and orders (of an item, or summed over a category's items). */
export const weighCounts = (n: { views: number; adds: number; purchases: number }) =>
  n.views * EVENT_WEIGHTS['Product Viewed'] +
  n.adds * EVENT_WEIGHTS['Product Added'] +
  n.purchases * EVENT_WEIGHTS['Order Completed']
