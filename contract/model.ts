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
