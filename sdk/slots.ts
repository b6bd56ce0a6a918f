// The page's slots, `data-vista-slot="recommendations"` (the default) and `"banner"`: each asks the
// Worker through the public API, shows the answer and tracks what was shown and what the shopper did.
import type { Strategy } from '../contract'
import { renderBanner } from './banner'
import { cachedRecommendations, render, type RecommendOptions } from './recommend'
import { safe, type Vista } from './vista'

/** Fills a recommendations slot: the cached answer at once, then a fresh one. */
export async function fillRecommendations(slot: HTMLElement, vista: Vista): Promise<void> {
  const d = slot.dataset
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
  vista.track('Recommendation Shown', {
    recommendation_id: fresh.id,
    product_ids: fresh.items.map((i) => i.id),
    slot: d.slotName ?? options.strategy,
    strategy: fresh.strategy,
  })
}

/** Fills a banner slot with the next best action for its placement. */
export async function fillBanner(slot: HTMLElement, vista: Vista): Promise<void> {
  const d = slot.dataset
  const decision = await vista.decide(d.placement ?? 'top')
  if (!decision) d.vistaDecision = 'none'
  const parts = decision && renderBanner(slot, decision)
  if (!decision?.action || !parts) return
  const offer = { decision_id: decision.id, action_id: decision.action.id, placement: decision.placement }
  vista.track('Offer Shown', offer)
  parts.link.addEventListener('click', () => vista.track('Offer Accepted', offer))
  parts.dismiss.addEventListener(
    'click',
    safe(() => {
      slot.hidden = true
      vista.track('Offer Dismissed', offer)
    }),
  )
}
