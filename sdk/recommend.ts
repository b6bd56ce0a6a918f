// Recommendations on the page: fetched for a slot, shown from the device cache at once, then refreshed.
// Rendering uses DOM APIs and textContent only: no server string ever becomes HTML.
import { el } from './dom'
import type { RecommendationAnswer, Strategy } from '../contract'
import { change, read } from './store'
import { safeUrl } from '../contract/url'

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
  const link = slot.dataset.link ?? '/p/{id}'
  const currency = slot.dataset.currency
  const list = el('ul', 'vista-items')
  answer.items.forEach((item, position) => {
    const a = el('a', 'vista-item')
    a.href = safeUrl(link.replace('{id}', encodeURIComponent(item.id)))
    a.dataset.vistaRec = answer.id
    a.dataset.vistaPosition = String(position)
    a.dataset.vistaProduct = item.id
    if (item.image && safeUrl(item.image)) {
      const img = el('img', 'vista-image')
      img.src = safeUrl(item.image)
      img.alt = ''
      img.loading = 'lazy'
      a.append(img)
    }
    const price = currency
      ? new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(item.price)
      : item.price.toFixed(2)
    a.append(el('span', 'vista-name', item.title), el('span', 'vista-price', price))
    const why = el('small', 'vista-reason', item.reasons[0] ?? '')
    why.title = item.reasons.join(' · ')
    a.append(why)
    const li = el('li', 'vista-entry')
    li.append(a)
    list.append(li)
  })
  const title = el('h2', 'vista-title', slot.dataset.title ?? answer.label)
  slot.replaceChildren(title, list)
  // An empty answer (an A/B test's holdout, or nothing to show) leaves the slot hidden.
  slot.hidden = !answer.items.length
  slot.dataset.vistaFilled = fromCache ? 'cache' : answer.id
}
