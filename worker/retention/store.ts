// Retention's SQL: rows older than a site keeps, deleted a bounded chunk at a time.
import { inChunks } from '../d1'
import { refreshVisitors } from '../events/store'

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
  identityLog: `DELETE FROM identity_log WHERE rowid IN
                  (SELECT rowid FROM identity_log WHERE site_id = ?1 AND at < ?2 LIMIT ?3)`,
  claims: `DELETE FROM claims WHERE site_id = ?1 AND (anonymous_id, kind, value) IN
             (SELECT anonymous_id, kind, value FROM claims WHERE site_id = ?1 AND claimed_at < ?2 LIMIT ?3)`,
  erased: `DELETE FROM erased WHERE site_id = ?1 AND anonymous_id IN
             (SELECT anonymous_id FROM erased WHERE site_id = ?1 AND erased_at < ?2 LIMIT ?3)`,
  // Browsers whose last event is older than the cutoff, then the identifiers that led only to them.
  visitors: `DELETE FROM visitors WHERE site_id = ?1 AND anonymous_id IN
               (SELECT anonymous_id FROM visitors WHERE site_id = ?1 AND last_seen < ?2 LIMIT ?3)`,
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
 * Deletes up to `limit` rows older than `cutoff` from each table of a site, and recomputes the
 * summaries of browsers that lost events (those left with none are deleted with their identifiers).
 */
export async function expireChunk(db: D1Database, siteId: string, cutoff: number, limit: number): Promise<Expired> {
  const first = [
    'events',
    'sessions',
    'visitorDays',
    'recommendationDays',
    'decisions',
    'recommendations',
    'visitorItems',
    'identityLog',
    'erased',
    'claims',
  ] as const
  const results = await db.batch<{ anonymous_id: string }>(
    first.map((t) => db.prepare(EXPIRE_SQL[t]).bind(siteId, cutoff, limit)),
  )
  const touched = [...new Set(results.slice(0, 3).flatMap((r) => r.results.map((x) => x.anonymous_id)))]
  const last = ['visitors', 'browserIds', 'otherIds'] as const
  const after = await db.batch([
    ...(touched.length > 0 ? [refreshVisitors(db, siteId, cutoff, touched)] : []),
    ...last.map((t) => db.prepare(EXPIRE_SQL[t]).bind(siteId, cutoff, limit)),
  ])
  const counted = (tables: readonly string[], rs: D1Result[]) => tables.map((t, i) => [t, rs[i]?.meta.changes ?? 0])
  return Object.fromEntries([...counted(first, results), ...counted(last, after.slice(-last.length))]) as Expired
}
