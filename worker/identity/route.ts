import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { z } from 'zod'
import { applyLink, findIdentities, identitiesOf, moveIdentity, saveClaims, uidOf } from './store'
import type { AppEnv, Bindings, Site } from '../env'
import { randomId } from '../ids'
import { planLink, type ClaimKind, type Identifier } from './link'
import { toIssues } from '../events/ingest'
import { authenticate, checkOrigin } from '../http/site-auth'
import { open, verify } from './verification'
import { identitiesFor } from '../customer/view'
import { invalid, readJson } from '../http/body'

const id = z.string().regex(/^[A-Za-z0-9_.:@-]{1,200}$/, 'must be 1-200 characters of A-Z a-z 0-9 _ . : @ -')
const signature = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be the HMAC-SHA256 hex digest of "kind:value"')
/** The ids a request may name besides the browser's own; emails only as SHA-256 of the trimmed, lower-cased address. */
export const claimedIds = z.object({
  userId: id.optional(),
  crmId: id.optional(),
  loyaltyId: id.optional(),
  emailHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be the SHA-256 hex digest of the e-mail').optional(),
})
/** The body of POST /v1/identify: each id may carry the site backend's signature of it. */
export const identifyBody = claimedIds.extend({
  site: z.string().min(1).max(128),
  key: z.string().min(1).max(200),
  anonymousId: id,
  signatures: z.object({ user: signature, crm: signature, loyalty: signature, email: signature }).partial().strict().optional(),
})

const newUid = () => randomId('uid')

/** The claimed ids of a request, strongest first. */
export const namedIds = (b: z.infer<typeof claimedIds>): Identifier[] => [
  ...(b.userId ? [{ kind: 'user' as const, value: b.userId }] : []),
  ...(b.crmId ? [{ kind: 'crm' as const, value: b.crmId }] : []),
  ...(b.loyaltyId ? [{ kind: 'loyalty' as const, value: b.loyaltyId }] : []),
  ...(b.emailHash ? [{ kind: 'email' as const, value: b.emailHash }] : []),
]

/** Joins verified identifiers under one UID (merging what they show to be one customer); answers the UID. */
export async function linkVerified(db: D1Database, siteId: string, ids: Identifier[], how: string, now: number): Promise<string> {
  const { known, logins } = await findIdentities(db, siteId, ids)
  const plan = planLink(known, ids, newUid(), logins)
  await applyLink(db, siteId, { ...plan, reason: `${plan.reason} (${how})` }, now)
  return plan.uid
}

/** The claimed ids whose signatures hold; 401 for any that does not, 400 for a signature of an id not sent. */
async function verifiedClaims(env: Bindings, site: Site, claimed: Identifier[], signatures: Partial<Record<ClaimKind, string>>) {
  const given = Object.entries(signatures) as Array<[ClaimKind, string]>
  if (given.length === 0) return []
  if (!site.identitySecret) {
    throw new HTTPException(401, { message: `site ${site.id} has no identity secret, so no signature can hold` })
  }
  const secret = await open(env.IDENTITY_KEK, site.id, site.identitySecret)
  const verified: Identifier[] = []
  for (const [kind, sig] of given) {
    const claim = claimed.find((i) => i.kind === kind)
    if (!claim) throw invalid('invalid identify request', [{ path: `signatures.${kind}`, message: `signs a ${kind} id the request does not carry` }])
    if (!(await verify(secret, claim, sig))) throw new HTTPException(401, { message: `the signature of the ${kind} id does not match it` })
    verified.push(claim)
  }
  return verified
}

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
    // Always to a UID of its own: the one it had before may hold a login someone planted on a shared
    // computer, and moving back there would hand this browser's history to them.
    const to = newUid()
    await moveIdentity(c.env.DB, site.id, browser, to, 'unlinked by the shopper', Date.now())
    return c.json({ uid: to, previousUid: from, identities: identitiesFor(await identitiesOf(c.env.DB, site.id, to), browser.value) })
  })
  .post('/', async (c) => {
    const parsed = identifyBody.safeParse(await readJson(c.req.raw, 4096))
    if (!parsed.success) throw invalid('invalid identify request', toIssues(parsed.error))
    const b = parsed.data
    const site = await authenticate(c.env, b.site, b.key)
    checkOrigin(site, c.req.header('Origin'))
    const browser: Identifier = { kind: 'anonymous', value: b.anonymousId }
    const claimed = namedIds(b)
    const verified = await verifiedClaims(c.env, site, claimed, b.signatures ?? {})
    // Anyone can name a login id or compute an e-mail's hash, so only what the site signed joins
    // customers, unless the site accepted that risk in its settings.
    const trusting = site.settings?.identity?.unverifiedLinking === true
    const linking = trusting ? claimed : verified
    const unverified = claimed.filter((i) => !linking.includes(i))
    const now = Date.now()
    if (unverified.length > 0) await saveClaims(c.env.DB, site.id, browser.value, unverified, now)
    const how = trusting && verified.length < claimed.length ? 'unverified linking allowed by the site' : 'signed by the site'
    const uid = linking.length > 0 ? await linkVerified(c.env.DB, site.id, [browser, ...linking], how, now) : await uidOf(c.env.DB, site.id, browser.value)
    return c.json({
      uid,
      identities: uid ? identitiesFor(await identitiesOf(c.env.DB, site.id, uid), browser.value) : [],
      // Kept on this browser alone, for the marketer to see as unverified.
      unverified: unverified.map(({ kind, value }) => ({ kind, value })),
    })
  })
