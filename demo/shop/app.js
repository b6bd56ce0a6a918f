// Leaf & Ladle, the Vista demo shop: a small single-page app on plain DOM APIs, no build step.
// The Vista SDK (window.vista) is optional: every call to it is guarded, so the shop works without.

const SHOP = 'Leaf & Ladle'
const CART_KEY = 'demo-cart'
const RATINGS_KEY = 'demo-ratings'
const ORDERS_KEY = 'demo-orders'

const CATEGORIES = {
  tea: { name: 'Tea', blurb: 'Loose-leaf teas from estates we know by name, in small batches.' },
  coffee: { name: 'Coffee', blurb: 'Freshly roasted beans and the tools it takes to brew them.' },
  kitchen: { name: 'Kitchen', blurb: 'Sturdy tools for everyday cooking, chosen to last.' },
  books: { name: 'Books', blurb: 'Cookery, gardening and craft books for a slow afternoon.' },
  garden: { name: 'Garden', blurb: 'Seeds, pots and hand tools for balconies and back gardens.' },
  stationery: { name: 'Stationery', blurb: 'Pens, paper and desk things that make writing a joy.' },
}

/** The home page's fixed selection: the first product of each category plus two favourites. */
const FEATURED = [
  'tea-01',
  'coffee-01',
  'kitchen-01',
  'books-01',
  'garden-01',
  'stationery-01',
  'tea-08',
  'garden-10',
]

const euro = new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' })
const app = document.getElementById('app')

/** Product id to product, filled once products.json has loaded. */
let catalog = new Map()
let catalogFailed = false

// ---- Data ---------------------------------------------------------------------------------------

let productsPromise
function loadProducts() {
  productsPromise ??= fetch('/products.json').then((res) => {
    if (!res.ok) throw new Error(`products.json: HTTP ${res.status}`)
    return res.json()
  })
  return productsPromise
}

function readStore(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? '{}')
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {}
  } catch {
    return {}
  }
}

function writeStore(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value))
  } catch {
    // Storage can be full or blocked (private mode); the shop still renders.
  }
}

const round2 = (n) => Math.round(n * 100) / 100
const formatPrice = (n) => (Number.isFinite(n) ? euro.format(n) : '')
const categoryName = (slug) => (Object.hasOwn(CATEGORIES, slug) ? CATEGORIES[slug].name : slug)

/** Cart lines of products that still exist, with positive whole quantities. */
function cartLines() {
  return Object.entries(readStore(CART_KEY))
    .filter(([id, quantity]) => catalog.has(id) && Number.isInteger(quantity) && quantity > 0)
    .map(([id, quantity]) => ({ product: catalog.get(id), quantity }))
}

const cartTotal = (lines) =>
  round2(lines.reduce((sum, { product, quantity }) => sum + product.price * quantity, 0))

/** A cart line in the shape of Vista's ecommerce events. */
const lineItem = ({ product, quantity }) => ({
  product_id: product.id,
  name: product.title,
  category: product.category,
  price: product.price,
  quantity,
})

function addToCart(id, quantity) {
  const cart = readStore(CART_KEY)
  cart[id] = (Number.isInteger(cart[id]) ? cart[id] : 0) + quantity
  writeStore(CART_KEY, cart)
  updateCartCount()
}

function removeFromCart(id) {
  const cart = readStore(CART_KEY)
  delete cart[id]
  writeStore(CART_KEY, cart)
  updateCartCount()
}

function clearCart() {
  writeStore(CART_KEY, {})
  updateCartCount()
}

function updateCartCount() {
  const count = cartLines().reduce((sum, line) => sum + line.quantity, 0)
  const badge = document.getElementById('cart-count')
  if (badge) badge.textContent = String(count)
}

function readRating(id) {
  const rating = readStore(RATINGS_KEY)[id]
  return Number.isInteger(rating) && rating >= 1 && rating <= 5 ? rating : 0
}

function saveRating(id, rating) {
  const ratings = readStore(RATINGS_KEY)
  ratings[id] = rating
  writeStore(RATINGS_KEY, ratings)
}

