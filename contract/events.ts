// The event contract, written once. The Worker validates with these schemas; the SDK imports
// only the inferred types (`import type`), so zod never reaches the browser bundle.
import { z } from 'zod'
import { id, siteKey } from './ids'

/** Event names, after Segment's ecommerce spec where one exists. */
export const EVENT_TYPES = [
  'Page Viewed',
  'Product Viewed',
  'Product Added',
  'Product Removed',
  'Cart Viewed',
  'Checkout Started',
  'Order Completed',
  'Product Reviewed',
  'Recommendation Shown',
  'Recommendation Clicked',
  'Recommendation Dismissed',
  'Offer Shown',
  'Offer Accepted',
  'Offer Dismissed',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** Most events a single POST may carry. */
export const MAX_BATCH_EVENTS = 100
/** Largest accepted body of POST /v1/events; a beacon must stay under 64 KB anyway. */
export const MAX_BATCH_BYTES = 256 * 1024
/** Largest serialized `properties` object of one event. */
export const MAX_PROPERTIES_BYTES = 8 * 1024

const text = (max: number) => z.string().max(max)
const money = z.number().finite().min(0).max(1e9)
const count = z.number().int().min(1).max(10_000)

const productFields = {
  product_id: id,
  sku: text(128).optional(),
  name: text(300).optional(),
  category: text(128).optional(),
  price: money.optional(),
  quantity: count.optional(),
  recommendation_id: id.optional(),
}
const product = z.looseObject(productFields)
const products = z.array(product).max(200)

// Loose objects: site owners may add properties of their own, as in Segment's spec.
const PROPERTIES = {
  'Page Viewed': z.looseObject({ name: text(300).optional(), page_type: text(64).optional() }),
  'Product Viewed': product,
  'Product Added': product,
  'Product Removed': product,
  'Cart Viewed': z.looseObject({ cart_id: id.optional(), products }),
  'Checkout Started': z.looseObject({ order_id: id.optional(), revenue: money.optional(), products }),
  'Order Completed': z.looseObject({
    order_id: id,
    revenue: money,
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')
      .optional(),
    products: products.min(1),
  }),
  'Product Reviewed': z.looseObject({
    product_id: id,
    rating: z.number().int().min(1).max(5),
    review_body: text(2000).optional(),
  }),
  'Recommendation Shown': z.looseObject({
    recommendation_id: id,
    product_ids: z.array(id).max(100),
    slot: text(64).optional(),
    strategy: text(64).optional(),
  }),
  'Recommendation Clicked': z.looseObject({
    recommendation_id: id,
    product_id: id,
    position: z.number().int().min(0).max(1000).optional(),
  }),
  'Recommendation Dismissed': z.looseObject({ recommendation_id: id.optional(), product_id: id }),
  'Offer Shown': z.looseObject({ decision_id: id, action_id: id, placement: text(64).optional() }),
  'Offer Accepted': z.looseObject({ decision_id: id, action_id: id, placement: text(64).optional() }),
  'Offer Dismissed': z.looseObject({ decision_id: id, action_id: id, placement: text(64).optional() }),
} satisfies Record<EventType, z.ZodType>

/** Properties each event type carries. */
export type EventProperties = { [T in EventType]: z.input<(typeof PROPERTIES)[T]> }

/** The UTM parameters a page's URL may carry (utm_source …). */
export const UTM_KEYS = ['source', 'medium', 'campaign', 'term', 'content'] as const
export type UtmKey = (typeof UTM_KEYS)[number]
export const DEVICE_CLASSES = ['mobile', 'tablet', 'desktop'] as const
export type DeviceClass = (typeof DEVICE_CLASSES)[number]

const contextSchema = z.object({
  page: z.object({
    url: text(2048),
    path: text(1024),
    referrer: text(2048).optional(),
    title: text(300).optional(),
  }),
  utm: z.partialRecord(z.enum(UTM_KEYS), text(200)).optional(),
  device: z.enum(DEVICE_CLASSES),
  viewport: z.object({ width: z.number().int().min(0).max(100_000), height: z.number().int().min(0).max(100_000) }),
  locale: text(35).optional(),
})
/** Where and on what an event happened. */
export type EventContext = z.infer<typeof contextSchema>

const base = {
  id,
  timestamp: z.number().int().positive(),
  anonymousId: id,
  userId: id.nullish(),
  sessionId: id,
  context: contextSchema,
}

/** One event, by its type (the Worker checks each event of a batch with it). */
export const eventSchema = z.discriminatedUnion(
  'type',
  EVENT_TYPES.map((type) =>
    z.object({
      ...base,
      type: z.literal(type),
      properties: (PROPERTIES[type] as z.ZodType).refine(
        (p) => JSON.stringify(p).length <= MAX_PROPERTIES_BYTES,
        `properties must serialize to at most ${MAX_PROPERTIES_BYTES} bytes`,
      ),
    }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
)

/** One tracked event, as the SDK sends it. */
export type VistaEvent = {
  [T in EventType]: z.infer<z.ZodObject<typeof base>> & { type: T; properties: EventProperties[T] }
}[EventType]

/** How a site's script tag treats shoppers before they choose, strictest first (`data-consent`, site settings). */
export const CONSENT_MODES = ['no-tracking-until-consent', 'anonymous-until-consent', 'tracking-with-opt-out'] as const
export type ConsentMode = (typeof CONSENT_MODES)[number]

/** What the SDK posts to /v1/events: the site, its public key, the client clock at send time, the tag's consent mode, the events. */
export interface EventBatch {
  site: string
  key: string
  sentAt: number
  consent?: ConsentMode
  events: VistaEvent[]
}

/**
 * The Worker's answer to a batch, given once the batch is durable (not yet folded into the model).
 * `accepted`: events new to the site's buffer; `duplicates`: events twice in the batch, or already
 * held or seen within a day. Whatever the counts say, each event id is stored once per site.
 */
export interface IngestResult {
  accepted: number
  duplicates: number
}

/** Validates a parsed batch; `events` are checked one by one so issues name the offending index. */
export const batchSchema = siteKey.extend({
  sentAt: z.number().int().positive(),
  consent: z.enum(CONSENT_MODES).optional(),
  events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS),
})

/** Checks one event against its type's schema. */
export const parseEvent = (value: unknown) => eventSchema.safeParse(value)
