// The write-behind buffer: one Durable Object per site holds accepted events in its SQLite storage
// (durable before the edge answers) and folds them into the site's D1 in bulk, one transaction per flush.
import { DurableObject } from 'cloudflare:workers'
import { MAX_BATCH_EVENTS } from '../../contract'
import type { Bindings, Site } from '../env'
import { ARCHIVE_EVERY_MS, archiveSite } from './archive'
import { erasedAmong, storeEvents, type EventRow } from './store'
import { loadSite } from '../http/site-auth'
import { isMoving, shardOf } from '../shards/directory'
import { FLUSH_DELAY_MS, HELD_RETRY_MS, FLUSH_MAX_EVENTS, RECENT_IDS_MS, RETRY_BASE_MS, RETRY_MAX_MS } from './tunables'

/** What a batch did to the buffer. */
export interface AppendResult {
  /** Events the buffer now holds that it had not seen within RECENT_IDS_MS. */
  accepted: number
  /** Events the buffer held already, or had flushed within RECENT_IDS_MS. */
  duplicates: number
}

/** What one flush moved into D1. */
export interface FlushResult {
  /** Events taken from the buffer. */
  flushed: number
  /** Of those, new to D1 (the rest were stored before: a replay older than the buffer's memory). */
  stored: number
  /** Of those, dropped because their browser was erased. */
  erased: number
  /** Events still waiting. */
  waiting: number
  /** Set when the site is moving shards: nothing was flushed, the alarm tries again later. */
  held?: boolean
}

