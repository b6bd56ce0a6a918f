// The R2 archive of raw events: after the hot window, the events the model has folded leave D1 as
// NDJSON objects; each shopper-day in D1 lists the objects that hold its events, so export reads
// and erasure rewrites only those. Orders and offer events stay in D1 for the whole retention
// period: value, frequency caps and attribution read them there.
import type { EventType } from '../../contract'
import type { ExportedSession } from '../customer/store'
import type { Bindings } from '../env'
import { archivedRows, deleteArchived, type ArchivedEvent } from './store'

/** How long raw events stay in D1 after they happened. */
export const ARCHIVE_AFTER_MS = 2 * 86_400_000
/** Events per R2 object (one D1 transaction each), and objects per site per cron run. */
export const ARCHIVE_CHUNK = 2000
export const ARCHIVE_ROUNDS = 25
/**
 * A busy site's buffer also archives one object each time it flushes, at most this often: 1,440
 * objects (2.9 million events) a day per site, beyond what the daily cron could move in one run.
 */
export const ARCHIVE_EVERY_MS = 60_000
/** Types D1 keeps for the whole retention period. */
export const KEPT_IN_D1: readonly EventType[] = ['Order Completed', 'Offer Shown', 'Offer Accepted', 'Offer Dismissed']

/** A day (ms since epoch / 86400000) as keys name it: zero-padded, so keys sort by day. */
const dayPart = (day: number) => String(day).padStart(6, '0')

/** Where the archived events of a site's day begin: keys sort by day, so retention deletes a prefix range. */
export const archivePrefix = (siteId: string, day?: number) =>
  `events/${siteId}/${day === undefined ? '' : `${dayPart(day)}/`}`

/** The R2 key of an object that shopper-days list by `ref` (its day and first row: the part keys do not share). */
export const archiveKey = (siteId: string, ref: string) => `${archivePrefix(siteId)}${ref}.ndjson`

/** What one run moved. */
export interface Archived {
  events: number
  objects: number
  done: boolean
}

/** Moves a site's raw events older than the hot window from D1 into R2, a bounded number of chunks per run. */
export async function archiveSite(
  env: Bindings,
  db: D1Database,
  siteId: string,
  now: number,
  rounds = ARCHIVE_ROUNDS,
): Promise<Archived> {
  const result: Archived = { events: 0, objects: 0, done: false }
  for (let round = 0; round < rounds; round++) {
    const rows = await archivedRows(db, siteId, now - ARCHIVE_AFTER_MS, KEPT_IN_D1, ARCHIVE_CHUNK)
    if (rows.length === 0) return { ...result, done: true }
    const first = rows[0]!
    // Named by its first row: a run that dies after the put writes the same key again, never a copy.
    const ref = `${dayPart(Math.floor(first.ts / 86_400_000))}/${first.ts}-${first.id}`
    await env.ARCHIVE.put(archiveKey(siteId, ref), toNdjson(rows), {
      httpMetadata: { contentType: 'application/x-ndjson' },
    })
    await deleteArchived(db, siteId, ref, rows)
    result.events += rows.length
    result.objects++
    if (rows.length < ARCHIVE_CHUNK) return { ...result, done: true }
  }
  return result
}

const toNdjson = (rows: ArchivedEvent[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`
const fromNdjson = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ArchivedEvent)

/** The archived events of these browsers, from the objects their days name (`refs`). */
export async function readArchived(
  env: Bindings,
  siteId: string,
  refs: string[],
  browsers: Set<string>,
): Promise<ArchivedEvent[]> {
  const found: ArchivedEvent[] = []
  for (const ref of refs) {
    const object = await env.ARCHIVE.get(archiveKey(siteId, ref))
    if (object) found.push(...fromNdjson(await object.text()).filter((e) => browsers.has(e.anonymous_id)))
  }
  return found
}

/** Where the archived sessions among `events` began, and their context (each archived event carries its session's). */
export function archivedSessions(events: ArchivedEvent[]): ExportedSession[] {
  const first = new Map<string, ArchivedEvent>()
  for (const e of events) {
    const key = `${e.anonymous_id} ${e.session_id}`
    const known = first.get(key)
    if (!known || e.ts < known.ts) first.set(key, e)
  }
  return [...first.values()].map((e) => ({
    session_id: e.session_id,
    anonymous_id: e.anonymous_id,
    started_at: e.ts,
    context: e.context,
  }))
}

/** Rewrites each object without these browsers' events (deleting it when nothing is left); answers how many went. */
export async function eraseArchived(
  env: Bindings,
  siteId: string,
  refs: string[],
  browsers: Set<string>,
): Promise<number> {
  let erased = 0
  for (const key of refs.map((ref) => archiveKey(siteId, ref))) {
    const object = await env.ARCHIVE.get(key)
    if (!object) continue
    const all = fromNdjson(await object.text())
    const kept = all.filter((e) => !browsers.has(e.anonymous_id))
    erased += all.length - kept.length
    if (kept.length === all.length) continue
    await (kept.length > 0 ? env.ARCHIVE.put(key, toNdjson(kept)) : env.ARCHIVE.delete(key))
  }
  return erased
}

/** Deletes a site's archive objects of days before `cutoff` (up to 1,000 keys per call); answers how many. */
export async function expireArchive(env: Bindings, siteId: string, cutoff: number): Promise<number> {
  const listed = await env.ARCHIVE.list({ prefix: archivePrefix(siteId), limit: 1000 })
  const before = archivePrefix(siteId, Math.floor(cutoff / 86_400_000))
  const old = listed.objects.map((o) => o.key).filter((key) => key < before)
  if (old.length > 0) await env.ARCHIVE.delete(old)
  return old.length
}
