import { Hono } from 'hono'
import { MAX_BATCH_BYTES, type IngestResult } from '../../contract'
import type { AppEnv } from '../env'
import { bufferOf } from './buffer'
import { readBatch } from './ingest'
import { siteAuth } from '../http/site-auth'
import { limitBody } from '../http/body'

/**
 * POST /v1/events: a batch of events for one site, answered once the site's buffer holds it durably;
 * the buffer stores each event id once and folds it into D1 within about a second.
 */
export default new Hono<AppEnv>().post(
  '/',
  limitBody(MAX_BATCH_BYTES),
  // sendBeacon posts text/plain (no CORS preflight), so the body is parsed whatever its type says.
  // While the site moves shards its buffer holds what it accepts, so events are never refused for it.
  siteAuth('invalid event batch', (raw) => readBatch(raw, Date.now()), {
    maxBytes: MAX_BATCH_BYTES,
    consent: true,
    whileMoving: 'accept',
  }),
  async (c) => {
    const { site, input: batch } = c.var
    const { accepted, duplicates } = await bufferOf(c.env, site.id).append(batch.rows)
    return c.json({ accepted, duplicates: batch.duplicates + duplicates } satisfies IngestResult)
  },
)