// Each id once (remembered RECENT_IDS_MS), and the accepted batches not yet in D1, oldest first:
// per event an append writes two rows (the id and its time index), not the event three times over.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS seen_by_time ON seen (received_at);
  CREATE TABLE IF NOT EXISTS waiting (
    seq INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    events INTEGER NOT NULL,
    rows TEXT NOT NULL
  );`

// A buffer of the earlier layout kept one row per event: its ids and what it had not flushed carry
// over, in batches of at most MAX_BATCH_EVENTS (as a request brings them), so no row outgrows a flush.
const FROM_ROWS = `
  INSERT INTO seen (id, received_at) SELECT id, received_at FROM buffered WHERE true ON CONFLICT DO NOTHING;
  INSERT INTO waiting (received_at, events, rows)
    SELECT MIN(received_at), COUNT(*), json_group_array(json(row)) FROM (
      SELECT received_at, row, (ROW_NUMBER() OVER (ORDER BY received_at, id) - 1) / ${MAX_BATCH_EVENTS} AS chunk
      FROM buffered WHERE flushed_at IS NULL ORDER BY received_at, id)
    GROUP BY chunk ORDER BY chunk;
  DROP TABLE buffered;`

/** The buffer of one site's events (named by the site id). */
export class EventBuffer extends DurableObject<Bindings> {
  private flushing: Promise<FlushResult> | undefined
  private failures = 0
  /** No alarm before this time: set while the site moves or D1 refuses, so appends do not pull the retry closer. */
  private notBefore = 0
  /** When this buffer last archived a chunk of its site's old events (in memory: a restart only archives sooner). */
  private archivedAt = 0
  /** The site as the last flush found it, not moving. */
  private flushedInto: Site | undefined
  /** Rows not yet flushed, and when the alarm is due: kept in memory so an append reads neither. */
  private waitingRows: number
  private alarmAt: number | null = null

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env)
    ctx.storage.sql.exec(SCHEMA)
    if (ctx.storage.sql.exec("SELECT 1 FROM sqlite_schema WHERE name = 'buffered'").toArray().length > 0) {
      ctx.storage.sql.exec(FROM_ROWS)
    }
    this.waitingRows = this.waiting()
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm()
    })
  }

  /** Holds new rows durably (each id once) and schedules a flush; answers what was new. */
  async append(rows: EventRow[]): Promise<AppendResult> {
    const sql = this.ctx.storage.sql
    const now = Date.now()
    const fresh = new Set(
      sql
        .exec<{ id: string }>(
          `INSERT INTO seen (id, received_at) SELECT value, ? FROM json_each(?) WHERE true
           ON CONFLICT (id) DO NOTHING RETURNING id`,
          now,
          JSON.stringify(rows.map((r) => r[1])),
        )
        .toArray()
        .map((r) => r.id),
    )
    if (fresh.size > 0) {
      const accepted = fresh.size === rows.length ? rows : rows.filter((r) => fresh.has(r[1]))
      sql.exec(
        'INSERT INTO waiting (received_at, events, rows) VALUES (?, ?, ?)',
        now,
        accepted.length,
        JSON.stringify(accepted),
      )
      this.waitingRows += accepted.length
      await this.schedule(this.waitingRows >= FLUSH_MAX_EVENTS ? 0 : FLUSH_DELAY_MS)
    }
    return { accepted: fresh.size, duplicates: rows.length - fresh.size }
  }

  /** Stores and folds what waits (FLUSH_MAX_EVENTS at a time), then forgets ids flushed long ago. */
  flush(): Promise<FlushResult> {
    // One flush at a time: an alarm and an explicit flush (export, tests) must not fold the same rows twice.
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined
    })
    return this.flushing
  }

  /** Flushes until nothing waits (export and erasure read D1 right after), unless the site is moving. */
  async drain(): Promise<void> {
    for (let r = await this.flush(); r.waiting > 0 && !r.held; r = await this.flush()) {}
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null
    try {
      const { waiting, held, flushed } = await this.flush()
      this.failures = 0
      this.notBefore = held ? Date.now() + HELD_RETRY_MS : 0
      // A busy site's old events leave D1 from here, a chunk a minute; a quiet one's with the cron.
      const site = this.flushedInto
      if (flushed > 0 && site && Date.now() - this.archivedAt >= ARCHIVE_EVERY_MS) {
        this.archivedAt = Date.now()
        // Not a flush failure: what stays in D1 is archived at the next chance, or by the cron.
        await archiveSite(this.env, shardOf(this.env, site), site.id, this.archivedAt, 1).catch((error: unknown) =>
          console.error('archive from the buffer failed', error),
        )
      }
      if (waiting > 0) await this.schedule(0)
    } catch (error) {
      // Handled here rather than left to the runtime's alarm retries, which give up after a few.
      this.failures++
      console.error('event flush failed', error)
      this.notBefore = Date.now() + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failures - 1))
      await this.schedule(0)
    }
  }

  private async flushOnce(): Promise<FlushResult> {
    const sql = this.ctx.storage.sql
    // Whole batches, oldest first, up to FLUSH_MAX_EVENTS (at least one batch); their rows are read
    // only once the site is known not to be moving.
    let upto = 0
    let last: number | undefined
    for (const b of sql.exec<{ seq: number; events: number }>(
      'SELECT seq, events FROM waiting ORDER BY seq LIMIT ?',
      FLUSH_MAX_EVENTS,
    )) {
      if (last !== undefined && upto + b.events > FLUSH_MAX_EVENTS) break
      upto += b.events
      last = b.seq
    }
    let stored = 0
    let erased = 0
    let taken: EventRow[] = []
    if (last !== undefined) {
      const { siteId } = sql
        .exec<{ siteId: string }>("SELECT rows ->> '$[0][0]' AS siteId FROM waiting ORDER BY seq LIMIT 1")
        .one()
      const site = await loadSite(this.env, siteId)
      // Held while the site moves to another shard (the move copies only once every buffer has stopped).
      if (!site || isMoving(site)) return { flushed: 0, stored: 0, erased: 0, waiting: this.waitingRows, held: true }
      this.flushedInto = site
      taken = sql
        .exec<{ rows: string }>('SELECT rows FROM waiting WHERE seq <= ? ORDER BY seq', last)
        .toArray()
        .flatMap((b) => JSON.parse(b.rows) as EventRow[])
      const db = shardOf(this.env, site)
      // A browser whose shopper asked to be erased stays erased: its late events are dropped here.
      const gone = await erasedAmong(db, siteId, [...new Set(taken.map((r) => r[3]))])
      const kept = gone.size > 0 ? taken.filter((r) => !gone.has(r[3])) : taken
      erased = taken.length - kept.length
      stored = (await storeEvents(db, siteId, kept)).inserted
      sql.exec('DELETE FROM waiting WHERE seq <= ?', last)
      // Ids are forgotten RECENT_IDS_MS after they arrived, never while their batch still waits.
      sql.exec(
        'DELETE FROM seen WHERE received_at < min(?1, COALESCE((SELECT MIN(received_at) FROM waiting), ?1))',
        Date.now() - RECENT_IDS_MS,
      )
    }
    this.waitingRows = this.waiting()
    return { flushed: taken.length, stored, erased, waiting: this.waitingRows }
  }

  private waiting(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COALESCE(SUM(events), 0) AS n FROM waiting').one().n
  }

  private async schedule(delay: number): Promise<void> {
    const at = Math.max(Date.now() + delay, this.notBefore)
    if (this.alarmAt !== null && this.alarmAt <= at) return
    this.alarmAt = at
    await this.ctx.storage.setAlarm(at)
  }
}

/** The buffer that holds `siteId`'s events. */
export const bufferOf = (env: Bindings, siteId: string) => env.EVENT_BUFFER.get(env.EVENT_BUFFER.idFromName(siteId))
