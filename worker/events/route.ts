import { Hono } from 'hono'
import { MAX_BATCH_BYTES, type IngestResult } from '../../contract'
import { erasedAmong, storeEvents } from './store'
import type { AppEnv } from '../env'
import { readBatch } from './ingest'
import { siteAuth } from '../http/site-auth'
import { limitBody } from '../http/body'

/** POST /v1/events: a batch of events for one site, each stored once. */
export default new Hono<AppEnv>().post(
  '/',
  limitBody(MAX_BATCH_BYTES),
  // sendBeacon posts text/plain (no CORS preflight), so the body is parsed whatever its type says.
  siteAuth('invalid event batch', (raw) => readBatch(raw, Date.now()), { maxBytes: MAX_BATCH_BYTES, consent: true }),
  async (c) => {
    const { site, input: batch } = c.var
    // A browser whose shopper asked to be erased stays erased: its late retries are dropped.
    const erased = await erasedAmong(c.env.DB, site.id, [...new Set(batch.rows.map((r) => r[3]))])
    const rows = erased.size > 0 ? batch.rows.filter((r) => !erased.has(r[3])) : batch.rows
    const { inserted } = await storeEvents(c.env.DB, site.id, rows)
    const result: IngestResult = {
      accepted: inserted,
      duplicates: batch.duplicates + rows.length - inserted,
      ...(erased.size > 0 ? { erased: batch.rows.length - rows.length } : {}),
    }
    return c.json(result)
  },
)
