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

/** What linking does: identifiers to add to `uid`, and UIDs whose identifiers all move to it. */
export interface LinkPlan {
  uid: string
  links: Identifier[]
  merges: string[]
  reason: string
}

const rank = (kind: IdentityKind) => IDENTITY_KINDS.indexOf(kind)
// Hashed emails are long and say nothing to a reader; their first characters suffice in a log.
const label = (i: Identifier) => `${i.kind} ${i.kind === 'email' ? `${i.value.slice(0, 8)}…` : i.value}`

/**
 * Links `incoming` identifiers into one UID: the UID of the strongest identifier already known
 * (the first listed among equals), or `newUid` if none is. Other UIDs met on the way merge into it;
 * nothing is deleted, so every move can be logged with its old UID and undone.
 */
export function planLink(known: Linked[], incoming: Identifier[], newUid: string): LinkPlan {
  const strongest = [...known].sort((a, b) => rank(a.kind) - rank(b.kind))[0]
  const uid = strongest?.uid ?? newUid
  const isKnown = (i: Identifier) => known.some((k) => k.kind === i.kind && k.value === i.value)
  const links = incoming.filter(
    (i, n) => !isKnown(i) && incoming.findIndex((j) => j.kind === i.kind && j.value === i.value) === n,
  )
  return {
    uid,
    links,
    merges: [...new Set(known.map((k) => k.uid).filter((u) => u !== uid))],
    reason: `identified together: ${incoming.map(label).join(', ')}`,
  }
}

/** The UID an unlinked identifier returns to: the one it had before its last move, else a new one. */
export const unlinkTarget = (previousUid: string | null, newUid: string) => previousUid ?? newUid
