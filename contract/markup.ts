// The markup of a filled slot as plain data, written once: the SDK builds it with DOM APIs
// (sdk/dom.ts), the Worker serialises it with every value escaped (worker/render/html.ts) for
// `format=html` and the edge pass. No imports but types and the link rule: the SDK bundles this file.
import type { DecisionAnswer } from './decide'
import type { RecommendationAnswer } from './recommend'
import { safeUrl } from './url'

/** One element: its tag, its attributes (values as they are) and either its text or its children. */
export type Markup = [tag: string, attributes: Record<string, string>, content?: string | Markup[]]

/** What a recommendations slot's data attributes say about how it looks. */
export interface SlotLook {
  /** The product link, `{id}` replaced by the item's id (default `/p/{id}`). */
  link?: string
  /** An ISO 4217 code: prices in that currency, in the shopper's locale; else two decimals. */
  currency?: string
  /** The heading; the strategy's label when absent. */
  title?: string
}

/** A recommendations slot's children: its heading and the items, each with its first reason. */
export function recommendationMarkup(answer: RecommendationAnswer, look: SlotLook, locale?: string): Markup[] {
  const link = look.link ?? '/p/{id}'
  const items = answer.items.map((item, position): Markup => {
    const image = safeUrl(item.image ?? '')
    const price = look.currency
      ? new Intl.NumberFormat(locale, { style: 'currency', currency: look.currency }).format(item.price)
      : item.price.toFixed(2)
    const content: Markup[] = [
      ['span', { class: 'vista-name' }, item.title],
      ['span', { class: 'vista-price' }, price],
      ['small', { class: 'vista-reason', title: item.reasons.join(' · ') }, item.reasons[0] ?? ''],
    ]
    if (image) content.unshift(['img', { class: 'vista-image', src: image, alt: '', loading: 'lazy' }])
    const href = safeUrl(link.replace('{id}', encodeURIComponent(item.id)))
    const tracked = {
      class: 'vista-item',
      href,
      'data-vista-rec': answer.id,
      'data-vista-position': `${position}`,
      'data-vista-product': item.id,
    }
    return ['li', { class: 'vista-entry' }, [['a', tracked, content]]]
  })
  return [
    ['h2', { class: 'vista-title' }, look.title ?? answer.label],
    ['ul', { class: 'vista-items' }, items],
  ]
}

/** A banner slot's children: the decided offer's link, why it was chosen, a dismiss button (none without an action). */
export function bannerMarkup({ action, reasons }: DecisionAnswer): Markup[] {
  if (!action) return []
  const image = safeUrl(action.image)
  const offer: Markup[] = [
    ['strong', { class: 'vista-offer-title' }, action.title],
    ['span', { class: 'vista-offer-text' }, action.text],
  ]
  if (image) offer.unshift(['img', { class: 'vista-offer-image', src: image, alt: '' }])
  return [
    ['a', { class: 'vista-offer', href: safeUrl(action.link) || '#' }, offer],
    ['small', { class: 'vista-why' }, `Why this? ${reasons.join('; ')}`],
    ['button', { class: 'vista-dismiss', 'aria-label': 'Not interested' }, '×'],
  ]
}
