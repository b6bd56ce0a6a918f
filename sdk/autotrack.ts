// Declarative tracking: a page view per route (SPA routes included), and what the page's
// data-vista-* attributes say: products shown, cart and rating buttons, orders, slots to fill.
import type { EventProperties } from '../contract'
import { navigated } from './context'
import { rememberClick } from './record'
import { fillBanner, fillRecommendations } from './slots'
import { safe, type Vista } from './vista'

const num = (value: string | undefined) => (value && Number.isFinite(+value) ? +value : undefined)

function product(el: HTMLElement, productId: string): EventProperties['Product Viewed'] {
  const d = el.dataset
  const p: EventProperties['Product Viewed'] = { product_id: productId }
  if (d.vistaName) p.name = d.vistaName
  if (d.vistaCategory) p.category = d.vistaCategory
  if (num(d.vistaPrice) !== undefined) p.price = num(d.vistaPrice)
  if (num(d.vistaQuantity) !== undefined) p.quantity = num(d.vistaQuantity)
  return p
}

/** Tracks this page for `vista`: its route changes, clicks and DOM, from the landing page view on. */
export function autotrack(vista: Vista): void {
  const { track } = vista
  let lastPath = ''
  let viewed = new Set<string>()
  let filled = new WeakSet<Element>()
  const ordered = new Set<string>()

  /** Tracks a page view when the route changed, then products and orders shown on the page. */
  function sync(): void {
    const path = location.pathname + location.search
    if (path !== lastPath) {
      if (lastPath) navigated(lastPath)
      lastPath = path
      viewed = new Set()
      filled = new WeakSet()
      const props: EventProperties['Page Viewed'] = { name: document.title }
      const type = document.body?.dataset.vistaPage
      if (type) props.page_type = type
      track('Page Viewed', props)
    }
    for (const el of document.querySelectorAll<HTMLElement>('[data-vista-view]')) {
      const id = el.dataset.vistaView!
      if (viewed.has(id)) continue
      viewed.add(id)
      track('Product Viewed', product(el, id))
    }
    for (const slot of document.querySelectorAll<HTMLElement>('[data-vista-slot]')) {
      if (filled.has(slot)) continue
      filled.add(slot)
      void (slot.dataset.vistaSlot === 'banner' ? fillBanner : fillRecommendations)(slot, vista).catch(() => {})
    }
    for (const el of document.querySelectorAll<HTMLElement>('[data-vista-order]')) {
      const id = el.dataset.vistaOrder!
      if (ordered.has(id)) continue
      ordered.add(id)
      const lines = [...el.querySelectorAll<HTMLElement>('[data-vista-line]')]
      track('Order Completed', {
        order_id: id,
        revenue: num(el.dataset.vistaRevenue) ?? 0,
        ...(el.dataset.vistaCurrency ? { currency: el.dataset.vistaCurrency } : {}),
        products: lines.map((line) => product(line, line.dataset.vistaLine!)),
      })
    }
  }

  // Route changes and DOM changes both end in one deferred sync, so the page view always comes
  // first and a product shown once per page view is counted once.
  let pending: ReturnType<typeof setTimeout> | undefined
  const later = safe(() => {
    clearTimeout(pending)
    pending = setTimeout(safe(sync), 0)
  })

  function onClick(e: Event): void {
    const el = (e.target as Element | null)?.closest?.<HTMLElement>(
      '[data-vista-add],[data-vista-remove],[data-vista-rate],[data-vista-rec]',
    )
    if (!el) return
    const d = el.dataset
    if (d.vistaRec && d.vistaProduct) {
      track('Recommendation Clicked', {
        recommendation_id: d.vistaRec,
        product_id: d.vistaProduct,
        position: Number(d.vistaPosition),
      })
      void rememberClick(d.vistaProduct, d.vistaRec).catch(() => {})
    } else if (d.vistaAdd) track('Product Added', product(el, d.vistaAdd))
    else if (d.vistaRemove) track('Product Removed', product(el, d.vistaRemove))
    else if (d.vistaRate && num(d.vistaRating))
      track('Product Reviewed', { product_id: d.vistaRate, rating: num(d.vistaRating)! })
  }

  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method]
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args)
      later()
      return result
    }
  }
  addEventListener('popstate', later)
  document.addEventListener('click', safe(onClick), true)
  new MutationObserver(later).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['data-vista-view', 'data-vista-order', 'data-vista-slot'],
  })
  // The landing page view waits for DOMContentLoaded, after the deferred scripts that may set its
  // page type; readyState alone cannot tell, as it turns "interactive" before those scripts run.
  const nav = performance.getEntriesByType?.('navigation')[0] as PerformanceNavigationTiming | undefined
  if (document.readyState === 'loading' || (nav && !nav.domContentLoadedEventStart)) {
    document.addEventListener('DOMContentLoaded', later)
  } else sync()
}
