// POST /v1/identify: the ids a browser names for its shopper, each signed by the site's backend.
import { z } from 'zod'
import { externalId, hexDigest, shopperRequest } from './ids'

const signature = hexDigest('HMAC-SHA256 hex digest of "kind:value"', /^[0-9a-fA-F]{64}$/)

/** The ids a request may name besides the browser's own; emails only as SHA-256 of the trimmed, lower-cased address. */
export const claimedIds = z.object({
  userId: externalId.optional(),
  crmId: externalId.optional(),
  loyaltyId: externalId.optional(),
  emailHash: hexDigest('SHA-256 hex digest of the e-mail').optional(),
})

/** The body of POST /v1/identify: each id may carry the site backend's signature of it. */
export const identifyBody = claimedIds.extend({
  ...shopperRequest.shape,
  signatures: z
    .object({ user: signature, crm: signature, loyalty: signature, email: signature })
    .partial()
    .strict()
    .optional(),
})
/** What the SDK posts to /v1/identify. */
export type IdentifyRequest = z.input<typeof identifyBody>
/** One signature per claimed id kind, made by the site's backend. */
export type IdentitySignatures = NonNullable<IdentifyRequest['signatures']>
