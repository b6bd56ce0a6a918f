// The decide feature's SQL: actions, their arms, contact history and the decision log.
import { D1_MAX_PARAMS, marks } from '../d1'
import { actionSchema, type Action } from './engine'

/** Saves actions (already validated by actionSchema). */
export const upsertActions = (db: D1Database, siteId: string, actions: Array<{ id: string }>, now: number) =>
  db.batch(
    actions.map((a) =>
      db
        .prepare(
          `INSERT INTO actions (site_id, id, definition, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (site_id, id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
        )
        .bind(siteId, a.id, JSON.stringify(a), now),
    ),
  )

/** A site's actions as saved (JSON definitions). */
export const listActions = (db: D1Database, siteId: string) =>
  db.prepare('SELECT definition FROM actions WHERE site_id = ? ORDER BY id LIMIT 200').bind(siteId)

/** The actions of listActions' rows; saved ones were validated on save, and one that no longer parses is skipped, never shown. */
export const savedActions = (rows: Array<{ definition: string }>): Action[] =>
  rows.flatMap((r) => actionSchema.safeParse(JSON.parse(r.definition)).data ?? [])

/** The arms of a segment for the site's actions. */
export const segmentArms = (db: D1Database, siteId: string, segmentKey: string) =>
  db
    .prepare('SELECT action_id, successes, failures FROM arms WHERE site_id = ? AND segment_key = ?')
    .bind(siteId, segmentKey)

/** A customer's offer contacts since `since` on all their browsers, newest first (bounded): caps are per person. */
export const offerContacts = (db: D1Database, siteId: string, anonymousIds: string[], since: number) => {
  const ids = anonymousIds.slice(0, D1_MAX_PARAMS - 2)
  return db
    .prepare(
      `SELECT json_extract(properties, '$.action_id') AS action_id, ts, type FROM events
       WHERE site_id = ? AND anonymous_id IN (${marks(ids)}) AND ts > ? AND type IN ('Offer Shown', 'Offer Accepted', 'Offer Dismissed')
       ORDER BY ts DESC LIMIT 500`,
    )
    .bind(siteId, ...ids, since)
}

/** Logs a decision (context, action, probability, the marketer's trace) for attribution and offline evaluation. */
export const logDecision = (
  db: D1Database,
  siteId: string,
  d: {
    id: string
    anonymousId: string
    placement: string
    actionId: string | null
    segmentKey: string
    probability: number
    propensity: number
    holdout: boolean
    context: object
    trace: object
    at: number
  },
) =>
  db
    .prepare(
      `INSERT INTO decisions (site_id, id, anonymous_id, placement, action_id, segment_key, probability, propensity, holdout, context, trace, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      siteId,
      d.id,
      d.anonymousId,
      d.placement,
      d.actionId,
      d.segmentKey,
      d.probability,
      d.propensity,
      d.holdout ? 1 : 0,
      JSON.stringify(d.context),
      JSON.stringify(d.trace),
      d.at,
    )
    .run()

/** Deletes one action; false if the site had none with that id. */
export const deleteAction = (db: D1Database, siteId: string, id: string) =>
  db
    .prepare('DELETE FROM actions WHERE site_id = ? AND id = ?')
    .bind(siteId, id)
    .run()
    .then((r) => r.meta.changes > 0)
