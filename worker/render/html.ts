// contract/markup.ts's trees as HTML text, for `format=html` answers and the edge pass: the
// SDK's markup, every attribute value and text escaped by Hono's HTML escaper.
import { escapeToBuffer } from 'hono/utils/html'
import type { DecisionAnswer, RecommendationAnswer } from '../../contract'
import { bannerMarkup, recommendationMarkup, type Markup, type SlotLook } from '../../contract/markup'

/** Elements that have no end tag. */
const VOID = new Set(['img'])

/** `text` with & < > " ' escaped, safe in element content and in a quoted attribute value. */
export function escapeHtml(text: string): string {
  const buffer: [string] = ['']
  escapeToBuffer(text, buffer)
  return buffer[0]
}

/** The HTML of markup trees; tags and attribute names come from contract/markup.ts, never from data. */
export function toHtml(nodes: Markup[]): string {
  return nodes
    .map(([tag, attributes, content]) => {
      const attrs = Object.entries(attributes)
        .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
        .join('')
      if (VOID.has(tag)) return `<${tag}${attrs}>`
      const inner = typeof content === 'string' ? escapeHtml(content) : toHtml(content ?? [])
      return `<${tag}${attrs}>${inner}</${tag}>`
    })
    .join('')
}

/** The attributes the edge pass gives a recommendations slot it filled: sdk/slots.ts reads them to track it. */
export const filledRecommendations = (answer: RecommendationAnswer): Record<string, string> => ({
  'data-vista-edge': answer.strategy,
  'data-vista-filled': answer.id,
  // An empty answer (an A/B holdout, nothing to show) leaves the slot hidden, as the tag does.
  ...(answer.items.length ? {} : { hidden: '' }),
})

/** The attributes the edge pass gives a banner slot it filled. */
export const filledBanner = (decision: DecisionAnswer): Record<string, string> => ({
  'data-vista-edge': '',
  'data-vista-decision': decision.id,
  ...(decision.action ? { 'data-vista-action': decision.action.id } : { hidden: '' }),
})

/** A recommendations slot with its answer, for `format=html`: the page's tag tracks it as it does an edge-filled one. */
export function recommendationSlotHtml(
  answer: RecommendationAnswer,
  slot: SlotLook & { strategy: string; slot?: string },
  locale?: string,
): string {
  const attributes = { 'data-vista-slot': 'recommendations', 'data-strategy': slot.strategy }
  const named: Record<string, string> = slot.slot ? { 'data-slot-name': slot.slot } : {}
  const children = recommendationMarkup(answer, slot, locale)
  return toHtml([['div', { ...attributes, ...named, ...filledRecommendations(answer) }, children]])
}

/** A banner slot with its decision, for `format=html`. */
export function bannerSlotHtml(decision: DecisionAnswer): string {
  const attributes = { 'data-vista-slot': 'banner', 'data-placement': decision.placement }
  return toHtml([['div', { ...attributes, ...filledBanner(decision) }, bannerMarkup(decision)]])
}

/** The first language of an Accept-Language header, if it is a valid locale: prices are formatted in it. */
export function requestLocale(header: string | undefined): string | undefined {
  const first = header?.split(',')[0]?.split(';')[0]?.trim()
  if (!first || first === '*') return undefined
  try {
    return Intl.getCanonicalLocales(first)[0]
  } catch {
    return undefined
  }
}
