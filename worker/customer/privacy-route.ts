import { Hono } from 'hono'
import { shopperRequest } from '../../contract'
import { customerView, explainedSegments, forBrowser, maskedFor } from './view'
import { eraseShopper, exportData, type ExportedEvent } from './store'
import type { AppEnv } from '../env'
import { siteAuth } from '../http/site-auth'
import { bufferOf } from '../events/buffer'
import { archivedSessions, eraseArchived, readArchived } from '../events/archive'
import { archivedRefs } from '../events/store'

/** Most events an export carries. */
export const EXPORT_LIMIT = 10_000

/** /v1/privacy: the shopper's own data, to see and take away (export) or to delete (erase). */
export default new Hono<AppEnv>()
  // Who asks: the browser's own anonymous id (128 random bits only that browser knows).
  .get('/export', siteAuth('invalid export request', shopperRequest), async (c) => {
    const { site, input } = c.var
    // What the edge accepted seconds ago belongs in the export: fold the buffer first.
    await bufferOf(c.env, site.id).drain()
    const customer = await customerView(c.env, site, input.anonymousId, Date.now())
    const data = await exportData(c.var.db, site.id, customer.browsers, customer.uid, EXPORT_LIMIT)
    // Events past the hot window are in the archive, in the objects their days list.
    const refs = await archivedRefs(c.var.db, site.id, customer.browsers)
    const archived = await readArchived(c.env, site.id, refs, new Set(customer.browsers))
    const events: ExportedEvent[] = [
      ...data.events,
      ...archived.map(({ id, type, ts, session_id, path, properties }) => ({
        id,
        type,
        ts,
        session_id,
        path,
        properties,
      })),
    ]
      .sort((a, b) => a.ts - b.ts)
      .slice(0, EXPORT_LIMIT)
    // A session leaves D1 with its last raw event; the archive has its context on each of them.
    const inD1 = new Set(data.sessions.map((s) => `${s.anonymous_id} ${s.session_id}`))
    const sessions = [
      ...data.sessions,
      ...archivedSessions(archived).filter((s) => !inD1.has(`${s.anonymous_id} ${s.session_id}`)),
    ].sort((a, b) => a.started_at - b.started_at)
    const answer = {
      uid: customer.uid,
      browsers: customer.browsers,
      segments: explainedSegments(customer),
      value: customer.value,
      ...data,
      events,
      sessions,
    }
    return c.json(forBrowser(answer, input.anonymousId))
  })
  .post('/erase', siteAuth('invalid erase request', shopperRequest), async (c) => {
    const { site, input } = c.var
    // Buffered events are folded, then erased with the rest; any arriving later meet the tombstone at their flush.
    await bufferOf(c.env, site.id).drain()
    const customer = await customerView(c.env, site, input.anonymousId, Date.now())
    // The archive first: its objects are found through the rows erasing D1 deletes.
    const refs = await archivedRefs(c.var.db, site.id, customer.browsers)
    await eraseArchived(c.env, site.id, refs, new Set(customer.browsers))
    const browsers = await eraseShopper(c.var.db, site.id, customer.browsers, customer.uid, Date.now())
    return c.json({ erased: { uid: customer.uid, browsers: browsers.map(maskedFor(input.anonymousId)) } })
  })
