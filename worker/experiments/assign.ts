// Which arm of an experiment a shopper is in: pure, deterministic, sticky.
import { hash32 } from '../decide/engine'
import { HOLDOUT, runningOn, type Experiment, type Variant } from './config'

/** A shopper's arm: the variant served (null for the holdout) and whether the exposure is counted. */
export interface Arm {
  experimentId: string
  /** The variant's name, or HOLDOUT. */
  name: string
  variant: Variant | null
  /** False for a request without a shopper id: it gets the control and is not counted. */
  counted: boolean
}

/**
 * Where a shopper falls in [0, 1): FNV-1a of "experimentId:anonymousId" with MurmurHash3's 32-bit
 * finalizer (decide/engine.ts hash32, the holdout of next best actions), over 2^32. Salted by the
 * experiment, so the same shopper lands independently in each experiment.
 */
export const unitOf = (experimentId: string, anonymousId: string) => hash32(`${experimentId}:${anonymousId}`) / 2 ** 32

/**
 * The holdout first (u below the share), then the variants by weight over the rest of [0, 1).
 * Sticky: the same shopper gets the same arm as long as the holdout and variants do not change
 * (the admin API refuses to change a running experiment).
 */
export function assign(experiment: Experiment, anonymousId: string | undefined): Arm {
  const [control] = experiment.variants as [Variant, ...Variant[]]
  if (!anonymousId) return { experimentId: experiment.id, name: control.name, variant: control, counted: false }
  const u = unitOf(experiment.id, anonymousId)
  if (u < experiment.holdout) return { experimentId: experiment.id, name: HOLDOUT, variant: null, counted: true }
  const total = experiment.variants.reduce((sum, v) => sum + v.weight, 0)
  let edge = experiment.holdout
  for (const variant of experiment.variants) {
    edge += ((1 - experiment.holdout) * variant.weight) / total
    if (u < edge) return { experimentId: experiment.id, name: variant.name, variant, counted: true }
  }
  // Rounding may leave u just above the last edge.
  const last = experiment.variants.at(-1)!
  return { experimentId: experiment.id, name: last.name, variant: last, counted: true }
}

/** What of a recommendation request an experiment may set. */
interface Shaped {
  slot?: string
  anonymousId?: string
  strategy: Variant['strategy']
  limit: number
  rules?: Variant['rules']
}

/**
 * The request as the slot's running experiment shapes it for this shopper (the variant's strategy,
 * and its rules and limit when it sets them), and the shopper's arm; the request as it came and no
 * arm when the slot runs none. A holdout arm keeps the request: its answer is emptied by the route.
 */
export function withExperiment<R extends Shaped>(
  experiments: Experiment[] | undefined,
  req: R,
): { req: R; arm: Arm | null } {
  const experiment = runningOn(experiments, req.slot)
  if (!experiment) return { req, arm: null }
  const arm = assign(experiment, req.anonymousId)
  const v = arm.variant
  return {
    req: v ? { ...req, strategy: v.strategy, limit: v.limit ?? req.limit, rules: v.rules ?? req.rules } : req,
    arm,
  }
}
