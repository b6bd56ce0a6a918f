// The `edge` section of a site's settings: which shop hosts the Worker serves, and the origin it
// fetches their pages from.
import { z } from 'zod'

/** A host as a request's URL names it: lower-case, a port only where one is used (local runs). */
const host = z.string().regex(/^[a-z0-9.-]{1,253}(:\d{1,5})?$/, 'must be a host like shop.example')

/** The edge pass's setting: pages on `hosts` are fetched from `origin` and their slots filled in the HTML. */
export const edgeSettingsSchema = z
  .object({
    hosts: z.array(host).min(1).max(10),
    /** https, or plain http on the loopback address for local runs. */
    origin: z
      .string()
      .regex(
        /^(https:\/\/[A-Za-z0-9.-]+|http:\/\/(127\.0\.0\.1|localhost))(:\d{1,5})?$/,
        'must be an origin like https://origin.shop.example',
      ),
  })
  .strict()
  .refine((e) => !e.hosts.includes(new URL(e.origin).host), {
    message: 'the origin must not be one of the hosts: the Worker would fetch its own pages',
    path: ['origin'],
  })
/** The edge pass's setting. */
export type EdgeSettings = z.infer<typeof edgeSettingsSchema>
