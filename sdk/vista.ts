// createVista: one shopper's tracker, profile, consent and answers for one site. Nothing happens at
// import; a call starts reading the stored consent and sending what waits, and listens for the page
// going away or back online. It tracks nothing by itself: autotrack.ts reads the page for it.
// The device store (IndexedDB: ids, profile, outbox, consent choice) is the origin's, shared by every
// instance and tab; what an instance holds in memory (its site, consent level, recording order,
// delivery timers and counters) is its own.
import type {
  ConsentMode,
  DecideRequest,
  DecisionAnswer,
  EventProperties,
  EventType,
  IdentifyRequest,
  IdentitySignatures,
  RecommendationAnswer,
  ShopperRequest,
  Visit,
  VistaEvent,
} from '../contract'
import { levelFor, privacySignal, type ConsentChoice, type ConsentState } from './consent'
import { pageContext } from './context'
import { applyEvent, cartTotals, emptyProfile, type Profile } from './profile'
import { fetchRecommendations, type RecommendOptions } from './recommend'
import { attribute, newId, SESSION_TIMEOUT, sha256, type Ids } from './record'
import { createOutbox, type Stats } from './send'
import { change, persist, read, readDevice, remove, removeAll, writeDevice } from './store'
import { encodeRecent } from '../contract/recent'

/** What the script tag's data attributes set (index.ts passes its dataset as they are: text). */
export interface VistaOptions {
  /** The Worker's API, e.g. `https://shop.example/v1`. */
  endpoint: string
  site?: string
  /** The site's public key. */
  key?: string
  /** The site's consent mode; `tracking-with-opt-out` by default. */
  consent?: ConsentMode
  /** `ignore` stops honouring Global Privacy Control and Do Not Track. */
  privacySignals?: string
  /** Events waiting that trigger a send (default 10). */
  flushAt?: number | string
  /** Otherwise, ms to wait before sending (default 2000). */
  flushInterval?: number | string
  /** Set (`data-edge`) when the Worker's edge pass served the page: the anonymous id then goes in a cookie. */
  edge?: string
}

/** The site backend's HMAC-SHA256 of each id, hex: `user` over "user:<userId>", `email` over "email:<sha256 of the address>". */
export type { IdentitySignatures } from '../contract'

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

/** Wraps a call so that nothing it throws or rejects reaches the host page. */
export const safe =
  <A extends unknown[]>(fn: (...args: A) => unknown) =>
  (...args: A): void => {
    try {
      Promise.resolve(fn(...args)).catch(() => {})
    } catch {}
  }

