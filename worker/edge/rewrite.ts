// The HTMLRewriter pass over a shop page: each `data-vista-slot` element is answered as the tag
// would answer it (answer.ts, the same markup from contract/markup.ts) and filled in the stream;
// the script tag gets `data-edge`, so it tracks those slots instead of asking again. A slot the
// edge cannot answer as the tag would (a personal one without the shopper's cookie, the cart's,
// an item's without one on the page, one marked `data-vista-tag-only`) is left for the tag.
import { UTM_KEYS } from '../../contract'
import { deviceClass } from '../../contract/device'
import { bannerMarkup, recommendationMarkup } from '../../contract/markup'
import { answerDecision } from '../decide/answer'
import { answerRecommendations, type Serving } from '../recommend/answer'
import { recommendationQuery } from '../recommend/route'
import { aboutTheShopper, RECOMMENDERS } from '../recommend/strategies'
import { filledBanner, filledRecommendations, toHtml } from '../render/html'

/** What the pass knows about the request beyond the page. */
export interface PageRequest {
  serving: Serving
  /** The anonymous id from the tag's cookie; null without it, or under Global Privacy Control. */
  shopper: string | null
  locale?: string
  userAgent: string
  referrer?: string
  url: URL
  /** The shopper's time zone as Cloudflare tells it: banners' time conditions read local time. */
  timeZone?: string
}

/** The hour and weekday in the shopper's time zone, when known. */
function localTime(timeZone: string | undefined, now: Date): { hour: number; weekday: number } | undefined {
  if (!timeZone) return undefined
  try {
    const local = new Date(now.toLocaleString('en-US', { timeZone }))
    return { hour: local.getHours(), weekday: local.getDay() }
  } catch {
    return undefined
  }
}

/** Sets each attribute on a slot element. */
function mark(slot: Element, attributes: Record<string, string>): void {
  for (const [name, value] of Object.entries(attributes)) slot.setAttribute(name, value)
}

/** The page with its slots filled; a slot whose answer fails stays as it was, for the tag. */
export function fillSlots(page: Response, request: PageRequest): Response {
  const { serving, shopper } = request
  // What the page has said before a slot: its type and category (body), the item on screen and its category.
  const seen: { type?: string; bodyCategory?: string; item?: string; category?: string } = {}

  async function recommendations(slot: Element): Promise<void> {
    const attr = (name: string) => slot.getAttribute(name) ?? undefined
    const parsed = recommendationQuery.safeParse({
      site: serving.site.id,
      key: 'edge',
      strategy: attr('data-strategy'),
      // The tag's default, not the API's.
      limit: attr('data-limit') ?? '4',
      item: attr('data-item') ?? seen.item,
      category: attr('data-category') ?? seen.category ?? seen.bodyCategory,
      slot: attr('data-slot-name'),
      anonymousId: shopper ?? undefined,
    })
    if (!parsed.success) return
    const input = parsed.data
    const needs = RECOMMENDERS[input.strategy].needs
    if (needs.sources === 'cart' || (needs.sources === 'item' && !input.item)) return
    if (!shopper && aboutTheShopper(needs)) return
    const { answer } = await answerRecommendations(serving, input)
    const look = { link: attr('data-link'), currency: attr('data-currency'), title: attr('data-title') }
    mark(slot, filledRecommendations(answer))
    slot.setInnerContent(toHtml(recommendationMarkup(answer, look, request.locale)), { html: true })
  }

  async function banner(slot: Element): Promise<void> {
    // A decision is about the shopper (contacts, caps, segments): none without the cookie.
    if (!shopper) return
    const now = new Date()
    const decision = await answerDecision(serving, {
      site: serving.site.id,
      key: 'edge',
      anonymousId: shopper,
      placement: (slot.getAttribute('data-placement') ?? 'top').slice(0, 64),
      context: {
        page: { type: seen.type, path: request.url.pathname, item: seen.item, category: seen.category },
        device: deviceClass(request.userAgent, Infinity),
        time: localTime(request.timeZone, now),
        referrer: request.referrer?.slice(0, 2048),
        utm: Object.fromEntries(
          UTM_KEYS.flatMap((key) => {
            const value = request.url.searchParams.get(`utm_${key}`)
            return value ? [[key, value.slice(0, 200)]] : []
          }),
        ),
      },
    })
    mark(slot, filledBanner(decision))
    if (decision.action) slot.setInnerContent(toHtml(bannerMarkup(decision)), { html: true })
  }

  const filled = new HTMLRewriter()
    .on('body', {
      element(body) {
        seen.type = body.getAttribute('data-vista-page')?.slice(0, 64)
        seen.bodyCategory = body.getAttribute('data-vista-category')?.slice(0, 128)
      },
    })
    .on('[data-vista-view]', {
      element(shown) {
        if (seen.item) return
        seen.item = shown.getAttribute('data-vista-view')?.slice(0, 200)
        seen.category = shown.getAttribute('data-vista-category')?.slice(0, 128)
      },
    })
    .on('[data-vista-slot]', {
      async element(slot) {
        // The site's way to keep a slot for the tag, e.g. a banner whose actions test the cart.
        if (slot.hasAttribute('data-vista-tag-only')) return
        try {
          await (slot.getAttribute('data-vista-slot') === 'banner' ? banner(slot) : recommendations(slot))
        } catch (error) {
          console.error('edge slot left for the tag:', error)
        }
      },
    })
    .on('script[data-site]', {
      element(script) {
        script.setAttribute('data-edge', '')
      },
    })
    .transform(page)
  return new Response(filled.body, filled)
}
