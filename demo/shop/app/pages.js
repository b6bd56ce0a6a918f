// Browsing pages: home, category, product and not found. Each page returns
// { type, title, content: Node[], after?() }; render() (router.js) puts it on screen.
import { addToCart, readRating, saveRating } from './cart.js'
import { CATEGORIES, FEATURED, catalog, categoryName, formatPrice } from './catalog.js'
import { h, productGrid, recsSlot, thumb, toast, vistaProduct } from './dom.js'

/** A page saying that what was asked for is not here. */
export function notFoundPage(heading = 'Page not found', message = 'We could not find that page.') {
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

/** The page shown when products.json could not be loaded. */
export function loadErrorPage() {
  return notFoundPage(
    'The shop is taking a break',
    'Our product list could not be loaded. Please reload the page in a moment.',
  )
}

/** The home page: hero, recommendation slots and the featured products. */
export function homePage() {
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

/** A category's products, or not found. */
export function categoryPage(slug) {
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

/** A product's page, with add to cart, rating and related slots. */
export function productPage(id) {
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
