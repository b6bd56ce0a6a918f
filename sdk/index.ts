// The script tag: <script src="/v1/vista.js" data-site="demo" data-key="pk_..." async></script>
// The only module that touches `document` at load. Nothing here may throw into the host page.
import { renderBanner } from './banner'
import { pageContext } from './context'
import { applyEvent, cartTotals, emptyProfile, type Profile } from './profile'
import { cachedRecommendations, fetchRecommendations, render, type RecommendOptions } from './recommend'
import type { ConsentMode, DecisionAnswer, EventProperties, EventType, RecommendationAnswer, Strategy, VistaEvent } from '../contract/events'
import { createOutbox, type Stats } from './send'
import { change, persist, read, readDevice, remove, removeAll, writeDevice } from './store'

/** Inactivity after which the next event opens a new session. */
export const SESSION_TIMEOUT = 30 * 60_000

interface Ids {
  anonymousId: string
  userId: string | null
  sessionId: string
  lastActivity: number
}

/** A shopper's choice, kept on the device with its time. */
export interface ConsentChoice {
  tracking: boolean
  at: number
}
/** What tracking does now: `full` stores and sends, `anonymous` sends with a page-lifetime id and stores nothing, `off` does neither. */
export interface ConsentState {
  mode: ConsentMode
  level: 'full' | 'anonymous' | 'off'
  choice: ConsentChoice | null
  /** The browser's privacy signal, honoured unless the tag says `data-privacy-signals="ignore"`. */
  signal: 'gpc' | 'dnt' | null
}

/** The site backend's HMAC-SHA256 of each id, hex: `user` over "user:<userId>", `email` over "email:<sha256 of the address>". */
export type IdentitySignatures = { [K in 'user' | 'crm' | 'loyalty' | 'email']?: string }

/** The global `vista`. */
export interface Vista {
  /** Records an event; properties follow the event type. */
  track<T extends EventType>(type: T, properties: EventProperties[T]): void
  /**
   * Ties this device to a user id (and `traits.crmId`, `loyaltyId`, `email`, hashed here) under one UID,
   * for ids the site's backend signed (`signatures`); an unsigned id is only a claim of this device.
   */
  identify(userId: string, traits?: Record<string, unknown>, signatures?: IdentitySignatures): void
  /** Forgets the user on this device: new anonymous id, empty profile (events still waiting are kept). */
  reset(): void
  /** The profile kept on this device. */
  profile(): Promise<Profile>
  /** Recommendations for this shopper (the device's last answer when offline; null if none). */
  recommend(options?: RecommendOptions): Promise<RecommendationAnswer | null>
  /** The next best action for a placement, with its reasons (null when the Worker cannot be reached). */
  decide(placement: string): Promise<DecisionAnswer | null>
  /** Sends waiting events now. */
  flush(): Promise<void>
  /** Everything known about this shopper: on this device, and on the server (null if unreachable). */
  exportData(): Promise<{ device: Record<string, unknown>; server: unknown }>
  /** Erases this shopper everywhere: the server's rows (and later retries), then this device's store. */
  forget(): Promise<boolean>
  /** Records the shopper's choice (`{ tracking: true | false }`) with its time; without one, tells the current state. */
  consent(choice?: { tracking: boolean }): Promise<ConsentState>
  /** Runs a queued call: `vista.push(['track', 'Product Viewed', {...}])` works before and after load. */
  push(call: unknown[]): void
  /** Delivery counters: sent, dropped, retries. */
  stats: Stats
}

const script = document.currentScript as HTMLScriptElement | null
const data = script?.dataset ?? {}
const endpoint = data.endpoint ?? new URL('/v1', script?.src || location.href).href
const mode = (data.consent ?? 'tracking-with-opt-out') as ConsentMode
const { enqueue, flush, flushOnExit, retryNow, dropWaiting, stats } = createOutbox({
  endpoint,
  site: data.site ?? '',
  key: data.key ?? '',
  consent: mode,
  flushAt: Number(data.flushAt) || 10,
  flushInterval: Number(data.flushInterval) || 2000,
})

// 128 random bits as hex: crypto.randomUUID exists only on https and localhost.
const newId = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')

