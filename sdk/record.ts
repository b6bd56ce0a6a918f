// What a recorded event carries besides its properties: the device's ids (a new session after
// SESSION_TIMEOUT without activity) and the recommendation clicked to reach a product.
// Also the hex of random ids and of the e-mail hash that identify sends.
import type { EventProperties, EventType } from '../contract'
import { change, read } from './store'

/** Inactivity after which the next event opens a new session. */
export const SESSION_TIMEOUT = 30 * 60_000

/** The device's ids, stored under `ids`. */
export interface Ids {
  anonymousId: string
  userId: string | null
  sessionId: string
  lastActivity: number
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/** 128 random bits as hex (crypto.randomUUID exists only on https and localhost). */
export const newId = () => hex(crypto.getRandomValues(new Uint8Array(16)))

/** The SHA-256 of a text, as hex. */
export const sha256 = async (text: string) =>
  hex(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))))

// Product id -> the recommendation a shopper clicked to reach it, so later views, cart adds and
// orders carry its id and revenue can be attributed.
type Attribution = Record<string, string>

/** Remembers that the shopper reached `product` from recommendation `rec`. */
export const rememberClick = (product: string, rec: string) =>
  change<Attribution>('attribution', (all = {}) => ({ ...all, [product]: rec }))

/** Adds the clicked recommendation's id to a product view, cart add or order line that lacks one. */
export async function attribute(type: EventType, properties: unknown): Promise<void> {
  if (type !== 'Product Viewed' && type !== 'Product Added' && type !== 'Order Completed') return
  const clicked = (await read<Attribution>('attribution')) ?? {}
  const p = properties as EventProperties['Product Viewed'] & EventProperties['Order Completed']
  for (const product of type === 'Order Completed' ? (p.products ?? []) : [p]) {
    const rec = clicked[product.product_id]
    if (rec && !product.recommendation_id) product.recommendation_id = rec
  }
}
