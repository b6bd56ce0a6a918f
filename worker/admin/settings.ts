// What a marketer sets per site, validated on save (admin API) and read by the routes.
import { z } from 'zod'
import { CONSENT_MODES } from '../../contract'
import { contactPolicySchema } from '../decide/engine'
import { rulesSchema } from '../recommend/rules'
import { edgeSettingsSchema } from '../edge/config'

const days = z.number().int().min(1).max(3650)

/** A site's settings; every section is optional and falls back to the defaults in its module. */
export const siteSettingsSchema = z
  .object({
    /** Default business rules for every recommendation request (a request's own rules win). */
    recommendations: z.object({ rules: rulesSchema }).partial(),
    /** Lifecycle thresholds in days (see worker/customer/segments.ts for the defaults). */
    lifecycle: z.object({ newDays: days, activeDays: days, lapsedDays: days, reactivationGapDays: days }).partial(),
    /** Next best action: share of shoppers held out, and the contact policy. */
    decide: z.object({ holdoutShare: z.number().min(0).max(1), policy: contactPolicySchema.partial() }).partial(),
    /** How the script tag treats shoppers before they choose. */
    consent: z.enum(CONSENT_MODES),
    /**
     * Identity: `unverifiedLinking` lets ids a page names without the site's signature join
     * customers. Off by default: anyone who knows a shopper's login id or e-mail could then read
     * and erase that shopper's data.
     */
    identity: z.object({ unverifiedLinking: z.boolean() }).partial().strict(),
    /** Shopper rows older than this many days are deleted by the daily cron (default 395, see worker/retention/sweep.ts). */
    retentionDays: days,
    /** The edge pass (worker/edge/): shop hosts whose pages the Worker fetches from their origin and personalises; null turns it off. */
    edge: edgeSettingsSchema.nullable(),
  })
  .partial()
  .strict()
/** What a marketer sets per site. */
export type SiteSettings = z.infer<typeof siteSettingsSchema>

/** Allowed origins: exact origins, or a host with ":*" for any port. */
export const originsSchema = z
  .array(
    z
      .string()
      .regex(
        /^https?:\/\/[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$/,
        'must be an origin like https://shop.example or http://127.0.0.1:*',
      ),
  )
  .max(50)
