// The shop's catalog: categories, the featured selection and products.json, loaded once.

/** The categories by slug, with their names and blurbs. */
export const CATEGORIES = {
  tea: { name: 'Tea', blurb: 'Loose-leaf teas from estates we know by name, in small batches.' },
  coffee: { name: 'Coffee', blurb: 'Freshly roasted beans and the tools it takes to brew them.' },
  kitchen: { name: 'Kitchen', blurb: 'Sturdy tools for everyday cooking, chosen to last.' },
  books: { name: 'Books', blurb: 'Cookery, gardening and craft books for a slow afternoon.' },
  garden: { name: 'Garden', blurb: 'Seeds, pots and hand tools for balconies and back gardens.' },
  stationery: { name: 'Stationery', blurb: 'Pens, paper and desk things that make writing a joy.' },
}

/** The home page's fixed selection: the first product of each category plus two favourites. */
export const FEATURED = [
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

/** Product id to product, filled once products.json has loaded. */
export let catalog = new Map()
/** True when products.json could not be loaded. */
export let catalogFailed = false

let productsPromise
/** Loads products.json once and fills `catalog`, or sets `catalogFailed`. */
export async function loadCatalog() {
  productsPromise ??= fetch('/products.json').then((res) => {
    if (!res.ok) throw new Error(`products.json: HTTP ${res.status}`)
    return res.json()
  })
  try {
    const products = await productsPromise
    catalog = new Map(products.filter((p) => typeof p?.id === 'string').map((p) => [p.id, p]))
  } catch {
    catalogFailed = true
  }
}

/** Rounds to cents. */
export const round2 = (n) => Math.round(n * 100) / 100
/** A price in euros, or "" when it is not a number. */
export const formatPrice = (n) => (Number.isFinite(n) ? euro.format(n) : '')
/** A category's name, or its slug when unknown. */
export const categoryName = (slug) => (Object.hasOwn(CATEGORIES, slug) ? CATEGORIES[slug].name : slug)
