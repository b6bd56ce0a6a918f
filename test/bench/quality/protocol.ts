// The quality race's protocol, one for every model and data set: interactions in one time order (ties broken
// by a seeded random key), what a model is asked (a query) and what it answers, and the seeded random source.

/** What a shopper did with an item: a MovieLens rating is `rate`; the e-commerce set has views, adds and orders. */
export type Kind = 'view' | 'add' | 'buy' | 'rate'

/** One interaction of a data set. */
export interface Interaction {
  user: string
  item: string
  kind: Kind
  /** 1-5, for `rate` only. */
  rating?: number
  /** Unix ms. */
  ts: number
  /** The visit it belongs to. */
  session: string
  /** A seeded random key that orders interactions of the same user and millisecond (no order is known). */
  tie: number
  /** 0-based position in the source: the id an event is replayed under. */
  line: number
}

/** Earlier first: by time, then by the seeded tie key, then by line. */
export const chronological = (a: Interaction, b: Interaction) => a.ts - b.ts || a.tie - b.tie || a.line - b.line

/** What a model is asked: a user's top `k` items given everything before this point. */
export interface Query {
  user: string
  /** What the user did before this point, oldest first: their training history and, in a visit, its events so far. */
  history: Interaction[]
  /** Items no answer may hold: the same for every model (those the user already interacted with). */
  exclude: ReadonlySet<string>
  k: number
  /** When the query is made, ms: just after the last history item. */
  now: number
}

/** A model under evaluation: `k` distinct items of the catalog, none of them excluded, best first. */
export interface Ranker {
  name: string
  rank(query: Query): string[] | Promise<string[]>
}

/** A deterministic uniform [0, 1) source (mulberry32): the same seed gives the same splits and intervals. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