function newOrderId() {
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

// ---- DOM helpers --------------------------------------------------------------------------------

/** Creates an element. Attributes are set as attributes and children appended as text or nodes. */
function h(tag, attrs = {}, ...children) {
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
const vistaProduct = (product) => ({
  'data-vista-name': product.title,
  'data-vista-category': product.category,
  'data-vista-price': product.price,
})

const productPath = (id) => `/p/${encodeURIComponent(id)}`

/** A same-origin image path for an item, falling back to its category's icon. */
function imageOf(item) {
  const own = typeof item.image === 'string' ? item.image : ''
  if (own.startsWith('/') && !own.startsWith('//')) return own
  const known = catalog.get(item.id)?.image
  if (known) return known
  return Object.hasOwn(CATEGORIES, item.category) ? `/img/${item.category}.svg` : null
}

function thumb(item) {
  const src = imageOf(item)
  const box = h('div', { class: 'thumb' }, src && h('img', { src, alt: '', width: 64, height: 64 }))
  box.style.setProperty('--hue', String(Number.isFinite(item.hue) ? item.hue : 200))
  return box
}

function productCard(item, reason) {
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

const productGrid = (products) => h('ul', { class: 'grid' }, products.map((p) => productCard(p)))

let toastTimer
function toast(message) {
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

function recsSlot(strategy, title, attrs = {}) {
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

// ---- Pages --------------------------------------------------------------------------------------
// Each page returns { type, title, content: Node[], after?() }; render() puts it on screen.

function notFoundPage(heading = 'Page not found', message = 'We could not find that page.') {
  return {
    type: 'other',
    title: heading,
    content: [
      h(
        'section',
        { class: 'page-head' },
        h('h1', {}, heading),
        h('p', { class: 'lead' }, message),
        h('p', {}, h('a', { class: 'button', href: '/' }, 'Back to the shop')),
      ),
    ],
  }
}

function loadErrorPage() {
  return notFoundPage(
    'The shop is taking a break',
    'Our product list could not be loaded. Please reload the page in a moment.',
  )
}

function homePage() {
  const featured = FEATURED.map((id) => catalog.get(id)).filter(Boolean)
  const chips = Object.entries(CATEGORIES).map(([slug, { name }]) =>
    h('a', { class: 'chip', href: `/c/${slug}` }, name),
  )
  return {
    type: 'home',
    title: 'Vista Demo Shop',
    content: [
      h(
        'section',
        { class: 'hero' },
        h('h1', {}, 'Good things for slow mornings'),
        h(
          'p',
          {},
          'Loose-leaf tea, freshly roasted coffee, sturdy kitchen tools, books, seeds and ' +
            'stationery, picked by a small team that uses all of it every day.',
        ),
        h('nav', { class: 'chips', 'aria-label': 'Shop by category' }, chips),
      ),
      recsSlot('for-you', 'Recommended for you'),
      recsSlot('trending', 'Trending now'),
      h('section', { class: 'section' }, h('h2', {}, 'Featured'), productGrid(featured)),
      recsSlot('recently-viewed', 'Recently viewed'),
    ],
  }
}

function categoryPage(slug) {
  if (!Object.hasOwn(CATEGORIES, slug)) {
    return notFoundPage(
      'Category not found',
      `We don't have a category called “${slug}”. Try one of the categories above.`,
    )
  }
  const { name, blurb } = CATEGORIES[slug]
  const products = [...catalog.values()].filter((p) => p.category === slug)
  return {
    type: 'category',
    title: name,
    content: [
      h(
        'header',
        { class: 'page-head' },
        h('h1', {}, name),
        h('p', { class: 'lead' }, `${blurb} ${products.length} products.`),
      ),
      recsSlot('category', 'Picked for you', { 'data-category': slug }),
      productGrid(products),
    ],
  }
}

function breadcrumb(product) {
  return h(
    'nav',
    { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/' }, 'Home'),
    ' / ',
    h('a', { href: `/c/${product.category}` }, categoryName(product.category)),
    ' / ',
    h('span', { 'aria-current': 'page' }, product.title),
  )
}

function addButton(product) {
  const add = () => {
    addToCart(product.id, 1)
    toast(`Added to cart: ${product.title}`)
  }
  return h(
    'button',
    {
      type: 'button',
      id: 'add-to-cart',
      'data-vista-add': product.id,
      ...vistaProduct(product),
      'data-vista-quantity': 1,
      disabled: !product.in_stock,
      onclick: add,
    },
    product.in_stock ? 'Add to cart' : 'Out of stock',
  )
}

function ratingWidget(product) {
  const current = readRating(product.id)
  const note = h(
    'p',
    { class: 'rating-note', role: 'status' },
    current ? `You rated this ${current}/5` : 'Tried it? Tap a star.',
  )
  const stars = [1, 2, 3, 4, 5].map((n) =>
    h(
      'button',
      {
        type: 'button',
        class: 'rate',
        'data-vista-rate': product.id,
        'data-vista-rating': n,
        'aria-label': `Rate ${n} of 5`,
        onclick: () => rate(n),
      },
      '★',
    ),
  )
  const highlight = (rating) =>
    stars.forEach((star, i) => {
      star.classList.toggle('on', i < rating)
      star.setAttribute('aria-pressed', String(i + 1 === rating))
    })
  const rate = (n) => {
    saveRating(product.id, n)
    highlight(n)
    note.textContent = `Thanks for rating ${n}/5`
  }
  highlight(current)
  return h(
    'div',
    { class: 'rating-box' },
    h('h2', {}, 'Your rating'),
    h('div', { class: 'rating', role: 'group', 'aria-label': 'Rate this product' }, stars),
    note,
  )
}

function productPage(id) {
  const product = catalog.get(id)
  if (!product) {
    return notFoundPage('Product not found', 'That product is no longer in our shop.')
  }
  const detail = h(
    'article',
    { class: 'product', 'data-vista-view': product.id, ...vistaProduct(product) },
    thumb(product),
    h(
      'div',
      { class: 'product-info' },
      h('h1', {}, product.title),
      h('p', { class: 'price' }, formatPrice(product.price)),
      h('p', { class: 'description' }, product.description),
      product.in_stock
        ? h('p', { class: 'stock' }, 'In stock · ships in 1–2 working days')
        : h('p', { class: 'stock out' }, 'Out of stock · back soon'),
      addButton(product),
      ratingWidget(product),
    ),
  )
  return {
    type: 'product',
    title: product.title,
    content: [
      breadcrumb(product),
      detail,
      recsSlot('also-viewed', 'Shoppers also viewed', { 'data-item': product.id }),
      recsSlot('also-bought', 'Frequently bought together', { 'data-item': product.id }),
    ],
  }
}

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
      h(
        'button',
        { type: 'button', id: 'checkout', disabled: !lines.length, onclick: startCheckout },
        'Checkout',
      ),
    ),
    ...(lines.length ? [recsSlot('cart', 'Goes well with your cart')] : []),
  ]
}

function removeLine(id) {
  removeFromCart(id)
  const lines = cartLines()
  // Redraw in place rather than render(): same page view, no scroll jump.
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

function cartPage() {
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

function field(label, attrs) {
  return h('label', { class: 'field' }, label, h('input', { required: true, ...attrs }))
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

function checkoutPage() {
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

function orderPage(id) {
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

// ---- You: sign in, and what Vista knows about you ----------------------------------------------

const SITE_QUERY = 'site=demo&key=pk_demo_vista_public'

async function fetchProfile() {
  const local = await window.vista?.profile?.()
  if (!local?.anonymousId) return null
  const res = await fetch(`/v1/profile?${SITE_QUERY}&anonymousId=${encodeURIComponent(local.anonymousId)}`)
  return res.ok ? res.json() : null
}

function signIn(event) {
  event.preventDefault()
  const form = new FormData(event.target)
  const user = String(form.get('user') || '').trim()
  if (!user) return
  // Vista hashes the e-mail on this device; only the SHA-256 reaches the server.
  window.vista?.identify?.(user, { email: String(form.get('email') || '') })
  toast(`Signed in as ${user}`)
  setTimeout(render, 800)
}

async function fillProfile(box) {
  const view = await fetchProfile().catch(() => null)
  if (!view) {
    box.replaceChildren(h('p', { class: 'notice' }, 'Nothing known yet: browse a little first.'))
    return
  }
  const money = formatPrice(view.summary.revenue)
  box.replaceChildren(
    h('p', { class: 'lead' },
      view.uid ? `One customer (${view.uid}) across ${view.browsers.length} browser(s). ` : 'Not signed in: this browser only. ',
      `${view.summary.events} events, ${view.summary.orders} orders, ${money} spent.`),
    h('h2', {}, 'Your segments, and why'),
    h('ul', { class: 'segments' }, view.segments.map((s) => h('li', { 'data-segment': s.id }, h('strong', {}, s.id), ' — ', s.reason))),
    // replaceChildren, unlike h(), would print a null child as the text "null".
    ...(view.identities.length
      ? [h('p', { class: 'caption' }, 'Linked ids: ', view.identities.map((i) => `${i.kind} ${i.kind === 'email' ? i.value.slice(0, 10) + '…' : i.value}`).join(', '))]
      : []),
  )
}

function mePage() {
  const box = h('div', { class: 'panel' }, h('p', { class: 'notice' }, 'Loading…'))
  const form = h(
    'form',
    { class: 'form panel', onsubmit: signIn },
    h('h2', {}, 'Sign in'),
    field('Customer id', { name: 'user', value: 'alex-demo', required: true }),
    field('Email', { name: 'email', type: 'email', value: 'alex@example.com', required: false }),
    h('button', { id: 'sign-in', type: 'submit' }, 'Sign in'),
  )
  const privacy = h('section', { class: 'panel', id: 'privacy' }, h('h2', {}, 'Your privacy'))
  return {
    type: 'account',
    title: 'You',
    content: [h('header', { class: 'page-head' }, h('h1', {}, 'What Vista knows about you')), box, privacy, form],
    after: () => {
      fillProfile(box)
      fillPrivacy(privacy)
    },
  }
}

const CONSENT_WORDS = {
  full: 'Vista remembers what you browse on this device and personalises the shop.',
  anonymous: 'Vista counts what you browse without remembering you: nothing is kept on this device.',
  off: 'Vista does not track you: nothing is kept or sent.',
}

/** Consent, export and erasure: the shopper's controls over what Vista keeps. */
async function fillPrivacy(panel) {
  const state = await window.vista?.consent?.()
  if (!state) return panel.append(h('p', { class: 'notice' }, 'Vista is not loaded.'))
  const signal = state.signal ? ` Your browser asks not to be tracked (${state.signal.toUpperCase()}).` : ''
  const status = h('p', { id: 'consent-state' }, CONSENT_WORDS[state.level] + signal)
  const choose = (tracking) => async () => {
    await window.vista.consent({ tracking })
    panel.replaceChildren(h('h2', {}, 'Your privacy'))
    fillPrivacy(panel)
  }
  const download = async () => {
    const data = await window.vista.exportData()
    const link = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })), download: 'my-vista-data.json' })
    link.click()
    URL.revokeObjectURL(link.href)
  }
  const erase = async () => {
    const done = await window.vista.forget()
    toast(done ? 'Everything Vista knew about you is erased.' : 'Could not reach the server; nothing was erased. Try again.')
    if (done) navigate('/me')
  }
  panel.append(
    status,
    h('div', { class: 'actions' },
      state.level === 'full'
        ? h('button', { type: 'button', id: 'consent-off', onclick: choose(false) }, 'Stop tracking me')
        : h('button', { type: 'button', id: 'consent-on', onclick: choose(true) }, 'Allow personalisation'),
      h('button', { type: 'button', id: 'export-data', onclick: download }, 'Download my data'),
      h('button', { type: 'button', id: 'forget-me', onclick: erase }, 'Erase everything'),
    ),
  )
}

// ---- Router -------------------------------------------------------------------------------------

const ROUTES = [
  [/^\/(?:index\.html)?$/, 'home', homePage],
  [/^\/c\/([^/]+)\/?$/, 'category', categoryPage],
  [/^\/p\/([^/]+)\/?$/, 'product', productPage],
  [/^\/cart\/?$/, 'cart', cartPage],
  [/^\/checkout\/?$/, 'checkout', checkoutPage],
  [/^\/order\/([^/]+)\/?$/, 'order', orderPage],
  [/^\/me\/?$/, 'account', mePage],
]

/** The page type a path will render, known before the catalog loads. */
const pageTypeOf = (path) => ROUTES.find(([pattern]) => pattern.test(path))?.[1] ?? 'other'

function decode(segment) {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

function resolve(path) {
  for (const [pattern, , page] of ROUTES) {
    const match = pattern.exec(path)
    if (match) return page(...match.slice(1).map(decode))
  }
  return notFoundPage()
}

function markNav() {
  for (const link of document.querySelectorAll('.site-header a[href]')) {
    const current = link.getAttribute('href') === location.pathname
    if (current) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
}

function render() {
  const page = catalogFailed ? loadErrorPage() : resolve(location.pathname)
  // Title and page type first: Vista reads both when it records the page view.
  document.title = `${page.title} · ${SHOP}`
  document.body.dataset.vistaPage = page.type
  app.replaceChildren(...page.content)
  markNav()
  window.scrollTo(0, 0)
  page.after?.()
}

function navigate(path) {
  // pushState first, then render synchronously: Vista sees the new URL with the new page.
  if (path !== location.pathname + location.search + location.hash) {
    history.pushState(null, '', path)
  }
  render()
}

function onLinkClick(event) {
  if (event.defaultPrevented || event.button !== 0) return
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  const link = event.target instanceof Element ? event.target.closest('a[href]') : null
  if (!(link instanceof HTMLAnchorElement)) return
  if ((link.target && link.target !== '_self') || link.hasAttribute('download')) return
  const url = new URL(link.href)
  if (url.origin !== location.origin) return
  // In-page anchors such as the skip link keep the browser's own behaviour.
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return
  event.preventDefault()
  navigate(url.pathname + url.search + url.hash)
}

async function start() {
  // Set before the catalog loads: Vista records the landing page view once the document is parsed.
  document.body.dataset.vistaPage = pageTypeOf(location.pathname)
  try {
    const products = await loadProducts()
    catalog = new Map(products.filter((p) => typeof p?.id === 'string').map((p) => [p.id, p]))
  } catch {
    catalogFailed = true
  }
  document.addEventListener('click', onLinkClick)
  addEventListener('popstate', render)
  // Another tab changed the cart: keep the header count honest.
  addEventListener('storage', (event) => event.key === CART_KEY && updateCartCount())
  updateCartCount()
  render()
}

start()
