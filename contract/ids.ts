// Ids and the fields every public request carries, written once for the SDK and the Worker.
import { z } from 'zod'

/** Ids of events, items, browsers, orders, answers and actions. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/
/** Site ids (shorter: they name a tenant in keys, logs and URLs). */
export const SITE_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/

/** An id: 1-200 characters of A-Z a-z 0-9 _ . : - */
export const id = z.string().regex(ID_PATTERN, 'must be 1-200 characters of A-Z a-z 0-9 _ . : -')
/** A login, CRM or loyalty id: an id that may also hold @ (logins are often e-mail-like). */
export const externalId = z
  .string()
  .regex(/^[A-Za-z0-9_.:@-]{1,200}$/, 'must be 1-200 characters of A-Z a-z 0-9 _ . : @ -')
/** A SHA-256 or HMAC-SHA256 digest as 64 hex digits; `what` says what it digests. */
export const hexDigest = (what: string, pattern = /^[0-9a-f]{64}$/) => z.string().regex(pattern, `must be the ${what}`)

/** The site and its public key: what the script tag carries on every request. */
export const siteKey = z.object({
  site: z.string().regex(SITE_ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 _ . : -'),
  key: z.string().min(1).max(200),
})
/** A request about the shopper behind one browser: only that browser knows its anonymous id. */
export const shopperRequest = siteKey.extend({ anonymousId: id })
/** GET /v1/profile, GET /v1/privacy/export, POST /v1/privacy/erase and POST /v1/identify/unlink. */
export type ShopperRequest = z.input<typeof shopperRequest>

/** Largest accepted body of the small shopper requests (identify, unlink, erase). */
export const MAX_SHOPPER_BODY_BYTES = 4096
