// What the device already knows and the Worker may not have stored yet: the shopper's latest items,
// sent with every recommendation and decide request so the answer reflects the last click. Plain
// values, no zod: the SDK imports the encoder from here (the schema that checks it is in recommend.ts).

/** What the shopper did with an item, as the device's profile records it (`dismiss`: "not interested"). */
export const RECENT_KINDS = ['view', 'add', 'buy', 'rate', 'dismiss'] as const
export type RecentKind = (typeof RECENT_KINDS)[number]

/** One item the shopper interacted with on this device: `rating` (1-5) only for `rate`. */
export interface RecentItem {
  id: string
  kind: RecentKind
  /** When, in ms on the clock of whoever holds it (the device's, or the Worker's once decoded). */
  ts: number
  rating?: number
}

/** Most items the device keeps in its profile and sends with a request (one per item and kind). */
export const MAX_RECENT = 20
/** Longest encoded `recent` (a query parameter, so the URL stays small); the SDK drops the oldest items to fit. */
export const MAX_RECENT_CHARS = 2000

/**
 * One encoded item: `<id>.<kind><seconds ago>`, the kind as its first letter and a rating's grade after
 * its `r` (`tea-01.v42`, `tea-01.r4120`). Ages, not timestamps, so the device's clock never matters; a
 * negative age (a clock set back) counts as now. Ids may hold dots: the last one ends the id.
 */
export const RECENT_TOKEN = /^([A-Za-z0-9_.:-]{1,200})\.([vabd]|r[1-5])(-?\d{1,10})$/

/** The items, newest first, as one comma-separated `recent` of at most MAX_RECENT_CHARS; `now` in ms. */
export function encodeRecent(items: RecentItem[] = [], now = Date.now()): string {
  const text = items
    // A profile written by SDK 0.2 holds bare ids: those are skipped.
    .filter((r) => r.kind)
    // `| 0` truncates to whole seconds in 2 bytes (int32 is 68 years of seconds).
    .map((r) => `${r.id}.${r.kind[0]}${r.rating ?? ''}${((now - r.ts) / 1e3) | 0}`)
    .join()
    // Whole items only: with a comma after the last one, cut to one past the bound, then back to the
    // last comma (2 B of gzip smaller than testing the length first). An item is at most 214 characters.
    .concat(',')
    .slice(0, MAX_RECENT_CHARS + 1)
  return text.slice(0, text.lastIndexOf(','))
}

const KINDS: Record<string, RecentKind> = { v: 'view', a: 'add', b: 'buy', r: 'rate', d: 'dismiss' }

/** The items of `recent` tokens already checked against RECENT_TOKEN, with times on the clock of `now`. */
export const decodeRecent = (tokens: string[], now: number): RecentItem[] =>
  tokens.map((token) => {
    const [, id, kind, age] = RECENT_TOKEN.exec(token)!
    const item: RecentItem = { id: id!, kind: KINDS[kind![0]!]!, ts: now - Math.max(0, Number(age)) * 1000 }
    if (kind![1]) item.rating = Number(kind![1])
    return item
  })