// Events are recorded one after another so the profile and the outbox see them in order.
let chain: Promise<unknown> = Promise.resolve()
const serially = <T>(fn: () => Promise<T>): Promise<T> => {
  const run = chain.then(fn)
  chain = run.catch(() => {})
  return run
}

// Events recorded but not yet in the outbox, drafted with the ids last stored: a page that leaves
// before storage answers (a link to the next page) still hands them to the browser as it goes.
const unsaved = new Map<string, VistaEvent>()
let known: Ids | undefined

/** Forgets what this page holds for sending: waiting events, drafts and the ids they were drafted with. */
function dropPending(): void {
  dropWaiting()
  unsaved.clear()
  known = undefined
}

/** Resolves once everything recorded so far is stored. */
const recorded = () => serially(async () => {})

const touch = (now: number, edit?: (ids: Ids) => Partial<Ids>) =>
  change<Ids>('ids', (old) => {
    const ids = old ?? { anonymousId: newId(), userId: null, sessionId: newId(), lastActivity: now }
    const sessionId = now - ids.lastActivity > SESSION_TIMEOUT ? newId() : ids.sessionId
    return { ...ids, sessionId, lastActivity: now, ...edit?.(ids) }
  }).then((ids) => (known = ids))

let referrer = document.referrer

// ---- Consent ------------------------------------------------------------------------------------

const privacy = navigator as Navigator & { globalPrivacyControl?: boolean }
const signal: ConsentState['signal'] =
  data.privacySignals === 'ignore' ? null : privacy.globalPrivacyControl ? 'gpc' : privacy.doNotTrack === '1' ? 'dnt' : null
let choice: ConsentChoice | null = null
// Off until the stored choice has been read: the first steps of the recording chain decide.
let level: ConsentState['level'] = 'off'

/** What a choice (or none) allows under this site's mode and the browser's signal. */
const levelFor = (c: ConsentChoice | null): ConsentState['level'] =>
  c?.tracking
    ? 'full'
    : mode === 'anonymous-until-consent'
      ? 'anonymous'
      : c || signal || mode === 'no-tracking-until-consent'
        ? 'off'
        : 'full'

/** Applies a choice: below `full`, IndexedDB keeps only the choice and events still waiting are not sent. */
async function applyConsent(c: ConsentChoice | null): Promise<void> {
  choice = c
  level = levelFor(c)
  if (level !== 'full') dropPending()
  await persist(level === 'full', 'consent')
}

function record<T extends EventType>(type: T, properties: EventProperties[T]): Promise<void> {
  // Time and page are read now: by the time storage answers, the SPA may be on the next route.
  const now = Date.now()
  const context = pageContext(referrer)
  const props = properties as { order_id?: string }
  // An order's id is its event id, so a reloaded thank-you page never counts it twice.
  const id = type === 'Order Completed' && props.order_id ? `order:${props.order_id}` : newId()
  const draft = ({ anonymousId, userId, sessionId }: Ids) =>
    ({ id, type, timestamp: now, anonymousId, userId, sessionId, context, properties }) as VistaEvent
  if (known && level !== 'off') unsaved.set(id, draft(known))
  return serially(async () => {
    if (level === 'off') return void unsaved.delete(id)
    const ids = await touch(now)
    await attribute(type, properties)
    const event = draft(ids)
    await change<Profile>('profile', (p) => applyEvent(p ?? emptyProfile(ids.anonymousId), event))
    await enqueue(event)
    unsaved.delete(id)
  })
}

// Product id -> the recommendation a shopper clicked to reach it, so later views, cart adds and
// orders carry its id and revenue can be attributed.
type Attribution = Record<string, string>
async function attribute(type: EventType, properties: unknown): Promise<void> {
  if (type !== 'Product Viewed' && type !== 'Product Added' && type !== 'Order Completed') return
  const clicked = (await read<Attribution>('attribution')) ?? {}
  const p = properties as EventProperties['Product Viewed'] & EventProperties['Order Completed']
  for (const product of type === 'Order Completed' ? p.products ?? [] : [p]) {
    const rec = clicked[product.product_id]
    if (rec && !product.recommendation_id) product.recommendation_id = rec
  }
}

const sha256 = async (text: string) =>
  Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('')

