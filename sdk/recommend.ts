// Recommendations on the page: fetched for a slot, shown from the device cache at once, then refreshed.
// The markup is contract/markup.ts's, built with DOM APIs: no server string ever becomes HTML.
import { build } from './dom'
import type { RecommendationAnswer, Strategy } from '../contract'
import { change, read } from './store'
import { recommendationMarkup } from '../contract/markup'

/** What `vista.recommend()` takes; `rules` follow the Worker's business rules (filter, boost, pin...). */
export interface RecommendOptions {
  strategy?: Strategy
  limit?: number
  item?: string
  category?: string
  /** The slot's name (`data-slot-name`): an A/B test running on it picks the strategy, rules and limit. */
  slot?: string
  rules?: Record<string, unknown>
}

/** The last answers per slot, kept on the device so the next page shows them before the network answers. */
const cacheKey = (o: RecommendOptions) => `rec:${o.strategy ?? 'for-you'}:${o.item ?? o.category ?? ''}`

/** Fetches an answer (and caches it); the cached one, or null, when the Worker cannot be reached. */
export async function fetchRecommendations(
  endpoint: string,
  params: Record<string, string | undefined>,
  options: RecommendOptions,
): Promise<RecommendationAnswer | null> {
  const query = new URLSearchParams()
  const all = {
    ...params,
    ...options,
    limit: options.limit && String(options.limit),
    rules: options.rules && JSON.stringify(options.rules),
  }
  for (const [k, v] of Object.entries(all)) if (v) query.set(k, String(v))
  try {
    const res = await fetch(`${endpoint}/recommendations?${query}`)
    if (!res.ok) throw res
    const answer = (await res.json()) as RecommendationAnswer
    void change(cacheKey(options), () => answer).catch(() => {})
    return answer
  } catch {
    return cachedRecommendations(options)
  }
}

/** The last answer for these options on this device, if any. */
export const cachedRecommendations = (options: RecommendOptions) =>
  read<RecommendationAnswer>(cacheKey(options)).then(
    (a) => a ?? null,
    () => null,
  )

/** Replaces the slot's content with the answer's items: title, price, image, first reason. */
export function render(slot: HTMLElement, answer: RecommendationAnswer, fromCache: boolean): void {
  slot.replaceChildren(...recommendationMarkup(answer, slot.dataset).map(build))
  // An empty answer (an A/B test's holdout, or nothing to show) leaves the slot hidden.
  slot.hidden = !answer.items.length
  slot.dataset.vistaFilled = fromCache ? 'cache' : answer.id
}
