import { Hono } from 'hono'
import { z } from 'zod'
import { customerView, forBrowser, profileAnswer } from './view'
import type { AppEnv } from '../env'
import { toIssues } from '../events/ingest'
import { authenticate, checkOrigin } from '../http/site-auth'
import { invalid } from '../http/body'

/** The query of GET /v1/profile. */
export const profileQuery = z.object({
  site: z.string().min(1).max(128),
  key: z.string().min(1).max(200),
  anonymousId: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/),
})

/** GET /v1/profile: what Vista knows about the shopper behind this browser, with reasons. */
export default new Hono<AppEnv>().get('/', async (c) => {
  const parsed = profileQuery.safeParse(c.req.query())
  if (!parsed.success) throw invalid('invalid query', toIssues(parsed.error))
  const site = await authenticate(c.env, parsed.data.site, parsed.data.key)
  const origin = c.req.header('Origin')
  if (origin) checkOrigin(site, origin)
  const customer = await customerView(c.env, site, parsed.data.anonymousId, Date.now())
  return c.json(forBrowser(profileAnswer(customer), parsed.data.anonymousId))
})