/** Sends the pending identify (kept on the device until the Worker confirms it, like events). */
async function sendLink(): Promise<void> {
  const link = await read<Record<string, unknown>>('link')
  if (!link) return
  const res = await fetch(`${endpoint}/identify`, { method: 'POST', body: JSON.stringify(link) })
  // Retry on the next page only when the Worker could not answer; a 4xx will not get better.
  if (res.status < 500) await remove('link')
}

/** Wraps a call so that nothing it throws or rejects reaches the host page. */
const safe =
  <A extends unknown[]>(fn: (...args: A) => unknown) =>
  (...args: A): void => {
    try {
      Promise.resolve(fn(...args)).catch(() => {})
    } catch {}
  }

// ---- Declarative tracking: data-vista-* attributes --------------------------------------------

const num = (value: string | undefined) => (value && Number.isFinite(+value) ? +value : undefined)

function product(el: HTMLElement, productId: string): EventProperties['Product Viewed'] {
  const d = el.dataset
  const p: EventProperties['Product Viewed'] = { product_id: productId }
  if (d.vistaName) p.name = d.vistaName
  if (d.vistaCategory) p.category = d.vistaCategory
  if (num(d.vistaPrice) !== undefined) p.price = num(d.vistaPrice)
  if (num(d.vistaQuantity) !== undefined) p.quantity = num(d.vistaQuantity)
  return p
}

let lastPath = ''
let viewed = new Set<string>()
let filled = new WeakSet<Element>()
const ordered = new Set<string>()

/** Fills a `data-vista-slot="recommendations"` element: the cached answer at once, then a fresh one. */
async function fill(slot: HTMLElement): Promise<void> {
  const d = slot.dataset
  const shown = document.querySelector<HTMLElement>('[data-vista-view]')?.dataset
  const options: RecommendOptions = {
    strategy: (d.strategy as Strategy | undefined) ?? 'for-you',
    limit: Number(d.limit) || 4,
    item: d.item ?? shown?.vistaView,
    category: d.category ?? shown?.vistaCategory ?? document.body?.dataset.vistaCategory,
  }
  const cached = await cachedRecommendations(options)
  if (cached && !slot.dataset.vistaFilled) render(slot, cached, true)
  const fresh = await api.recommend(options)
  if (!fresh || fresh.id === cached?.id) return // offline: the cached answer is all there is
  render(slot, fresh, false)
  void record('Recommendation Shown', {
    recommendation_id: fresh.id,
    product_ids: fresh.items.map((i) => i.id),
    slot: d.slotName ?? options.strategy,
    strategy: fresh.strategy,
  })
}

/** Fills a `data-vista-slot="banner"` element with the next best action for its placement. */
async function fillBanner(slot: HTMLElement): Promise<void> {
  const decision = await api.decide(slot.dataset.placement ?? 'top')
  if (!decision) slot.dataset.vistaDecision = 'none'
  const parts = decision && renderBanner(slot, decision)
  if (!decision?.action || !parts) return
  const offer = { decision_id: decision.id, action_id: decision.action.id, placement: decision.placement }
  void record('Offer Shown', offer)
  parts.link.addEventListener('click', safe(() => record('Offer Accepted', offer)))
  parts.dismiss.addEventListener(
    'click',
    safe(() => {
      slot.hidden = true
      return record('Offer Dismissed', offer)
    }),
  )
}

/** Tracks a page view when the route changed, then products and orders shown on the page. */
function sync(): void {
  const path = location.pathname + location.search
  if (path !== lastPath) {
    if (lastPath) referrer = location.origin + lastPath
    lastPath = path
    viewed = new Set()
    filled = new WeakSet()
    const props: EventProperties['Page Viewed'] = { name: document.title }
    if (document.body?.dataset.vistaPage) props.page_type = document.body.dataset.vistaPage
    void record('Page Viewed', props).catch(() => {})
  }
  for (const el of document.querySelectorAll<HTMLElement>('[data-vista-view]')) {
    const id = el.dataset.vistaView!
    if (viewed.has(id)) continue
    viewed.add(id)
    void record('Product Viewed', product(el, id)).catch(() => {})
  }
  for (const slot of document.querySelectorAll<HTMLElement>('[data-vista-slot]')) {
    if (filled.has(slot)) continue
    filled.add(slot)
    void (slot.dataset.vistaSlot === 'banner' ? fillBanner(slot) : fill(slot)).catch(() => {})
  }
  for (const el of document.querySelectorAll<HTMLElement>('[data-vista-order]')) {
    const id = el.dataset.vistaOrder!
    if (ordered.has(id)) continue
    ordered.add(id)
    const lines = [...el.querySelectorAll<HTMLElement>('[data-vista-line]')]
    void record('Order Completed', {
      order_id: id,
      revenue: num(el.dataset.vistaRevenue) ?? 0,
      ...(el.dataset.vistaCurrency ? { currency: el.dataset.vistaCurrency } : {}),
      products: lines.map((line) => product(line, line.dataset.vistaLine!)),
    }).catch(() => {})
  }
}

