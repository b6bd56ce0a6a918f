// Leaf & Ladle, the Vista demo shop: a small single-page app on plain DOM APIs, no build step.
// The Vista SDK (window.vista) is optional: every call to it is guarded, so the shop works without.
import { CART_KEY, updateCartCount } from './app/cart.js'
import { loadCatalog } from './app/catalog.js'
import { onLinkClick, pageTypeOf, render } from './app/router.js'

async function start() {
  // Set before the catalog loads: Vista records the landing page view once the document is parsed.
  document.body.dataset.vistaPage = pageTypeOf(location.pathname)
  await loadCatalog()
  document.addEventListener('click', onLinkClick)
  addEventListener('popstate', render)
  // Another tab changed the cart: keep the header count honest.
  addEventListener('storage', (event) => event.key === CART_KEY && updateCartCount())
  updateCartCount()
  render()
}

start()
