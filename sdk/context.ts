// Page context attached to every event: where, from where, on what.
import type { EventContext } from '../contract'
import { deviceClass } from '../contract/device'

const UTM = ['source', 'medium', 'campaign', 'term', 'content'] as const

// The page's own state, shared by every Vista on it: the route it left last (set by autotrack.ts).
let left: string | undefined

/** Notes an SPA route change away from `path`: later events name that URL as their referrer. */
export const navigated = (path: string) => void (left = location.origin + path)

/** The context of an event on the current page; its referrer is the route left last after SPA navigation. */
export function pageContext(): EventContext {
  const referrer = left ?? document.referrer
  const params = new URLSearchParams(location.search)
  const utm: EventContext['utm'] = {}
  for (const key of UTM) {
    const value = params.get(`utm_${key}`)
    if (value) utm[key] = value.slice(0, 200)
  }
  return {
    page: {
      url: location.href.slice(0, 2048),
      path: location.pathname.slice(0, 1024),
      referrer: referrer.slice(0, 2048),
      title: document.title.slice(0, 300),
    },
    utm,
    device: deviceClass(navigator.userAgent, innerWidth),
    viewport: { width: innerWidth, height: innerHeight },
    locale: navigator.language.slice(0, 35),
  }
}