// Route changes and DOM changes both end in one deferred sync, so the page view always comes
// first and a product shown once per page view is counted once.
let pending: ReturnType<typeof setTimeout> | undefined
const later = safe(() => {
  clearTimeout(pending)
  pending = setTimeout(safe(sync), 0)
})

function onClick(e: Event): void {
  const el = (e.target as Element | null)?.closest?.<HTMLElement>(
    '[data-vista-add],[data-vista-remove],[data-vista-rate],[data-vista-rec]',
  )
  if (!el) return
  const d = el.dataset
  if (d.vistaRec && d.vistaProduct) {
    const product = d.vistaProduct
    const rec = d.vistaRec
    void record('Recommendation Clicked', { recommendation_id: rec, product_id: product, position: Number(d.vistaPosition) })
    void change<Attribution>('attribution', (all = {}) => ({ ...all, [product]: rec })).catch(() => {})
  } else if (d.vistaAdd) void record('Product Added', product(el, d.vistaAdd))
  else if (d.vistaRemove) void record('Product Removed', product(el, d.vistaRemove))
  else if (d.vistaRate && num(d.vistaRating))
    void record('Product Reviewed', { product_id: d.vistaRate, rating: num(d.vistaRating)! })
}

// ---- The public API ---------------------------------------------------------------------------

