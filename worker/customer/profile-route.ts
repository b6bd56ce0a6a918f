import { Hono } from 'hono'
import { shopperRequest } from '../../contract'
import { customerView, forBrowser, profileAnswer } from './view'
import type { AppEnv } from '../env'
import { siteAuth } from '../http/site-auth'

/** GET /v1/profile: what Vista knows about the shopper behind this browser, with reasons. */
export default new Hono<AppEnv>().get('/', siteAuth('invalid query', shopperRequest), async (c) => {
  const { anonymousId } = c.var.input
  const customer = await customerView(c.env, c.var.site, anonymousId, Date.now())
  return c.json(forBrowser(profileAnswer(customer), anonymousId))
})
