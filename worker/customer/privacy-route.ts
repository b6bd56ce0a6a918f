import { Hono } from 'hono'
import { shopperRequest } from '../../contract'
import { customerView, explainedSegments, forBrowser, maskedFor } from './view'
import { eraseShopper, exportData } from './store'
import type { AppEnv } from '../env'
import { siteAuth } from '../http/site-auth'

/** Most events an export carries. */
export const EXPORT_LIMIT = 10_000

/** /v1/privacy: the shopper's own data, to see and take away (export) or to delete (erase). */
export default new Hono<AppEnv>()
  // Who asks: the browser's own anonymous id (128 random bits only that browser knows).
  .get('/export', siteAuth('invalid export request', shopperRequest), async (c) => {
    const { site, input } = c.var
    const customer = await customerView(c.env, site, input.anonymousId, Date.now())
    const data = await exportData(c.var.db, site.id, customer.browsers, customer.uid, EXPORT_LIMIT)
    const answer = {
      uid: customer.uid,
      browsers: customer.browsers,
      segments: explainedSegments(customer),
      value: customer.value,
      ...data,
    }
    return c.json(forBrowser(answer, input.anonymousId))
  })
  .post('/erase', siteAuth('invalid erase request', shopperRequest), async (c) => {
    const { site, input } = c.var
    const customer = await customerView(c.env, site, input.anonymousId, Date.now())
    const browsers = await eraseShopper(c.var.db, site.id, customer.browsers, customer.uid, Date.now())
    return c.json({ erased: { uid: customer.uid, browsers: browsers.map(maskedFor(input.anonymousId)) } })
  })