const api: Vista = {
  track: safe((type, properties) => record(type, properties ?? {})),
  identify: safe((userId: string, traits?: Record<string, unknown>, signatures?: IdentitySignatures) =>
    serially(async () => {
      // Anonymous means no user id either.
      if (typeof userId !== 'string' || !userId || level !== 'full') return
      const ids = await touch(Date.now(), () => ({ userId }))
      await change<Profile>('profile', (p) => ({
        ...(p ?? emptyProfile(ids.anonymousId)),
        userId,
        traits: { ...p?.traits, ...traits },
      }))
      const link: Record<string, unknown> = { site: data.site ?? '', key: data.key ?? '', anonymousId: ids.anonymousId, userId, signatures }
      if (typeof traits?.crmId === 'string') link.crmId = traits.crmId
      if (typeof traits?.loyaltyId === 'string') link.loyaltyId = traits.loyaltyId
      // The e-mail address never leaves the device: only its SHA-256, after trim and lower-case.
      if (typeof traits?.email === 'string') link.emailHash = await sha256(traits.email.trim().toLowerCase())
      await change('link', () => link)
      void sendLink().catch(() => {}) // not awaited: the network must never hold up recording
    }),
  ),
  reset: safe(() =>
    serially(async () => {
      const anonymousId = newId()
      await touch(Date.now(), () => ({ anonymousId, userId: null, sessionId: newId() }))
      await change<Profile>('profile', () => emptyProfile(anonymousId))
    }),
  ),
  profile: () =>
    serially(async () => (await read<Profile>('profile')) ?? emptyProfile('')).catch(() => emptyProfile('')),
  // Waits for events already being recorded, then sends outside the chain so a slow network
  // never holds up recording.
  flush: () => recorded().then(flush).catch(() => {}),
  decide: async (placement) => {
    try {
      // Events already being recorded come first: the landing page view creates the ids.
      await recorded()
      if (level === 'off') return null
      const [ids, profile] = await Promise.all([read<Ids>('ids'), read<Profile>('profile')])
      const shown = document.querySelector<HTMLElement>('[data-vista-view]')?.dataset
      const page = pageContext(referrer)
      const now = new Date()
      const context = {
        page: { type: document.body?.dataset.vistaPage, path: location.pathname, item: shown?.vistaView, category: shown?.vistaCategory },
        cart: { ...(profile ? cartTotals(profile) : { total: 0, count: 0 }), items: Object.keys(profile?.cart ?? {}) },
        device: page.device,
        time: { hour: now.getHours(), weekday: now.getDay() },
        referrer: page.page.referrer,
        utm: page.utm,
      }
      const body = { site: data.site, key: data.key, anonymousId: ids?.anonymousId, placement, context }
      const res = await fetch(`${endpoint}/decide`, { method: 'POST', body: JSON.stringify(body) })
      return res.ok ? ((await res.json()) as DecisionAnswer) : null
    } catch {
      return null
    }
  },
  // Both read and wipe the device in the recording chain, but wait for the network outside it:
  // a slow server must never hold up recording.
  exportData: async () => {
    const [ids, profile, outbox] = await serially(() => Promise.all([read<Ids>('ids'), read('profile'), read('outbox')]))
    const query = new URLSearchParams({ site: data.site ?? '', key: data.key ?? '', anonymousId: ids?.anonymousId ?? '' })
    const server = await fetch(`${endpoint}/privacy/export?${query}`)
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null)
    return { device: { ids, profile, outbox }, server }
  },
  forget: async () => {
    try {
      const ids = await serially(() => read<Ids>('ids'))
      const body = JSON.stringify({ site: data.site, key: data.key, anonymousId: ids?.anonymousId })
      const res = ids ? await fetch(`${endpoint}/privacy/erase`, { method: 'POST', body }).catch(() => null) : null
      // Offline: keep everything, so the erasure can be asked again with the same id.
      if (ids && !res?.ok) return false
      await serially(async () => {
        dropPending()
        await removeAll()
      })
      return true
    } catch {
      return false
    }
  },
  recommend: async (options = {}) => {
    try {
      await recorded() // the consent decides which store holds the ids
      const [ids, profile] = await Promise.all([read<Ids>('ids'), read<Profile>('profile')])
      const cart = Object.keys(profile?.cart ?? {}).join(',')
      return await fetchRecommendations(endpoint, { site: data.site, key: data.key, anonymousId: ids?.anonymousId, cart }, options)
    } catch {
      return null
    }
  },
  consent: (c) =>
    serially(async () => {
      if (typeof c?.tracking === 'boolean') {
        const record = { tracking: c.tracking, at: Date.now() }
        await writeDevice('consent', record)
        await applyConsent(record)
      }
    })
      .then(() => void flush().catch(() => {}))
      .catch(() => {})
      .then(() => ({ mode, level, choice, signal })),
  push: safe((call: unknown[]) => {
    const [method, ...args] = call as [keyof Vista, ...unknown[]]
    const fn = api[method]
    if (typeof fn === 'function' && method !== 'push') (fn as (...a: unknown[]) => unknown)(...args)
  }),
  stats,
}

safe(() => {
  // First in the recording chain: nothing is recorded before the stored choice is known.
  void serially(async () => {
    await applyConsent((await readDevice<ConsentChoice>('consent')) ?? null)
    if (level !== 'off') known = await read<Ids>('ids')
  })
    .then(() => Promise.all([flush(), sendLink()]))
    .catch(() => {})
  const queued = (window as { vista?: unknown }).vista
  ;(window as { vista?: Vista }).vista = api
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method]
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args)
      later()
      return result
    }
  }
  addEventListener('popstate', later)
  addEventListener('online', safe(retryNow))
  document.addEventListener('click', safe(onClick), true)
  // pagehide fires on desktop unload; visibilitychange is the last reliable moment on mobile.
  const exit = () => flushOnExit([...unsaved.values()])
  addEventListener('pagehide', safe(exit))
  document.addEventListener('visibilitychange', safe(() => document.visibilityState === 'hidden' && exit()))
  new MutationObserver(later).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ['data-vista-view', 'data-vista-order', 'data-vista-slot'],
  })
  // The landing page view waits for DOMContentLoaded, after the deferred scripts that may set its
  // page type; readyState alone cannot tell, as it turns "interactive" before those scripts run.
  const nav = performance.getEntriesByType?.('navigation')[0] as PerformanceNavigationTiming | undefined
  if (document.readyState === 'loading' || (nav && !nav.domContentLoadedEventStart)) {
    document.addEventListener('DOMContentLoaded', later)
  } else sync()
  if (Array.isArray(queued)) queued.forEach(api.push)
})()
