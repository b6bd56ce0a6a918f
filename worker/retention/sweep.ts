// Retention: each site keeps shopper rows for its retention period; the daily cron deletes the rest
// in bounded chunks, so one run never outgrows a Worker's limits and a backlog drains over days.
import { expireChunk, type Expired } from './store'
import type { Site } from '../env'

/** Days kept when a site sets none: 13 months, so last year's same month can still be compared. */
export const DEFAULT_RETENTION_DAYS = 395
/** Rows deleted per table per statement. */
export const RETENTION_CHUNK = 500
/** Chunks per site per run; what is left waits for the next run. */
export const RETENTION_ROUNDS = 20

/** What one sweep of a site deleted, and whether it caught up. */
export interface Sweep {
  cutoff: number
  deleted: Expired
  done: boolean
}

/** The oldest time a site still keeps. */
export const retentionCutoff = (site: Site, now: number) =>
  now - (site.settings?.retentionDays ?? DEFAULT_RETENTION_DAYS) * 86_400_000

/**
 * Days after which an anonymous browser that never ordered and was never linked to a customer is
 * forgotten (its items and summary): most such browsers never come back, and Safari deletes
 * script-set storage after 7 days without a visit, so their history would mostly serve nobody.
 */
export const IDLE_BROWSER_DAYS = 90

/** The last visit before which an unlinked anonymous browser is forgotten (never later than the retention cutoff). */
export const idleCutoff = (site: Site, now: number) =>
  Math.max(retentionCutoff(site, now), now - IDLE_BROWSER_DAYS * 86_400_000)

/** Deletes a site's rows older than its retention period, `chunk` rows per table at a time, at most `rounds` times. */
export async function sweepSite(
  db: D1Database,
  site: Site,
  now: number,
  chunk = RETENTION_CHUNK,
  rounds = RETENTION_ROUNDS,
): Promise<Sweep> {
  const cutoff = retentionCutoff(site, now)
  const idle = idleCutoff(site, now)
  const deleted = {} as Expired
  for (let round = 0; round < rounds; round++) {
    const counts = await expireChunk(db, site.id, cutoff, idle, chunk)
    for (const [table, n] of Object.entries(counts) as Array<[keyof Expired, number]>)
      deleted[table] = (deleted[table] ?? 0) + n
    if (Object.values(counts).every((n) => n < chunk)) return { cutoff, deleted, done: true }
  }
  return { cutoff, deleted, done: false }
}
