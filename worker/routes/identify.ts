import { Hono } from 'hono'
import { z } from 'zod'
import { applyLink, findIdentities, identitiesOf, moveIdentity, previousUid, uidOf } from '../db'
import type { AppEnv } from '../env'
import { randomId } from '../ids'
import { planLink, unlinkTarget, type Identifier } from '../identity'
import { toIssues } from '../ingest'
import { authenticate, checkOrigin } from '../sites'
import { invalid, readJson } from './body'

const id = z.string().regex(/^[A-Za-z0-9_.:@-]{1,200}$/, 'must be 1-200 characters of A-Z a-z 0-9 _ . : @ -')
/** The body of POST /v1/identify. */
export const identifyBody = z.object({
  site: z.string().min(1).max(128),
  key: z.string().min(1).max(200),
  anonymousId: id,
  userId: id.optional(),
  crmId: id.optional(),
  loyaltyId: id.optional(),
  // Emails never leave the device in clear: the SDK sends SHA-256 of the trimmed, lower-cased address.
  emailHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be the SHA-256 hex digest of the e-mail').optional(),
})

const newUid = () => randomId('uid')

/** The body of POST /v1/identify/unlink. */
export const unlinkBody = z.object({ site: z.string().min(1).max(128), key: z.string().min(1).max(200), anonymousId: id })

/** POST /v1/identify ties a browser to the shopper's other ids; POST /v1/identify/unlink undoes it for that browser. */
export default new Hono<AppEnv>()
  .post('/unlink', async (c) => {
    // Only the browser itself knows its anonymous id (128 random bits), so it may take itself out.
    const parsed = unlinkBody.safeParse(await readJson(c.req.raw, 4096))
    if (!parsed.success) throw invalid('invalid unlink request', toIssues(parsed.error))
    const site = await authenticate(c.env, parsed.data.site, parsed.data.key)
    checkOrigin(site, c.req.header('Origin'))
    const browser: Identifier = { kind: 'anonymous', value: parsed.data.anonymousId }
    const from = await uidOf(c.env.DB, site.id, browser.value)
    if (!from) return c.json({ uid: null, identities: [] })
    const to = unlinkTarget(await previousUid(c.env.DB, site.id, browser), newUid())
    await moveIdentity(c.env.DB, site.id, browser, to, 'unlinked by the shopper', Date.now())
    return c.json({ uid: to, previousUid: from, identities: await identitiesOf(c.env.DB, site.id, to) })
  })
  .post('/', async (c) => {
  const parsed = identifyBody.safeParse(await readJson(c.req.raw, 4096))
  if (!parsed.success) throw invalid('invalid identify request', toIssues(parsed.error))
  const b = parsed.data
  const site = await authenticate(c.env, b.site, b.key)
  checkOrigin(site, c.req.header('Origin'))
  const incoming: Identifier[] = [
    { kind: 'anonymous', value: b.anonymousId },
    ...(b.userId ? [{ kind: 'user' as const, value: b.userId }] : []),
    ...(b.crmId ? [{ kind: 'crm' as const, value: b.crmId }] : []),
    ...(b.loyaltyId ? [{ kind: 'loyalty' as const, value: b.loyaltyId }] : []),
    ...(b.emailHash ? [{ kind: 'email' as const, value: b.emailHash }] : []),
  ]
  const plan = planLink(await findIdentities(c.env.DB, site.id, incoming), incoming, newUid())
  await applyLink(c.env.DB, site.id, plan, Date.now())
  return c.json({ uid: plan.uid, identities: await identitiesOf(c.env.DB, site.id, plan.uid) })
})
