// The outbox: every event is stored before it is sent, sent in batches, and removed only once the
// Worker confirms it. Retries are safe because the Worker stores each event id once.
import type { ApiError, ConsentMode, VistaEvent } from '../contract'
import { change, read } from './store'

/** Most events kept waiting; beyond it the oldest are dropped (and counted). */
export const MAX_OUTBOX = 1000
/** Bytes per request: keepalive fetches and beacons share a 64 KB budget. */
export const MAX_REQUEST_BYTES = 60_000
/** Backoff bounds, in ms. */
export const BACKOFF_BASE = 1000
export const BACKOFF_MAX = 5 * 60_000

/** Where and how often the outbox sends. */
export interface SendConfig {
  endpoint: string
  site: string
  key: string
  /** The tag's consent mode, sent along so the Worker can refuse a tag laxer than the site's setting. */
  consent?: ConsentMode
  /** Flush as soon as this many events wait. */
  flushAt: number
  /** Otherwise flush this many ms after the first waiting event. */
  flushInterval: number
}

/** Counters for the curious (and the tests). */
export interface Stats {
  sent: number
  dropped: number
  retries: number
}

/** One Vista's sender, from createOutbox. */
export type Outbox = readonly [
  enqueue: (event: VistaEvent) => Promise<void>,
  flush: () => Promise<void>,
  retryNow: () => void,
  flushOnExit: (unsaved?: VistaEvent[]) => void,
  dropWaiting: () => void,
  stats: Stats,
]

const OUTBOX = 'outbox'

/** A sender with its own config, timers and counters; the stored outbox it sends is the device's. */
export function createOutbox(config: SendConfig): Outbox {
  const stats: Stats = { sent: 0, dropped: 0, retries: 0 }
  // What this page last knew was waiting, so pagehide can beacon it without an async read.
  let waiting: VistaEvent[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  let sending: Promise<void> | undefined
  let attempt = 0
  let retryAt = 0

  /** Stores an event in the outbox, then schedules a flush. */
  async function enqueue(event: VistaEvent): Promise<void> {
    waiting = await change<VistaEvent[]>(OUTBOX, (all = []) => {
      const next = [...all, event]
      stats.dropped += Math.max(0, next.length - MAX_OUTBOX)
      return next.slice(-MAX_OUTBOX)
    })
    schedule(waiting.length >= config.flushAt ? 0 : config.flushInterval)
  }

  function schedule(delay: number): void {
    const at = Math.max(Date.now() + delay, retryAt)
    clearTimeout(timer)
    timer = setTimeout(() => void flush().catch(() => {}), at - Date.now())
  }

  /** Sends waiting events until the outbox is empty or the Worker asks to wait; a call during a send waits for it. */
  function flush(): Promise<void> {
    // Tabs of one shop share one outbox: one sends at a time, or each would send every event.
    // The browser frees the lock when a tab closes mid-send.
    sending ??= (async () => {
      try {
        await (navigator.locks ? navigator.locks.request('vista-outbox', sendAll) : sendAll())
      } finally {
        sending = undefined
      }
    })()
    return sending
  }

  async function sendAll(): Promise<void> {
    for (;;) {
      waiting = (await read<VistaEvent[]>(OUTBOX)) ?? []
      if (waiting.length === 0) return
      // Too early (a flush() by hand, or a timer firing a hair before the clock): try again then.
      if (Date.now() < retryAt) return schedule(0)
      const batch = takeBatch(waiting)
      const res = await post(batch).catch(() => null)
      if (res?.ok) {
        stats.sent += batch.length
        attempt = 0
        await drop(batch)
      } else if (res?.status === 400) {
        // Only the events the Worker names are bad: drop those, resend the rest.
        const body = (await res.json().catch(() => ({}))) as ApiError
        const bad = new Set(body.issues?.map((i) => i.event).filter((i) => i !== undefined))
        const named = batch.filter((_, i) => bad.has(i))
        const rejected = named.length > 0 ? named : batch
        stats.dropped += rejected.length
        await drop(rejected)
      } else if (res && res.status < 500 && ![401, 403, 408, 429].includes(res.status)) {
        stats.dropped += batch.length
        await drop(batch)
      } else {
        backoff(res)
        return
      }
    }
  }

  /** Tries again now, without waiting out the backoff: the browser says it is back online. */
  function retryNow(): void {
    retryAt = attempt = 0
    void flush().catch(() => {})
  }

  function backoff(res: Response | null): void {
    stats.retries++
    const exp = Math.min(BACKOFF_MAX, BACKOFF_BASE * 2 ** attempt++)
    // Equal jitter: never sooner than half the step, so many devices spread out after an outage.
    const delay = retryAfter(res) ?? exp / 2 + Math.random() * (exp / 2)
    retryAt = Date.now() + Math.ceil(delay)
    schedule(0)
  }

  const body = (events: VistaEvent[]) =>
    JSON.stringify({ site: config.site, key: config.key, sentAt: Date.now(), consent: config.consent, events })

  // A string body goes as text/plain, which keeps the request "simple": no CORS preflight.
  // A request that never answers would hold up every later send: give up after 30 s and retry.
  const post = (events: VistaEvent[]) =>
    fetch(`${config.endpoint}/events`, { method: 'POST', body: body(events), signal: AbortSignal.timeout?.(30_000) })

  async function drop(events: VistaEvent[]): Promise<void> {
    const ids = new Set(events.map((e) => e.id))
    waiting = await change<VistaEvent[]>(OUTBOX, (all = []) => all.filter((e) => !ids.has(e.id)))
  }

  /**
   * Hands whatever waits (and `unsaved`, events not yet in the outbox) to the browser as the page goes
   * away. The outbox keeps them: the next page sends them again unless confirmed, and the Worker
   * drops the repeats.
   */
  function flushOnExit(unsaved: VistaEvent[] = []): void {
    const queued = new Set(waiting.map((e) => e.id))
    for (let rest = [...waiting, ...unsaved.filter((e) => !queued.has(e.id))]; rest.length > 0; ) {
      const batch = takeBatch(rest)
      rest = rest.slice(batch.length)
      if (!navigator.sendBeacon?.(`${config.endpoint}/events`, body(batch))) {
        fetch(`${config.endpoint}/events`, { method: 'POST', body: body(batch), keepalive: true }).catch(() => {})
      }
    }
  }

  /** Forgets what waits in memory (the stored outbox is erased by the caller). */
  function dropWaiting(): void {
    waiting = []
    clearTimeout(timer)
  }

  // A tuple, not an object: an object's property names would ship in the bundle.
  return [enqueue, flush, retryNow, flushOnExit, dropWaiting, stats]
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), if any. */
export function retryAfter(res: Response | null): number | undefined {
  const value = res?.headers.get('Retry-After')
  if (!value) return undefined
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now()
  return Number.isFinite(ms) ? Math.min(BACKOFF_MAX, Math.max(0, ms)) : undefined
}

/** The oldest events that fit one request. */
export function takeBatch(events: VistaEvent[], maxBytes = MAX_REQUEST_BYTES, maxEvents = 100): VistaEvent[] {
  const batch: VistaEvent[] = []
  let bytes = 200 // the envelope
  for (const event of events.slice(0, maxEvents)) {
    const size = JSON.stringify(event).length + 1
    if (batch.length > 0 && bytes + size > maxBytes) break
    batch.push(event)
    bytes += size
  }
  return batch
}
