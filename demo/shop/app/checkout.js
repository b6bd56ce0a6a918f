// Buying pages: the cart, checkout and the order confirmation.
import {
  ORDERS_KEY,
  cartLines,
  cartTotal,
  clearCart,
  lineItem,
  newOrderId,
  readStore,
  removeFromCart,
  writeStore,
} from './cart.js'
import { formatPrice, round2 } from './catalog.js'
import { field, h, productPath, recsSlot, thumb, vistaProduct } from './dom.js'
import { notFoundPage } from './pages.js'
import { navigate } from './router.js'

function cartLine({ product, quantity }) {
  return h(
    'li',
    { class: 'cart-line' },
    thumb(product),
    h(
      'div',
      {},
      h('a', { class: 'line-title', href: productPath(product.id) }, product.title),
      h(
        'p',
        { class: 'line-meta' },
        'Quantity ',
        h('span', { class: 'qty' }, String(quantity)),
        ` · ${formatPrice(product.price)} each`,
      ),
    ),
    h('span', { class: 'line-total' }, formatPrice(round2(product.price * quantity))),
    h(
      'button',
      {
        type: 'button',
        class: 'remove',
        'data-vista-remove': product.id,
        ...vistaProduct(product),
        onclick: () => removeLine(product.id),
      },
      'Remove',
    ),
  )
}

/** The cart page's content; redrawn in place after a removal. */
function cartContent(lines) {
  const list = lines.length
    ? h('ul', { class: 'cart-lines' }, lines.map(cartLine))
    : h('p', { class: 'notice' }, 'Your cart is empty. ', h('a', { href: '/' }, 'Go shopping'), '.')
  return [
    h('header', { class: 'page-head' }, h('h1', { tabindex: -1 }, 'Your cart')),
    list,
    h(
      'div',
      { class: 'totals' },
      h('p', { class: 'total' }, 'Total ', h('strong', {}, formatPrice(cartTotal(lines)))),
      h('button', { type: 'button', id: 'checkout', disabled: !lines.length, onclick: startCheckout }, 'Checkout'),
    ),
    ...(lines.length ? [recsSlot('cart', 'Goes well with your cart')] : []),
  ]
}

function removeLine(id) {
  removeFromCart(id)
  const lines = cartLines()
  // Redraw in place rather than render(): same page view, no scroll jump.
  const app = document.getElementById('app')
  app.replaceChildren(...cartContent(lines))
  app.querySelector('h1')?.focus()
  trackCartViewed(lines)
}

/** Vista's snapshot of the cart as shown, sent whenever the cart page shows a non-empty cart. */
function trackCartViewed(lines) {
  if (lines.length) window.vista?.track?.('Cart Viewed', { products: lines.map(lineItem) })
}

function startCheckout() {
  const lines = cartLines()
  if (!lines.length) return
  window.vista?.track?.('Checkout Started', {
    revenue: cartTotal(lines),
    products: lines.map(lineItem),
  })
  navigate('/checkout')
}

/** The cart page; it tells Vista what the shopper sees in the cart. */
export function cartPage() {
  const lines = cartLines()
  return {
    type: 'cart',
    title: 'Your cart',
    content: cartContent(lines),
    after: () => trackCartViewed(lines),
  }
}

function summary(lines, total) {
  return [
    h(
      'ul',
      { class: 'summary' },
      lines.map((line) =>
        h(
          'li',
          {},
          h('span', {}, `${line.quantity} × ${line.name}`),
          h('span', {}, formatPrice(round2(line.price * line.quantity))),
        ),
      ),
    ),
    h('p', { class: 'total' }, 'Total ', h('strong', {}, formatPrice(total))),
  ]
}

function placeOrder(event) {
  event.preventDefault()
  const lines = cartLines()
  if (!lines.length) return navigate('/cart')
  const order = {
    id: newOrderId(),
    revenue: cartTotal(lines),
    currency: 'EUR',
    lines: lines.map(lineItem),
  }
  writeStore(ORDERS_KEY, { ...readStore(ORDERS_KEY), [order.id]: order })
  clearCart()
  navigate(`/order/${order.id}`)
}

/** The checkout page with its order form and summary. */
export function checkoutPage() {
  const lines = cartLines()
  const head = h('header', { class: 'page-head' }, h('h1', {}, 'Checkout'))
  if (!lines.length) {
    const empty = h(
      'p',
      { class: 'notice' },
      'Your cart is empty, so there is nothing to check out. ',
      h('a', { href: '/' }, 'Back to the shop'),
      '.',
    )
    return { type: 'checkout', title: 'Checkout', content: [head, empty] }
  }
  const form = h(
    'form',
    { class: 'form panel', onsubmit: placeOrder },
    h('h2', {}, 'Your details'),
    field('Name', { name: 'name', autocomplete: 'name', value: 'Alex Demo' }),
    field('Email', {
      name: 'email',
      type: 'email',
      autocomplete: 'email',
      value: 'alex@example.com',
    }),
    h('p', { class: 'fineprint' }, 'This is a demo: no payment is taken and nothing is shipped.'),
    h('button', { id: 'place-order', type: 'submit' }, 'Place order'),
  )
  const overview = h(
    'section',
    { class: 'panel' },
    h('h2', {}, 'Order summary'),
    summary(lines.map(lineItem), cartTotal(lines)),
  )
  return {
    type: 'checkout',
    title: 'Checkout',
    content: [head, h('div', { class: 'checkout' }, form, overview)],
  }
}

function orderLine(line) {
  return h(
    'li',
    {
      'data-vista-line': line.product_id,
      'data-vista-name': line.name,
      'data-vista-category': line.category,
      'data-vista-price': line.price,
      'data-vista-quantity': line.quantity,
    },
    h('span', {}, `${line.quantity} × ${line.name}`),
    h('span', {}, formatPrice(round2(line.price * line.quantity))),
  )
}

/** The order confirmation, which tells Vista about the purchase. */
export function orderPage(id) {
  const orders = readStore(ORDERS_KEY)
  const order = Object.hasOwn(orders, id) ? orders[id] : null
  if (!order || typeof order.id !== 'string' || !Array.isArray(order.lines)) {
    return notFoundPage('Order not found', 'We could not find that order on this device.')
  }
  const section = h(
    'section',
    {
      class: 'order',
      'data-vista-order': order.id,
      'data-vista-revenue': order.revenue,
      'data-vista-currency': order.currency,
    },
    h('div', { class: 'check', 'aria-hidden': 'true' }, '✓'),
    h('h1', {}, 'Thank you for your order'),
    h(
      'p',
      { class: 'lead' },
      'Your order number is ',
      h('span', { class: 'order-id' }, order.id),
      '. In a real shop a confirmation email would be on its way.',
    ),
    h('ul', { class: 'summary' }, order.lines.map(orderLine)),
    h('p', { class: 'total' }, 'Total ', h('strong', {}, formatPrice(order.revenue))),
    h('div', { class: 'actions' }, h('a', { class: 'button', href: '/' }, 'Continue shopping')),
  )
  return { type: 'order', title: 'Thank you for your order', content: [section] }
}
