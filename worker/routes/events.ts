import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { MAX_BATCH_BYTES, type IngestResult } from '../../sdk/schema'
import { storeEvents } from '../db'
import type { AppEnv } from '../env'
import { readBatch } from '../ingest'
import { authenticate, checkOrigin } from '../sites'
import { invalid, readJson } from './body'

/** POST /v1/events: a batch of events for one site, each stored once. */
export default new Hono<AppEnv>().post(
  '/',
  bodyLimit({
    maxSize: MAX_BATCH_BYTES,
    onError: (c) => c.json({ error: `body exceeds ${MAX_BATCH_BYTES} bytes` }, 413),
  }),
  async (c) => {
    // sendBeacon posts text/plain (no CORS preflight), so the body is parsed whatever its type says.
    const batch = readBatch(await readJson(c.req.raw, MAX_BATCH_BYTES), Date.now())
    if (!batch.ok) throw invalid('invalid event batch', batch.issues)
    const site = await authenticate(c.env, batch.site, batch.key)
    checkOrigin(site, c.req.header('Origin'))
    const { inserted } = await storeEvents(c.env.DB, site.id, batch.rows)
    const result: IngestResult = {
      accepted: inserted,
      duplicates: batch.duplicates + batch.rows.length - inserted,
    }
    return c.json(result)
  },
)
