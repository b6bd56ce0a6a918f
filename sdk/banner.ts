// Next-best-action banners: asked for per page view, built from contract/markup.ts with DOM APIs,
// links only same-origin or https. Offer Shown / Accepted / Dismissed feed learning.
import type { DecisionAnswer } from '../contract'
import { bannerMarkup } from '../contract/markup'
import { build } from './dom'

/** Fills a banner slot with the decided action, or hides it when there is none. */
export function renderBanner(slot: HTMLElement, decision: DecisionAnswer): void {
  const d = slot.dataset
  d.vistaDecision = decision.id
  if (decision.action) d.vistaAction = decision.action.id
  slot.replaceChildren(...bannerMarkup(decision).map(build))
  slot.hidden = !decision.action
}
