// POST /v1/decide: what the page tells the Worker about the visit, and the action it answers with.
// The same schema is the decision context that conditions address, so the fields a marketer may
// test, the request the SDK sends and what the route accepts cannot drift apart.
import { z } from 'zod'
import { DEVICE_CLASSES, UTM_KEYS, type UtmKey } from './events'
import { id, shopperRequest } from './ids'
import type { RecentKind } from './recent'
import { recentParam } from './recommend'

/** Largest accepted body of POST /v1/decide. */
export const MAX_DECIDE_BYTES = 16 * 1024

const text = (max: number) => z.string().max(max)

/** What only the page knows; segments and scores come from the server's own view of the shopper. */
export const visitSchema = z
  .object({
    cart: z
      .object({
        total: z.number().min(0).max(1e9),
        count: z.number().int().min(0).max(10_000),
        items: z.array(id).max(200),
      })
      .partial(),
    page: z.object({ type: text(64), path: text(1024), item: text(200), category: text(128) }).partial(),
    device: z.enum(DEVICE_CLASSES),
    time: z.object({ hour: z.number().int().min(0).max(23), weekday: z.number().int().min(0).max(6) }).partial(),
    referrer: text(2048),
    utm: z.object(Object.fromEntries(UTM_KEYS.map((k) => [k, text(200)])) as Record<UtmKey, z.ZodString>).partial(),
  })
  .partial()
/** The visit as the SDK describes it. */
export type Visit = z.input<typeof visitSchema>

/** The body of POST /v1/decide; `recent` is the device's recent items (the cart is the visit's). */
export const decideBody = shopperRequest.extend({
  placement: z.string().min(1).max(64),
  context: visitSchema.default({}),
  recent: recentParam.optional(),
})
/** What the SDK posts to /v1/decide. */
export type DecideRequest = z.input<typeof decideBody>

/** The lists of the shopper's items by what they did, as conditions name them (`history.viewed`). */
export const HISTORY_LISTS = {
  view: 'viewed',
  add: 'added',
  buy: 'bought',
  rate: 'rated',
  dismiss: 'dismissed',
} as const satisfies Record<RecentKind, string>
/** Item ids per list, newest first: the stored history with the device's recent items merged in. */
export type HistoryLists = Partial<Record<(typeof HISTORY_LISTS)[RecentKind], string[]>>

/** What a decision may look at: the visit plus what the Worker knows; conditions use dotted paths such as `cart.total`. */
export interface DecisionContext extends z.output<typeof visitSchema> {
  history?: HistoryLists
  segments?: string[]
  lifecycle?: string
  /** Model scores by name, e.g. `rfm`, `churnRisk`. */
  scores?: Record<string, number | string>
  profile?: Record<string, unknown>
}

/** How a condition may compare a field. */
export type FieldKind = 'number' | 'string' | 'list' | 'scalar' | 'any'

/** Every dotted path of the visit with its kind, read from the schema itself. */
function visitFields(schema: z.ZodType, prefix = ''): Array<[string, FieldKind]> {
  let s = schema
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) => visitFields(v, `${prefix}${k}.`))
  }
  const kind: FieldKind = s instanceof z.ZodNumber ? 'number' : s instanceof z.ZodArray ? 'list' : 'string'
  return [[prefix.slice(0, -1), kind]]
}

/** The closed set of fields a condition may test, and their kinds; `scores.` and `profile.` are open below. */
export const CONTEXT_FIELDS: Readonly<Record<string, FieldKind>> = Object.freeze({
  segments: 'list',
  lifecycle: 'string',
  ...Object.fromEntries(Object.values(HISTORY_LISTS).map((list) => [`history.${list}`, 'list'])),
  ...Object.fromEntries(visitFields(visitSchema)),
})
/** Open-ended roots: any name below them is a field (scores and profile traits). */
export const OPEN_FIELDS: ReadonlyArray<readonly [prefix: string, kind: FieldKind]> = [
  ['scores.', 'scalar'],
  ['profile.', 'any'],
]

/** POST /v1/decide: the action to show in a placement (or none), and why, in words for the shopper; whether they are in the holdout stays with the marketer. */
export interface DecisionAnswer {
  id: string
  placement: string
  action: { id: string; title: string; text: string; image?: string; link?: string } | null
  reasons: string[]
}
