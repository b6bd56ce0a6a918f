// What the shopper keeps on this device: the cart, ratings and orders (localStorage).
import { catalog, round2 } from './catalog.js'

/** localStorage key of the cart: product id to quantity. */
export const CART_KEY = 'demo-cart'
const RATINGS_KEY = 'demo-ratings'
/** localStorage key of the orders placed on this device, by order id. */
export const ORDERS_KEY = 'demo-orders'

/** The object stored under `key`, or {} when there is none or it is unreadable. */
export function readStore(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? '{}')
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {}
  } catch {
    return {}
  }
}

/** Stores `value` under `key`; a full or blocked storage is ignored. */
export function writeStore(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value))
  } catch {
    // Storage can be full or blocked (private mode); the shop still renders.
  }
}

/** Cart lines of products that still exist, with positive whole quantities. */
export function cartLines() {
  return Object.entries(readStore(CART_KEY))
    .filter(([id, quantity]) => catalog.has(id) && Number.isInteger(quantity) && quantity > 0)
    .map(([id, quantity]) => ({ product: catalog.get(id), quantity }))
}

/** The total of cart lines, rounded to cents. */
export const cartTotal = (lines) =>
  round2(lines.reduce((sum, { product, quantity }) => sum + product.price * quantity, 0))

/** A cart line in the shape of Vista's ecommerce events. */
export const lineItem = ({ product, quantity }) => ({
  product_id: product.id,
  name: product.title,
  category: product.category,
  price: product.price,
  quantity,
})

/** Adds `quantity` of a product to the cart. */
export function addToCart(id, quantity) {
  const cart = readStore(CART_KEY)
  cart[id] = (Number.isInteger(cart[id]) ? cart[id] : 0) + quantity
  writeStore(CART_KEY, cart)
  updateCartCount()
}

/** Removes a product from the cart. */
export function removeFromCart(id) {
  const cart = readStore(CART_KEY)
  delete cart[id]
  writeStore(CART_KEY, cart)
  updateCartCount()
}

/** Empties the cart. */
export function clearCart() {
  writeStore(CART_KEY, {})
  updateCartCount()
}

/** Shows the cart's item count in the header. */
export function updateCartCount() {
  const count = cartLines().reduce((sum, line) => sum + line.quantity, 0)
  const badge = document.getElementById('cart-count')
  if (badge) badge.textContent = String(count)
}

/** The shopper's rating of a product (1-5), or 0. */
export function readRating(id) {
  const rating = readStore(RATINGS_KEY)[id]
  return Number.isInteger(rating) && rating >= 1 && rating <= 5 ? rating : 0
}

/** Keeps the shopper's rating of a product. */
export function saveRating(id, rating) {
  const ratings = readStore(RATINGS_KEY)
  ratings[id] = rating
  writeStore(RATINGS_KEY, ratings)
}

/** A random order id, o- and 10 letters or digits. */
export function newOrderId() {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  let id = ''
  while (id.length < 10) {
    for (const byte of crypto.getRandomValues(new Uint8Array(16))) {
      // 252 = 7 × 36: skipping larger bytes keeps every character equally likely.
      if (byte < 252 && id.length < 10) id += alphabet[byte % 36]
    }
  }
  return `o-${id}`
}
