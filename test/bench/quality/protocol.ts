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

/** One scored moment: a user's state (the query's history) and the item that came next, for one task. */
export interface Case {
  /** Names the state, so tasks asked of the same state are ranked once. */
  key: string
  user: string
  /** What is being predicted: `next rated` (MovieLens), `next viewed`, `next added`. */
  task: string
  history: Interaction[]
  target: string
  /** Whether the target shared its millisecond with another of the user's items (its order among them was drawn). */
  tied: boolean
}

/** A training set and the cases scored against it. */
export interface Split {
  train: Interaction[]
  cases: Case[]
}

/** The two phases of a race: tune on `validation`, score `test` once; test.train is validation.train and more. */
export interface Race {
  validation: Split
  test: Split
}

/** Each user's interactions, oldest first. */
export function byUser(interactions: Interaction[]): Map<string, Interaction[]> {
  const users = new Map<string, Interaction[]>()
  for (const i of interactions) {
    const list = users.get(i.user)
    if (list) list.push(i)
    else users.set(i.user, [i])
  }
  for (const list of users.values()) list.sort(chronological)
  return users
}

const isTied = (list: Interaction[], at: number) =>
  list.some((other, o) => o !== at && other.ts === list[at]!.ts && other.item !== list[at]!.item)

/**
 * Leave-last-two-out: each user's last interaction is the test target, the one before it the validation target
 * (users with fewer than 3 only train). Later items of a validation or test target's own item are dropped from
 * what comes before it, so no target is already in its history.
 */
export function leaveLastTwoOut(interactions: Interaction[], task = 'next rated'): Race {
  const validation: Split = { train: [], cases: [] }
  const test: Split = { train: [], cases: [] }
  for (const [user, list] of byUser(interactions)) {
    if (list.length < 3) {
      validation.train.push(...list)
      test.train.push(...list)
      continue
    }
    const [heldValidation, heldTest] = [list.length - 2, list.length - 1]
    const before = (at: number) => list.slice(0, at).filter((i) => i.item !== list[at]!.item)
    const earlier = before(heldValidation)
    const state = (history: Interaction[], at: number, phase: string): Case => ({
      key: `${user}/${phase}`,
      user,
      task,
      history,
      target: list[at]!.item,
      tied: isTied(list, at),
    })
    validation.train.push(...earlier)
    validation.cases.push(state(earlier, heldValidation, 'validation'))
    const upToTest = before(heldTest)
    test.train.push(...upToTest)
    test.cases.push(state(upToTest, heldTest, 'test'))
  }
  validation.train.sort(chronological)
  test.train.sort(chronological)
  return { validation, test }
}

/**
 * Sessions continuing: each user's last visit is the test visit, the one before it the validation visit (users
 * with fewer than 3 visits only train). After each event of a scored visit, the next item viewed and the next item
 * added that the user never had before are that state's targets; the visit so far is in its history.
 */
export function lastTwoVisits(interactions: Interaction[]): Race {
  const validation: Split = { train: [], cases: [] }
  const test: Split = { train: [], cases: [] }
  for (const [user, list] of byUser(interactions)) {
    const visits = [...new Set(list.map((i) => i.session))]
    if (visits.length < 3) {
      validation.train.push(...list)
      test.train.push(...list)
      continue
    }
    const [validationVisit, testVisit] = visits.slice(-2)
    const cases = (visit: string, phase: string): Case[] => {
      const out: Case[] = []
      const start = list.findIndex((i) => i.session === visit)
      const end = list.length - 1 - [...list].reverse().findIndex((i) => i.session === visit)
      for (let at = start; at < end; at++) {
        const history = list.slice(0, at + 1)
        const had = new Set(history.map((i) => i.item))
        const rest = list.slice(at + 1, end + 1)
        const key = `${user}/${phase}/${at - start}`
        const add = (task: string, found: number) => {
          if (found < 0) return
          out.push({ key, user, task, history, target: rest[found]!.item, tied: isTied(list, at + 1 + found) })
        }
        // The next event's item, when it is new to the user; the first later add of an item new to them.
        add('next viewed', rest[0]!.kind === 'view' && !had.has(rest[0]!.item) ? 0 : -1)
        add(
          'next added',
          rest.findIndex((i) => i.kind === 'add' && !had.has(i.item)),
        )
      }
      return out
    }
    validation.train.push(...list.filter((i) => i.session !== validationVisit && i.session !== testVisit))
    validation.cases.push(...cases(validationVisit!, 'validation'))
    test.train.push(...list.filter((i) => i.session !== testVisit))
    test.cases.push(...cases(testVisit!, 'test'))
  }
  validation.train.sort(chronological)
  test.train.sort(chronological)
  return { validation, test }
}

/** The query a case asks: its history, every item of it excluded. */
export const queryOf = (c: Case, k: number): Query => ({
  user: c.user,
  history: c.history,
  exclude: new Set(c.history.map((i) => i.item)),
  k,
  now: (c.history.at(-1)?.ts ?? 0) + 1000,
})
