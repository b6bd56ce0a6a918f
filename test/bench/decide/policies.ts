// The bench's policies: each one's tally and its own contact history, and the visits they choose for.
import type { DecisionAnswer } from '../../../contract'
import type { Contact } from '../../../worker/decide/engine'
import type { Shopper } from './world'

/** One visit: who, what the Worker answered, this visit's acceptance draws, and the batch it went out in. */
export interface Visit {
  round: number
  tick: number
  shopper: Shopper
  answer: DecisionAnswer
  draws: Map<string, number>
  closes: boolean
}

/** A policy's tally and its own contact history; a contact counts once the batch carrying it is stored. */
export interface Policy {
  name: string
  contacts: Map<string, Contact[]>
  due: Array<{ shopper: string; contact: Contact; tick: number }>
  shown: number
  accepted: number
  value: number
  expected: number
  regret: number
  capped: number
  checkpoints: number[]
  halves: [number, number]
}

export const policy = (name: string): Policy => ({
  name,
  contacts: new Map(),
  due: [],
  shown: 0,
  accepted: 0,
  value: 0,
  expected: 0,
  regret: 0,
  capped: 0,
  checkpoints: [],
  halves: [0, 0],
})

export function reveal(p: Policy, tick: number) {
  for (const d of p.due.filter((d) => d.tick <= tick))
    p.contacts.set(d.shopper, [...(p.contacts.get(d.shopper) ?? []), d.contact])
  p.due = p.due.filter((d) => d.tick > tick)
}

export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  return out
}

export interface Logged {
  id: string
  action_id: string | null
  context: string
  probability: number
  reward: number
  holdout: number
  created_at: number
}
