// The identity graph's rules, pure: which UID a set of identifiers belongs to, and what moves.

/** Identifier kinds, strongest first: a login outranks a CRM id, which outranks a device. */
export const IDENTITY_KINDS = ['user', 'crm', 'loyalty', 'email', 'anonymous'] as const
export type IdentityKind = (typeof IDENTITY_KINDS)[number]

/** One identifier of a shopper. */
export interface Identifier {
  kind: IdentityKind
  value: string
}

/** An identifier as stored, with the UID it points to. */
export interface Linked extends Identifier {
  uid: string
}

/** Ids a browser may claim besides its own anonymous id. */
export type ClaimKind = Exclude<IdentityKind, 'anonymous'>

/**
 * What linking does: identifiers to add to `uid`, UIDs whose identifiers all move to it, and single
 * identifiers that move to it alone (they sat in a UID of another login: a shared computer).
 */
export interface LinkPlan {
  uid: string
  links: Identifier[]
  merges: string[]
  moves: Linked[]
  reason: string
}

const rank = (kind: IdentityKind) => IDENTITY_KINDS.indexOf(kind)
// Hashed emails are long and say nothing to a reader; their first characters suffice in a log.
const label = (i: Identifier) => `${i.kind} ${i.kind === 'email' ? `${i.value.slice(0, 8)}…` : i.value}`

/**
 * Links verified `incoming` identifiers into one UID: the UID of the strongest identifier already
 * known (the first listed among equals), or `newUid` if none is. Other UIDs met on the way merge into
 * it, except a UID holding another login (`logins`: UID → its user id): two logins are two people, so
 * only the identifiers met there move. Nothing is deleted; every move is logged and can be undone.
 */
export function planLink(
  known: Linked[],
  incoming: Identifier[],
  newUid: string,
  logins: Record<string, string> = {},
): LinkPlan {
  const ranked = [...known].sort((a, b) => rank(a.kind) - rank(b.kind))
  // The login the customer has: the one signed now, else that of the strongest id's UID that has one.
  const user =
    incoming.find((i) => i.kind === 'user')?.value ?? ranked.map((k) => logins[k.uid]).find((u) => u !== undefined)
  const clash = (uid: string) => user !== undefined && logins[uid] !== undefined && logins[uid] !== user
  const uid = ranked.find((k) => !clash(k.uid))?.uid ?? newUid
  const isKnown = (i: Identifier) => known.some((k) => k.kind === i.kind && k.value === i.value)
  const links = incoming.filter(
    (i, n) => !isKnown(i) && incoming.findIndex((j) => j.kind === i.kind && j.value === i.value) === n,
  )
  const others = known.filter((k) => k.uid !== uid)
  return {
    uid,
    links,
    merges: [...new Set(others.filter((k) => !clash(k.uid)).map((k) => k.uid))],
    moves: others.filter((k) => clash(k.uid)),
    reason: `identified together: ${incoming.map(label).join(', ')}`,
  }
}
