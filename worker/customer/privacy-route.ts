import { Hono } from 'hono'
import { z } from 'zod'
import { customerView, explainedSegments, forBrowser, maskedFor } from './view'
import { eraseShopper, exportData } from './store'
import type { AppEnv } from '../env'
import { toIssues } from '../events/ingest'
import { authenticate, checkOrigin } from '../http/site-auth'
import { invalid, readJson } from '../http/body'

/** Most events an export carries. */
export const EXPORT_LIMIT = 10_000

/** Who asks: the browser's own anonymous id (128 random bits only that browser knows). */
export const shopperRequest = z.object({
  site: z.string().min(1).max(128),
  key: z.string().min(1).max(200),
  anonymousId: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/),
})

/** /v1/privacy: the shopper's own data, to see and take away (export) or to delete (erase). */
export default new Hono<AppEnv>()
  .get('/export', async (c) => {
    const parsed = shopperRequest.safeParse(c.req.query())
    if (!parsed.success) throw invalid('invalid export request', toIssues(parsed.error))
    const site = await authenticate(c.env, parsed.data.site, parsed.data.key)
    const origin = c.req.header('Origin')
    if (origin) checkOrigin(site, origin)
    const customer = await customerView(c.env, site, parsed.data.anonymousId, Date.now())
    const data = await exportData(c.env.DB, site.id, customer.browsers, customer.uid, EXPORT_LIMIT)
    const answer = { uid: customer.uid, browsers: customer.browsers, segments: explainedSegments(customer), value: customer.value, ...data }
    return c.json(forBrowser(answer, parsed.data.anonymousId))
  })
  .post('/erase', async (c) => {
    const parsed = shopperRequest.safeParse(await readJson(c.req.raw, 4096))
    if (!parsed.success) throw invalid('invalid erase request', toIssues(parsed.error))
    const site = await authenticate(c.env, parsed.data.site, parsed.data.key)
    checkOrigin(site, c.req.header('Origin'))
    const customer = await customerView(c.env, site, parsed.data.anonymousId, Date.now())
    const browsers = await eraseShopper(c.env.DB, site.id, customer.browsers, customer.uid, Date.now())
    return c.json({ erased: { uid: customer.uid, browsers: browsers.map(maskedFor(parsed.data.anonymousId)) } })
  })
