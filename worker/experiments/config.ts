// An A/B test of a recommendation slot, as a marketer saves it: validated on save (admin API),
// kept with the site row and read from its KV-cached copy on every recommendation.
import { z } from 'zod'
import { STRATEGIES } from '../../contract'
import { rulesSchema } from '../recommend/rules'

/** Most experiments a site keeps (drafts, running and stopped): they travel in its cached row. */
export const MAX_EXPERIMENTS = 20
/** The variant name of the held-out shoppers (reserved: no variant may take it). */
export const HOLDOUT = 'holdout'
/** The states of an experiment, in the only order it moves through them. */
export const EXPERIMENT_STATUSES = ['draft', 'running', 'stopped'] as const
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number]

const name = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 characters of A-Z a-z 0-9 _ -')
  .refine((n) => n !== HOLDOUT, `"${HOLDOUT}" is reserved for the held-out shoppers`)

/** One arm: the strategy, rules and limit its shoppers get, and its share of the non-held-out traffic. */
export const variantSchema = z
  .object({
    name,
    strategy: z.enum(STRATEGIES),
    rules: rulesSchema.optional(),
    limit: z.number().int().min(1).max(50).optional(),
    weight: z.number().finite().positive().max(1000),
  })
  .strict()
export type Variant = z.infer<typeof variantSchema>

/** The body of PUT /v1/admin/:site/experiments/:id: what a marketer sets; the first variant is the control. */
export const experimentBody = z
  .object({
    slot: z.string().min(1).max(64),
    variants: z
      .array(variantSchema)
      .min(2)
      .max(5)
      .refine((vs) => new Set(vs.map((v) => v.name)).size === vs.length, 'variant names must differ'),
    holdout: z.number().min(0).max(0.5).default(0),
  })
  .strict()

/** An experiment as stored: the body, its id and where it is in its life. */
export interface Experiment extends z.infer<typeof experimentBody> {
  id: string
  status: ExperimentStatus
  createdAt: number
  startedAt: number | null
  stoppedAt: number | null
}

/** The running experiment on a slot, if any. */
export const runningOn = (experiments: Experiment[] | undefined, slot: string | undefined) =>
  slot === undefined ? undefined : experiments?.find((e) => e.status === 'running' && e.slot === slot)