/** A Vista for one site: see the top of this file for what a call starts. */
export function createVista(options: VistaOptions): Vista {
  const { endpoint, site, key } = options
  const mode = options.consent ?? 'tracking-with-opt-out'
  const post = (path: string, body: unknown) =>
    fetch(`${endpoint}/${path}`, { method: 'POST', body: JSON.stringify(body) })
  // The device's ids and profile, as decide, recommend and exportData read them.
  const shopper = () => Promise.all([read<Ids>('ids'), read<Profile>('profile')])
  const [enqueue, flush, retryNow, flushOnExit, dropWaiting, stats] = createOutbox({
    endpoint,
    site: site ?? '',
    key: key ?? '',
    consent: mode,
    // Unary plus, not Number() (3 B of gzip): a missing or non-numeric value is NaN, so the default.
    flushAt: +options.flushAt! || 10,
    flushInterval: +options.flushInterval! || 2000,
  })

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

  // The edge pass personalises the next page's HTML by this first-party cookie: set only at consent
  // level full, removed below it and on erasure.
  const cookie = (id = '') =>
    options.edge != null && (document.cookie = `vista_aid=${id};path=/;samesite=lax;max-age=${id ? 4e7 : 0}`)

  /** Stores activity at `now` (a new session after SESSION_TIMEOUT) with `edit`'s changes; resolves to the ids. */
  const stamp = (now: number, edit?: (ids: Ids) => Partial<Ids>) =>
    change<Ids>('ids', (old) => {
      const ids = old ?? { anonymousId: newId(), userId: null, sessionId: newId(), lastActivity: now }
      const sessionId = now - ids.lastActivity > SESSION_TIMEOUT ? newId() : ids.sessionId
      return { ...ids, sessionId, lastActivity: now, ...edit?.(ids) }
    }).then((ids) => {
      cookie(level === 'full' ? ids.anonymousId : '')
      return (known = ids)
    })

  const signal = privacySignal(options.privacySignals === 'ignore')
  let choice: ConsentChoice | null = null
  // Off until the stored choice has been read: the first steps of the recording chain decide.
  let level: ConsentState['level'] = 'off'

  /** Applies a choice: below `full`, IndexedDB keeps only the choice and events still waiting are not sent. */
  async function applyConsent(c: ConsentChoice | null): Promise<void> {
    choice = c
    level = levelFor(mode, signal, c)
    if (level !== 'full') {
      dropPending()
      cookie()
    }
    await persist(level === 'full', 'consent')
  }

  function record<T extends EventType>(type: T, properties: EventProperties[T]): Promise<void> {
    // Time and page are read now: by the time storage answers, the SPA may be on the next route.
    const now = Date.now()
    const context = pageContext()
    const props = properties as { order_id?: string }
    // An order's id is its event id, so a reloaded thank-you page never counts it twice.
    const id = type === 'Order Completed' && props.order_id ? `order:${props.order_id}` : newId()
    const draft = ({ anonymousId, userId, sessionId }: Ids) =>
      ({ id, type, timestamp: now, anonymousId, userId, sessionId, context, properties }) as VistaEvent
    if (known && level !== 'off') unsaved.set(id, draft(known))
    return serially(async () => {
      if (level === 'off') return void unsaved.delete(id)
      const ids = await stamp(now)
      await attribute(type, properties)
      const event = draft(ids)
      await change<Profile>('profile', (p) => applyEvent(p ?? emptyProfile(ids.anonymousId), event))
      await enqueue(event)
      unsaved.delete(id)
    })
  }

  /** Sends the pending identify (kept on the device until the Worker confirms it, like events). */
  async function sendLink(): Promise<void> {
    const link = await read<IdentifyRequest>('link')
    if (!link) return
    const res = await post('identify', link)
    // Retry on the next page only when the Worker could not answer; a 4xx will not get better.
    if (res.status < 500) await remove('link')
  }

  const api: Vista = {
    track: safe((type, properties) => record(type, properties ?? {})),
    identify: safe((userId: string, traits?: Record<string, unknown>, signatures?: IdentitySignatures) =>
      serially(async () => {
        // Anonymous means no user id either.
        if (typeof userId !== 'string' || !userId || level !== 'full') return
        const ids = await stamp(Date.now(), () => ({ userId }))
        await change<Profile>('profile', (p) => ({
          ...(p ?? emptyProfile(ids.anonymousId)),
          userId,
          traits: { ...p?.traits, ...traits },
        }))
        const link: IdentifyRequest = {
          site: site ?? '',
          key: key ?? '',
          anonymousId: ids.anonymousId,
          userId,
          signatures,
        }
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
        await stamp(Date.now(), () => ({ anonymousId, userId: null, sessionId: newId() }))
        await change<Profile>('profile', () => emptyProfile(anonymousId))
      }),
    ),
    profile: () =>
      serially(async () => (await read<Profile>('profile')) ?? emptyProfile('')).catch(() => emptyProfile('')),
    // Waits for events already being recorded, then sends outside the chain so a slow network
    // never holds up recording.
    flush: () =>
      serially(async () => {})
        .then(flush)
        .catch(() => {}),
    decide: async (placement) => {
      try {
        // Events already being recorded come first: the landing page view creates the ids.
        await serially(async () => {})
        if (level === 'off') return null
        const [ids, profile] = await shopper()
        const shown = document.querySelector<HTMLElement>('[data-vista-view]')?.dataset
        const page = pageContext()
        const now = new Date()
        const context = {
          page: {
            type: document.body?.dataset.vistaPage,
            path: location.pathname,
            item: shown?.vistaView,
            category: shown?.vistaCategory,
          },
          cart: { ...cartTotals(profile ?? emptyProfile('')), items: Object.keys(profile?.cart ?? {}) },
          device: page.device,
          time: { hour: now.getHours(), weekday: now.getDay() },
          referrer: page.page.referrer,
          utm: page.utm,
        } satisfies Visit
        // Partial: a missing site, key or id is the Worker's to refuse, with its reasons.
        const body = {
          site,
          key,
          anonymousId: ids?.anonymousId,
          placement,
          context,
          recent: encodeRecent(profile?.recent),
        } satisfies Partial<DecideRequest>
        const res = await post('decide', body)
        return res.ok ? ((await res.json()) as DecisionAnswer) : null
      } catch {
        return null
      }
    },
    // Both read and wipe the device in the recording chain, but wait for the network outside it:
    // a slow server must never hold up recording.
    exportData: async () => {
      const [[ids, profile], outbox] = await serially(() => Promise.all([shopper(), read('outbox')]))
      const query = new URLSearchParams({
        site: site ?? '',
        key: key ?? '',
        anonymousId: ids?.anonymousId ?? '',
      } satisfies ShopperRequest)
      const server = await fetch(`${endpoint}/privacy/export?${query}`)
        .then((r) => (r.ok ? r.json() : null))
        .catch(() => null)
      return { device: { ids, profile, outbox }, server }
    },
    forget: async () => {
      try {
        const ids = await serially(() => read<Ids>('ids'))
        const res = ids
          ? await post('privacy/erase', {
              site,
              key,
              anonymousId: ids.anonymousId,
            } satisfies Partial<ShopperRequest>).catch(() => null)
          : null
        // Offline: keep everything, so the erasure can be asked again with the same id.
        if (ids && !res?.ok) return false
        await serially(async () => {
          dropPending()
          cookie()
          await removeAll()
        })
        return true
      } catch {
        return false
      }
    },
    recommend: async (options = {}) => {
      try {
        await serially(async () => {}) // the consent decides which store holds the ids
        const [ids, profile] = await shopper()
        const cart = Object.keys(profile?.cart ?? {}).join(',')
        return await fetchRecommendations(
          endpoint,
          { site, key, anonymousId: ids?.anonymousId, cart, recent: encodeRecent(profile?.recent) },
          options,
        )
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

  // First in the recording chain: nothing is recorded before the stored choice is known.
  void serially(async () => {
    await applyConsent((await readDevice<ConsentChoice>('consent')) ?? null)
    if (level !== 'off') known = await read<Ids>('ids')
  })
    .then(() => Promise.all([flush(), sendLink()]))
    .catch(() => {})
  addEventListener('online', safe(retryNow))
  // pagehide fires on desktop unload; visibilitychange is the last reliable moment on mobile.
  addEventListener(
    'pagehide',
    safe(() => flushOnExit([...unsaved.values()])),
  )
  document.addEventListener(
    'visibilitychange',
    safe(() => document.visibilityState === 'hidden' && flushOnExit([...unsaved.values()])),
  )
  return api
}
