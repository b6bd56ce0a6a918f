// The page's slots, `data-vista-slot="recommendations"` (the default) and `"banner"`: each asks the
// Worker through the public API, shows the answer and tracks what was shown and what the shopper did.
// A slot the edge pass filled (`data-vista-edge`) is in the page already: it is only tracked, once.
import type { Strategy } from '../contract'
import { renderBanner } from './banner'
import { cachedRecommendations, render, type RecommendOptions } from './recommend'
import { safe, type Vista } from './vista'

/** Whether the edge filled this slot for this page view; the mark goes, so a later route asks again. */
function fromEdge(slot: HTMLElement): string | undefined {
  const edge = slot.dataset.vistaEdge
  delete slot.dataset.vistaEdge
  return edge
}

/** Fills a recommendations slot: the cached answer at once, then a fresh one. */
export async function fillRecommendations(slot: HTMLElement, vista: Vista): Promise<void> {
  const d = slot.dataset
  let strategy = fromEdge(slot)
  if (strategy === undefined) {
    const shown = document.querySelector<HTMLElement>('[data-vista-view]')?.dataset
    const options: RecommendOptions = {
      strategy: (d.strategy as Strategy | undefined) ?? 'for-you',
      limit: Number(d.limit) || 4,
      item: d.item ?? shown?.vistaView,
      category: d.category ?? shown?.vistaCategory ?? document.body?.dataset.vistaCategory,
      slot: d.slotName,
    }
    const cached = await cachedRecommendations(options)
    if (cached && !d.vistaFilled) render(slot, cached, true)
    const fresh = await vista.recommend(options)
    if (!fresh || fresh.id === cached?.id) return // offline: the cached answer is all there is
    render(slot, fresh, false)
    strategy = fresh.strategy
  }
  const items = slot.querySelectorAll<HTMLElement>('[data-vista-product]')
  vista.track('Recommendation Shown', {
    recommendation_id: d.vistaFilled!,
    product_ids: [...items].map((a) => a.dataset.vistaProduct!),
    slot: d.slotName ?? d.strategy ?? 'for-you',
    strategy,
  })
}

/** Fills a banner slot with the next best action for its placement. */
export async function fillBanner(slot: HTMLElement, vista: Vista): Promise<void> {
  const d = slot.dataset
  if (fromEdge(slot) === undefined) {
    const decision = await vista.decide(d.placement ?? 'top')
    if (!decision) return void (d.vistaDecision = 'none')
    renderBanner(slot, decision)
  }
  if (slot.hidden || !d.vistaAction) return
  const offer = { decision_id: d.vistaDecision!, action_id: d.vistaAction, placement: d.placement ?? 'top' }
  vista.track('Offer Shown', offer)
  slot.querySelector('.vista-offer')?.addEventListener('click', () => vista.track('Offer Accepted', offer))
  slot.querySelector('.vista-dismiss')?.addEventListener(
    'click',
    safe(() => {
      slot.hidden = true
      vista.track('Offer Dismissed', offer)
    }),
  )
}
