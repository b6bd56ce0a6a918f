import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { z } from 'zod'
import { identifyBody, shopperRequest, type claimedIds } from '../../contract'
import { applyLink, findIdentities, identitiesOf, moveIdentity, saveClaims, uidOf } from './store'
import type { AppEnv, Bindings, Site } from '../env'
import { randomId } from '../ids'
import { planLink, type ClaimKind, type Identifier } from './link'
import { siteAuth } from '../http/site-auth'
import { open, verify } from './verification'
import { identitiesFor } from '../customer/view'
import { invalid } from '../http/body'

const newUid = () => randomId('uid')

/** The claimed ids of a request, strongest first. */
export const namedIds = (b: z.output<typeof claimedIds>): Identifier[] => [
  ...(b.userId ? [{ kind: 'user' as const, value: b.userId }] : []),
  ...(b.crmId ? [{ kind: 'crm' as const, value: b.crmId }] : []),
  ...(b.loyaltyId ? [{ kind: 'loyalty' as const, value: b.loyaltyId }] : []),
  ...(b.emailHash ? [{ kind: 'email' as const, value: b.emailHash }] : []),
]

/** Joins verified identifiers under one UID (merging what they show to be one customer); answers the UID. */
export async function linkVerified(
  db: D1Database,
  siteId: string,
  ids: Identifier[],
  how: string,
  now: number,
): Promise<string> {
  const { known, logins } = await findIdentities(db, siteId, ids)
  const plan = planLink(known, ids, newUid(), logins)
  await applyLink(db, siteId, { ...plan, reason: `${plan.reason} (${how})` }, now)
  return plan.uid
}

/** The claimed ids whose signatures hold; 401 for any that does not, 400 for a signature of an id not sent. */
async function verifiedClaims(
  env: Bindings,
  site: Site,
  claimed: Identifier[],
  signatures: Partial<Record<ClaimKind, string>>,
) {
  const given = Object.entries(signatures) as Array<[ClaimKind, string]>
  if (given.length === 0) return []
  if (!site.identitySecret) {
    throw new HTTPException(401, { message: `site ${site.id} has no identity secret, so no signature can hold` })
  }
  const secret = await open(env.IDENTITY_KEK, site.id, site.identitySecret)
  const verified: Identifier[] = []
  for (const [kind, sig] of given) {
    const claim = claimed.find((i) => i.kind === kind)
    if (!claim)
      throw invalid('invalid identify request', [
        { path: `signatures.${kind}`, message: `signs a ${kind} id the request does not carry` },
      ])
    if (!(await verify(secret, claim, sig)))
      throw new HTTPException(401, { message: `the signature of the ${kind} id does not match it` })
    verified.push(claim)
  }
  return verified
}

/** POST /v1/identify ties a browser to the shopper's other ids; POST /v1/identify/unlink undoes it for that browser. */
export default new Hono<AppEnv>()
  // Only the browser itself knows its anonymous id (128 random bits), so it may take itself out.
  .post('/unlink', siteAuth('invalid unlink request', shopperRequest), async (c) => {
    const site = c.var.site
    const browser: Identifier = { kind: 'anonymous', value: c.var.input.anonymousId }
    const from = await uidOf(c.var.db, site.id, browser.value)
    if (!from) return c.json({ uid: null, identities: [] })
    // Always to a UID of its own: the one it had before may hold a login someone planted on a shared
    // computer, and moving back there would hand this browser's history to them.
    const to = newUid()
    await moveIdentity(c.var.db, site.id, browser, to, 'unlinked by the shopper', Date.now())
    return c.json({
      uid: to,
      previousUid: from,
      identities: identitiesFor(await identitiesOf(c.var.db, site.id, to), browser.value),
    })
  })
  .post('/', siteAuth('invalid identify request', identifyBody), async (c) => {
    const { site, input: b } = c.var
    const browser: Identifier = { kind: 'anonymous', value: b.anonymousId }
    const claimed = namedIds(b)
    const verified = await verifiedClaims(c.env, site, claimed, b.signatures ?? {})
    // Anyone can name a login id or compute an e-mail's hash, so only what the site signed joins
    // customers, unless the site accepted that risk in its settings.
    const trusting = site.settings?.identity?.unverifiedLinking === true
    const linking = trusting ? claimed : verified
    const unverified = claimed.filter((i) => !linking.includes(i))
    const now = Date.now()
    if (unverified.length > 0) await saveClaims(c.var.db, site.id, browser.value, unverified, now)
    const how =
      trusting && verified.length < claimed.length ? 'unverified linking allowed by the site' : 'signed by the site'
    const uid =
      linking.length > 0
        ? await linkVerified(c.var.db, site.id, [browser, ...linking], how, now)
        : await uidOf(c.var.db, site.id, browser.value)
    return c.json({
      uid,
      identities: uid ? identitiesFor(await identitiesOf(c.var.db, site.id, uid), browser.value) : [],
      // Kept on this browser alone, for the marketer to see as unverified.
      unverified: unverified.map(({ kind, value }) => ({ kind, value })),
    })
  })
