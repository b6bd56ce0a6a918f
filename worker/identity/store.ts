// The identity feature's SQL: identifiers, their links and audit log, unverified claims.
import { D1_MAX_PARAMS, marks } from '../d1'
import type { IdentityKind, Identifier, LinkPlan, Linked } from './link'

/** Stored identifiers among `ids` with their UIDs, and the login (user id) each of those UIDs holds. */
export async function findIdentities(db: D1Database, siteId: string, ids: Identifier[]) {
  const pairs = ids.map((_, n) => `(?${2 * n + 2}, ?${2 * n + 3})`).join(', ')
  const { results } = await db
    .prepare(
      `WITH hit AS (SELECT kind, value, uid FROM identities WHERE site_id = ?1 AND (kind, value) IN (VALUES ${pairs}))
       SELECT kind, value, uid, 1 AS asked FROM hit
       UNION ALL
       SELECT kind, value, uid, 0 FROM identities WHERE site_id = ?1 AND kind = 'user' AND uid IN (SELECT uid FROM hit)`,
    )
    .bind(siteId, ...ids.flatMap((i) => [i.kind, i.value]))
    .all<Linked & { asked: number }>()
  const logins: Record<string, string> = {}
  for (const r of results) if (r.kind === 'user') logins[r.uid] = r.value
  const known = results.filter((r) => r.asked === 1).map(({ kind, value, uid }) => ({ kind, value, uid }))
  return { known, logins }
}

/** Carries out a link plan and its audit log in one transaction. */
export async function applyLink(db: D1Database, siteId: string, plan: LinkPlan, now: number): Promise<void> {
  const statements = plan.merges.flatMap((from) => [
    db
      .prepare(
        `INSERT INTO identity_log (site_id, at, action, kind, value, from_uid, to_uid, reason)
         SELECT site_id, ?, 'move', kind, value, uid, ?, ? FROM identities WHERE site_id = ? AND uid = ?`,
      )
      .bind(now, plan.uid, plan.reason, siteId, from),
    db
      .prepare('UPDATE identities SET uid = ?, linked_at = ? WHERE site_id = ? AND uid = ?')
      .bind(plan.uid, now, siteId, from),
  ])
  for (const m of plan.moves) {
    statements.push(
      db
        .prepare(
          `INSERT INTO identity_log (site_id, at, action, kind, value, from_uid, to_uid, reason)
           VALUES (?, ?, 'move', ?, ?, ?, ?, ?)`,
        )
        .bind(
          siteId,
          now,
          m.kind,
          m.value,
          m.uid,
          plan.uid,
          `${plan.reason} (kept apart from the other login of ${m.uid})`,
        ),
      db
        .prepare('UPDATE identities SET uid = ?, linked_at = ? WHERE site_id = ? AND kind = ? AND value = ?')
        .bind(plan.uid, now, siteId, m.kind, m.value),
    )
  }
  for (const i of plan.links) {
    statements.push(
      // A concurrent identify may have linked it first: then it keeps that link, and nothing is logged.
      db
        .prepare(
          'INSERT INTO identities (site_id, kind, value, uid, linked_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        )
        .bind(siteId, i.kind, i.value, plan.uid, now),
      db
        .prepare(
          `INSERT INTO identity_log (site_id, at, action, kind, value, from_uid, to_uid, reason)
           SELECT ?, ?, 'link', ?, ?, NULL, ?, ? WHERE changes() = 1`,
        )
        .bind(siteId, now, i.kind, i.value, plan.uid, plan.reason),
    )
  }
  if (statements.length > 0) await db.batch(statements)
}

/** Points one identifier at another UID and logs why; false if the identifier is unknown. */
export async function moveIdentity(
  db: D1Database,
  siteId: string,
  id: Identifier,
  to: string,
  reason: string,
  now: number,
) {
  const [log, update] = await db.batch([
    db
      .prepare(
        `INSERT INTO identity_log (site_id, at, action, kind, value, from_uid, to_uid, reason)
         SELECT site_id, ?, 'unlink', kind, value, uid, ?, ? FROM identities WHERE site_id = ? AND kind = ? AND value = ?`,
      )
      .bind(now, to, reason, siteId, id.kind, id.value),
    db
      .prepare('UPDATE identities SET uid = ?, linked_at = ? WHERE site_id = ? AND kind = ? AND value = ?')
      .bind(to, now, siteId, id.kind, id.value),
  ])
  return (update?.meta.changes ?? 0) > 0 && (log?.meta.changes ?? 0) > 0
}

/** Keeps ids a browser named without a signature as claims of that browser alone: they link nothing. */
export const saveClaims = (db: D1Database, siteId: string, anonymousId: string, ids: Identifier[], now: number) =>
  db.batch(
    ids.map((i) =>
      db
        .prepare(
          `INSERT INTO claims (site_id, anonymous_id, kind, value, claimed_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (site_id, anonymous_id, kind, value) DO UPDATE SET claimed_at = excluded.claimed_at`,
        )
        .bind(siteId, anonymousId, i.kind, i.value, now),
    ),
  )

/** The unverified claims of these browsers, oldest first (bounded). */
export const claimsOf = (db: D1Database, siteId: string, anonymousIds: string[]) => {
  const ids = anonymousIds.slice(0, D1_MAX_PARAMS - 1)
  return db
    .prepare(
      `SELECT anonymous_id, kind, value, claimed_at FROM claims WHERE site_id = ? AND anonymous_id IN (${marks(ids)})
       ORDER BY claimed_at, kind, value LIMIT 100`,
    )
    .bind(siteId, ...ids)
    .all<{ anonymous_id: string; kind: IdentityKind; value: string; claimed_at: number }>()
    .then((r) => r.results)
}

/** Every identifier of a UID. */
export const identitiesOf = (db: D1Database, siteId: string, uid: string) =>
  db
    .prepare('SELECT kind, value, linked_at FROM identities WHERE site_id = ? AND uid = ? ORDER BY kind, value')
    .bind(siteId, uid)
    .all<{ kind: IdentityKind; value: string; linked_at: number }>()
    .then((r) => r.results)

/** The audit log of a UID's identifiers, oldest first. */
export const identityLog = (db: D1Database, siteId: string, uid: string) =>
  db
    .prepare(
      `SELECT at, action, kind, value, from_uid, to_uid, reason FROM identity_log
       WHERE site_id = ? AND (from_uid = ? OR to_uid = ?) ORDER BY at, rowid`,
    )
    .bind(siteId, uid, uid)
    .all()
    .then((r) => r.results)

/** The anonymous ids behind a UID. */
export const anonymousIdsOf = (db: D1Database, siteId: string, uid: string) =>
  db
    .prepare(`SELECT value FROM identities WHERE site_id = ? AND uid = ? AND kind = 'anonymous' LIMIT 100`)
    .bind(siteId, uid)
    .all<{ value: string }>()
    .then((r) => r.results.map((x) => x.value))

/** The UID a browser belongs to, if it was ever identified. */
export const uidOf = (db: D1Database, siteId: string, anonymousId: string) =>
  db
    .prepare(`SELECT uid FROM identities WHERE site_id = ? AND kind = 'anonymous' AND value = ?`)
    .bind(siteId, anonymousId)
    .first<{ uid: string }>()
    .then((r) => r?.uid ?? null)
