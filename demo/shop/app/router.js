// The shop's routes: a path to a page, rendered in place; links on this origin stay in the page.
import { catalogFailed } from './catalog.js'
import { cartPage, checkoutPage, orderPage } from './checkout.js'
import { mePage } from './account.js'
import { categoryPage, homePage, loadErrorPage, notFoundPage, productPage } from './pages.js'

const SHOP = 'Leaf & Ladle'
const app = document.getElementById('app')

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
export const pageTypeOf = (path) => ROUTES.find(([pattern]) => pattern.test(path))?.[1] ?? 'other'

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

/** Renders the current path's page. */
export function render() {
  const page = catalogFailed ? loadErrorPage() : resolve(location.pathname)
  // Title and page type first: Vista reads both when it records the page view.
  document.title = `${page.title} · ${SHOP}`
  document.body.dataset.vistaPage = page.type
  app.replaceChildren(...page.content)
  markNav()
  window.scrollTo(0, 0)
  page.after?.()
}

/** Goes to `path` without a reload. */
export function navigate(path) {
  // pushState first, then render synchronously: Vista sees the new URL with the new page.
  if (path !== location.pathname + location.search + location.hash) {
    history.pushState(null, '', path)
  }
  render()
}

/** Keeps clicks on same-origin links inside the single-page app. */
export function onLinkClick(event) {
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
