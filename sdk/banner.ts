// Next-best-action banners: asked for per page view, built from structured fields with DOM APIs
// and textContent, links only same-origin or https. Offer Shown / Accepted / Dismissed feed learning.
import { el } from './dom'
import type { DecisionAnswer } from '../contract'
import { safeUrl } from '../contract/url'

/** Fills a banner slot with the decided action; returns the elements whose use is tracked. */
export function renderBanner(
  slot: HTMLElement,
  decision: DecisionAnswer,
): { link: HTMLElement; dismiss: HTMLElement } | null {
  const action = decision.action
  slot.dataset.vistaDecision = decision.id
  if (!action) {
    slot.hidden = true
    return null
  }
  const link = el('a', 'vista-offer')
  link.href = safeUrl(action.link) || '#'
  if (safeUrl(action.image)) {
    const img = el('img', 'vista-offer-image')
    img.src = safeUrl(action.image)
    img.alt = ''
    link.append(img)
  }
  link.append(el('strong', 'vista-offer-title', action.title), el('span', 'vista-offer-text', action.text))
  const why = el('small', 'vista-why', `Why this? ${decision.reasons.join('; ')}`)
  const dismiss = el('button', 'vista-dismiss', '×')
  dismiss.setAttribute('aria-label', 'Not interested')
  slot.replaceChildren(link, why, dismiss)
  slot.hidden = false
  return { link, dismiss }
}
