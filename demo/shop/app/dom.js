// The shop's building blocks: elements, product cards, recommendation slots, toasts.
import { CATEGORIES, catalog, categoryName, formatPrice } from './catalog.js'

/** Creates an element. Attributes are set as attributes and children appended as text or nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value)
    } else {
      el.setAttribute(name, value === true ? '' : String(value))
    }
  }
  el.append(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false))
  return el
}

/** Vista's product attributes, shared by the detail view and the cart buttons. */
export const vistaProduct = (product) => ({
  'data-vista-name': product.title,
  'data-vista-category': product.category,
  'data-vista-price': product.price,
})

/** A product page's path. */
export const productPath = (id) => `/p/${encodeURIComponent(id)}`

/** A same-origin image path for an item, falling back to its category's icon. */
function imageOf(item) {
  const own = typeof item.image === 'string' ? item.image : ''
  if (own.startsWith('/') && !own.startsWith('//')) return own
  const known = catalog.get(item.id)?.image
  if (known) return known
  return Object.hasOwn(CATEGORIES, item.category) ? `/img/${item.category}.svg` : null
}

/** An item's image box, tinted by its hue. */
export function thumb(item) {
  const src = imageOf(item)
  const box = h('div', { class: 'thumb' }, src && h('img', { src, alt: '', width: 64, height: 64 }))
  box.style.setProperty('--hue', String(Number.isFinite(item.hue) ? item.hue : 200))
  return box
}

/** A product tile for a grid, with an optional reason line. */
export function productCard(item, reason) {
  return h(
    'li',
    { class: 'card' },
    item.in_stock === false && h('span', { class: 'badge' }, 'Out of stock'),
    h(
      'a',
      { class: 'card-link', href: productPath(item.id) },
      thumb(item),
      h('h3', { class: 'card-title' }, item.title),
    ),
    h(
      'p',
      { class: 'card-meta' },
      h('span', { class: 'price' }, formatPrice(item.price)),
      h('span', { class: 'category-tag' }, categoryName(item.category)),
    ),
    reason && h('p', { class: 'reason' }, reason),
  )
}

/** A grid of product tiles. */
export const productGrid = (products) =>
  h(
    'ul',
    { class: 'grid' },
    products.map((p) => productCard(p)),
  )

let toastTimer
/** Shows a short status message for a few seconds. */
export function toast(message) {
  let box = document.querySelector('.toast')
  if (!box) {
    box = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite' })
    document.body.append(box)
  }
  box.textContent = message
  box.classList.add('show')
  clearTimeout(toastTimer)
  toastTimer = setTimeout(() => box.classList.remove('show'), 2400)
}

// ---- Recommendation slots -----------------------------------------------------------------------
// The shop only declares slots; the Vista script fills them (cached answer first, then a fresh one).

const SLOT_CAPTIONS = {
  'for-you': 'Picked from what you viewed, added and bought, and what shoppers like you did next.',
  trending: 'Most viewed, added and bought on this shop lately (7-day half-life).',
  'recently-viewed': 'Pick up where you left off.',
  'also-viewed': 'Shoppers who viewed this item also viewed these.',
  'also-bought': 'Often bought together with this item.',
  cart: 'Goes well with what is in your cart.',
  category: 'Popular in the categories you browse most.',
}

/** A recommendation slot for the Vista script to fill, with its caption. */
export function recsSlot(strategy, title, attrs = {}) {
  return h(
    'section',
    { class: 'section recs' },
    h(
      'div',
      {
        'data-vista-slot': 'recommendations',
        'data-strategy': strategy,
        'data-title': title,
        'data-limit': '4',
        'data-currency': 'EUR',
        'data-link': '/p/{id}',
        ...attrs,
      },
      h('h2', {}, title),
      h('p', { class: 'notice' }, 'Loading recommendations…'),
    ),
    h('p', { class: 'caption' }, SLOT_CAPTIONS[strategy]),
  )
}

/** A labelled, required input. */
export function field(label, attrs) {
  return h('label', { class: 'field' }, label, h('input', { required: true, ...attrs }))
}
