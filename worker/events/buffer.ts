// The write-behind buffer: one Durable Object per site holds accepted events in its SQLite storage
// (durable before the edge answers) and folds them into the site's D1 in bulk, one transaction per flush.
import { DurableObject } from 'cloudflare:workers'
import type { Bindings } from '../env'
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

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS buffered (
    id TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    row TEXT,
    flushed_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS buffered_waiting ON buffered (received_at) WHERE flushed_at IS NULL;
  CREATE INDEX IF NOT EXISTS buffered_flushed ON buffered (flushed_at) WHERE flushed_at IS NOT NULL;`

/** The buffer of one site's events (named by the site id). */
export class EventBuffer extends DurableObject<Bindings> {
  private flushing: Promise<FlushResult> | undefined
  private failures = 0
  /** Rows not yet flushed, and when the alarm is due: kept in memory so an append reads neither. */
  private waitingRows: number
  private alarmAt: number | null = null

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env)
    ctx.storage.sql.exec(SCHEMA)
    this.waitingRows = this.waiting()
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm()
    })
  }

  /** Holds new rows durably (each id once) and schedules a flush; answers what was new. */
  async append(rows: EventRow[]): Promise<AppendResult> {
    const accepted = this.ctx.storage.sql
      .exec(
        `INSERT INTO buffered (id, received_at, row) SELECT value ->> 1, value ->> 8, value FROM json_each(?)
         WHERE true ON CONFLICT (id) DO NOTHING RETURNING id`,
        JSON.stringify(rows),
      )
      .toArray().length
    this.waitingRows += accepted
    if (accepted > 0) await this.schedule(this.waitingRows >= FLUSH_MAX_EVENTS ? 0 : FLUSH_DELAY_MS)
    return { accepted, duplicates: rows.length - accepted }
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
      const { waiting, held } = await this.flush()
      this.failures = 0
      if (waiting > 0) await this.schedule(held ? HELD_RETRY_MS : 0)
    } catch (error) {
      // Handled here rather than left to the runtime's alarm retries, which give up after a few.
      this.failures++
      console.error('event flush failed', error)
      await this.schedule(Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failures - 1)))
    }
  }

  private async flushOnce(): Promise<FlushResult> {
    const sql = this.ctx.storage.sql
    const taken = sql
      .exec<{ row: string }>(
        'SELECT row FROM buffered WHERE flushed_at IS NULL ORDER BY received_at, id LIMIT ?',
        FLUSH_MAX_EVENTS,
      )
      .toArray()
      .map(({ row }) => JSON.parse(row) as EventRow)
    let stored = 0
    let erased = 0
    if (taken.length > 0) {
      const siteId = taken[0]![0]
      const site = await loadSite(this.env, siteId)
      // Held while the site moves to another shard (the move copies only once every buffer has stopped).
      if (!site || isMoving(site)) return { flushed: 0, stored: 0, erased: 0, waiting: this.waitingRows, held: true }
      const db = shardOf(this.env, site)
      // A browser whose shopper asked to be erased stays erased: its late events are dropped here.
      const gone = await erasedAmong(db, siteId, [...new Set(taken.map((r) => r[3]))])
      const kept = gone.size > 0 ? taken.filter((r) => !gone.has(r[3])) : taken
      erased = taken.length - kept.length
      stored = (await storeEvents(db, siteId, kept)).inserted
      const now = Date.now()
      sql.exec(
        'UPDATE buffered SET flushed_at = ?, row = NULL WHERE id IN (SELECT value FROM json_each(?))',
        now,
        JSON.stringify(taken.map((r) => r[1])),
      )
      sql.exec('DELETE FROM buffered WHERE flushed_at < ?', now - RECENT_IDS_MS)
    }
    this.waitingRows = this.waiting()
    return { flushed: taken.length, stored, erased, waiting: this.waitingRows }
  }

  private waiting(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM buffered WHERE flushed_at IS NULL').one()
      .n
  }

  private async schedule(delay: number): Promise<void> {
    const at = Date.now() + delay
    if (this.alarmAt !== null && this.alarmAt <= at) return
    this.alarmAt = at
    await this.ctx.storage.setAlarm(at)
  }
}

/** The buffer that holds `siteId`'s events. */
export const bufferOf = (env: Bindings, siteId: string) => env.EVENT_BUFFER.get(env.EVENT_BUFFER.idFromName(siteId))
