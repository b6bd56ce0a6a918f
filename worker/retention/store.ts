// Retention's SQL: rows older than a site keeps, deleted a bounded chunk at a time.
import { refreshVisitors } from '../events/store'

const UNLINKED = `NOT EXISTS (SELECT 1 FROM identities x WHERE x.site_id = ?1 AND x.kind = 'anonymous' AND x.value = v.anonymous_id)`

// Each statement deletes at most ?3 rows, oldest first, through the time indexes.
const EXPIRE_SQL = {
  events: `DELETE FROM events WHERE site_id = ?1 AND id IN
             (SELECT id FROM events WHERE site_id = ?1 AND ts < ?2 ORDER BY ts LIMIT ?3) RETURNING anonymous_id`,
  sessions: `DELETE FROM sessions WHERE site_id = ?1 AND (anonymous_id, session_id) IN
               (SELECT anonymous_id, session_id FROM sessions WHERE site_id = ?1 AND started_at < ?2 LIMIT ?3)
             RETURNING anonymous_id`,
  visitorDays: `DELETE FROM visitor_days WHERE site_id = ?1 AND (anonymous_id, day) IN
                  (SELECT anonymous_id, day FROM visitor_days WHERE site_id = ?1 AND day < ?2 / 86400000 LIMIT ?3)
                RETURNING anonymous_id`,
  recommendationDays: `DELETE FROM recommendation_days WHERE site_id = ?1 AND (day, strategy) IN
                         (SELECT day, strategy FROM recommendation_days WHERE site_id = ?1
                            AND day < date(?2 / 1000, 'unixepoch') LIMIT ?3)`,
  decisions: `DELETE FROM decisions WHERE site_id = ?1 AND id IN
                (SELECT id FROM decisions WHERE site_id = ?1 AND created_at < ?2 LIMIT ?3)`,
  recommendations: `DELETE FROM recommendations WHERE site_id = ?1 AND id IN
                      (SELECT id FROM recommendations WHERE site_id = ?1 AND created_at < ?2 LIMIT ?3)`,
  visitorItems: `DELETE FROM visitor_items WHERE site_id = ?1 AND (anonymous_id, item_id) IN
                   (SELECT anonymous_id, item_id FROM visitor_items WHERE site_id = ?1 AND last_ts < ?2 LIMIT ?3)`,
  // Shoppers exposed to an A/B test before the cutoff: their rollup names them.
  experimentShoppers: `DELETE FROM experiment_shoppers WHERE site_id = ?1 AND (experiment_id, anonymous_id) IN
                         (SELECT experiment_id, anonymous_id FROM experiment_shoppers WHERE site_id = ?1
                            AND first_at < ?2 LIMIT ?3)`,
  identityLog: `DELETE FROM identity_log WHERE rowid IN
                  (SELECT rowid FROM identity_log WHERE site_id = ?1 AND at < ?2 LIMIT ?3)`,
  claims: `DELETE FROM claims WHERE site_id = ?1 AND (anonymous_id, kind, value) IN
             (SELECT anonymous_id, kind, value FROM claims WHERE site_id = ?1 AND claimed_at < ?2 LIMIT ?3)`,
  erased: `DELETE FROM erased WHERE site_id = ?1 AND anonymous_id IN
             (SELECT anonymous_id FROM erased WHERE site_id = ?1 AND erased_at < ?2 LIMIT ?3)`,
  // Browsers whose last event is older than the cutoff, then the identifiers that led only to them.
  visitors: `DELETE FROM visitors WHERE site_id = ?1 AND anonymous_id IN
               (SELECT anonymous_id FROM visitors WHERE site_id = ?1 AND last_seen < ?2 LIMIT ?3)`,
  // Anonymous browsers idle since ?2 that never ordered and were never linked to a customer: their
  // items, then their summaries. Their days stay: they list the archive objects export and erasure read.
  idleItems: `DELETE FROM visitor_items WHERE site_id = ?1 AND (anonymous_id, item_id) IN
                (SELECT i.anonymous_id, i.item_id FROM visitors v
                 JOIN visitor_items i ON i.site_id = ?1 AND i.anonymous_id = v.anonymous_id
                 WHERE v.site_id = ?1 AND v.last_seen < ?2 AND v.orders = 0 AND ${UNLINKED} LIMIT ?3)`,
  idleVisitors: `DELETE FROM visitors WHERE site_id = ?1 AND anonymous_id IN
                   (SELECT anonymous_id FROM visitors v WHERE site_id = ?1 AND last_seen < ?2 AND orders = 0
                      AND ${UNLINKED}
                      AND NOT EXISTS (SELECT 1 FROM visitor_items i WHERE i.site_id = ?1 AND i.anonymous_id = v.anonymous_id)
                    LIMIT ?3)`,
  browserIds: `DELETE FROM identities WHERE site_id = ?1 AND kind = 'anonymous' AND value IN
                 (SELECT value FROM identities i WHERE site_id = ?1 AND kind = 'anonymous' AND linked_at < ?2
                    AND NOT EXISTS (SELECT 1 FROM visitors v WHERE v.site_id = ?1 AND v.anonymous_id = i.value) LIMIT ?3)`,
  otherIds: `DELETE FROM identities WHERE site_id = ?1 AND (kind, value) IN
               (SELECT kind, value FROM identities i WHERE site_id = ?1 AND kind != 'anonymous' AND linked_at < ?2
                  AND NOT EXISTS (SELECT 1 FROM identities a WHERE a.site_id = ?1 AND a.uid = i.uid AND a.kind = 'anonymous') LIMIT ?3)`,
} as const
/** What one chunk of retention deleted, per table. */
export type Expired = Record<keyof typeof EXPIRE_SQL, number>

/**
 * Deletes up to `limit` rows older than `cutoff` from each table of a site, recomputes the
 * summaries of browsers that lost events (those left with none are deleted with their identifiers),
 * and forgets the anonymous browsers idle since `idleCutoff`.
 */
export async function expireChunk(
  db: D1Database,
  siteId: string,
  cutoff: number,
  idleCutoff: number,
  limit: number,
): Promise<Expired> {
  const first = [
    'events',
    'sessions',
    'visitorDays',
    'recommendationDays',
    'decisions',
    'recommendations',
    'visitorItems',
    'experimentShoppers',
    'identityLog',
    'erased',
    'claims',
  ] as const
  const results = await db.batch<{ anonymous_id: string }>(
    first.map((t) => db.prepare(EXPIRE_SQL[t]).bind(siteId, cutoff, limit)),
  )
  const touched = [...new Set(results.slice(0, 3).flatMap((r) => r.results.map((x) => x.anonymous_id)))]
  const last = ['visitors', 'idleItems', 'idleVisitors', 'browserIds', 'otherIds'] as const
  const after = await db.batch([
    ...(touched.length > 0 ? [refreshVisitors(db, siteId, cutoff, touched)] : []),
    ...last.map((t) => db.prepare(EXPIRE_SQL[t]).bind(siteId, t.startsWith('idle') ? idleCutoff : cutoff, limit)),
  ])
  const counted = (tables: readonly string[], rs: D1Result[]) => tables.map((t, i) => [t, rs[i]?.meta.changes ?? 0])
  return Object.fromEntries([...counted(first, results), ...counted(last, after.slice(-last.length))]) as Expired
}
