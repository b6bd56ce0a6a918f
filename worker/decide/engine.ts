// Next best action: among the actions a shopper is eligible for (window, condition, contact
// policy), Thompson sampling on propensity × value × lever, with a holdout group, the probability
// of each choice for off-policy evaluation (IPS) and the reasons behind it. Pure: storage,
// routes and clocks are the caller's; randomness comes from the injected `rng`.
import { z } from 'zod'
import { SAFE_URL } from '../../contract/url'
import { conditionSchema } from './condition-schema'
import { describe, explain, explainToShopper, evaluate } from './explain'
import { id, type DecisionContext } from '../../contract'
import { lgamma, sampleBeta } from '../stats'

// The SDK renders nothing else, so an action that would lose its link or image is refused on save.
const URL_RULE = 'must start with https:// or be a path on this site (/…)'

/** A banner or offer as a marketer saves it. */
export const actionSchema = z
  .object({
    id,
    title: z.string().min(1).max(200),
    text: z.string().max(1000),
    image: z.string().max(2048).regex(SAFE_URL, URL_RULE).optional(),
    link: z.string().max(2048).regex(SAFE_URL, URL_RULE).optional(),
    placement: z.string().min(1).max(64),
    /** Business value of one acceptance, e.g. the expected margin of the order it brings. */
    value: z.number().finite().positive().max(1e9),
    /** The marketer's weight on the score; 0 pauses the action. */
    lever: z.number().finite().min(0).max(100).default(1),
    start: z.number().int().min(0).optional(),
    end: z.number().int().min(0).optional(),
    when: conditionSchema.default({}),
    /**
     * What the shopper reads under "Why this?", instead of the reasons Vista words from the
     * condition: public like the title and text, so write it to them ("Because your cart is over
     * €50"), never about values or odds. Kept to one line of plain text.
     */
    reason: z
      .string()
      .max(200)
      .transform((r) => r.replace(/[\p{Cc}\s]+/gu, ' ').trim())
      .optional(),
  })
  .refine((a) => a.start === undefined || a.end === undefined || a.start < a.end, {
    path: ['end'],
    message: 'end: must be later than start',
  })
/** A banner or offer with its eligibility condition. */
export type Action = z.output<typeof actionSchema>

/** How often one shopper may be contacted, and how long a repeatedly dismissed action rests. */
export const contactPolicySchema = z.object({
  maxPerDay: z.number().int().min(0).max(1000),
  maxPerActionPerDay: z.number().int().min(0).max(1000),
  /** Dismissals (within `suppressDays` of each other) that suppress an action; 0 never does. */
  dismissalsToSuppress: z.number().int().min(0).max(100),
  suppressDays: z.number().min(0).max(3650),
})
/** Frequency caps over the last 24 hours, and suppression after repeated dismissals. */
export type ContactPolicy = z.infer<typeof contactPolicySchema>

/** A sensible default: 3 offers a day, the same one at most twice, 2 dismissals rest it 30 days. */
export const DEFAULT_POLICY: ContactPolicy = {
  maxPerDay: 3,
  maxPerActionPerDay: 2,
  dismissalsToSuppress: 2,
  suppressDays: 30,
}

/** One past contact of the shopper with an action. */
export interface Contact {
  actionId: string
  at: number
  kind: 'shown' | 'dismissed' | 'accepted' | 'clicked'
}

/** Outcomes of an action in one segment: the Beta(1 + successes, 1 + failures) posterior. */
export interface Arm {
  successes: number
  failures: number
}

/** Arms by `armKey(actionId, segmentKey)`. */
export type Arms = Record<string, Arm>

/** What one decision answers, with why, and what a logger needs for off-policy evaluation. */
export interface Decision {
  action: Action | null
  /** Probability that this policy picks `action` in this context (1 when nothing is shown). */
  probability: number
  /** Posterior mean of the chosen arm's acceptance rate. */
  propensity: number
  score: number
  holdout: boolean
  /** What the shopper may read: plain words about them and their visit; [] when nothing is shown. */
  reasons: string[]
  considered: Array<{ id: string; eligible: boolean; why: string }>
  /** The marketer's account; logged and previewed, never sent to the shopper. */
  trace: Trace
}

/** One action of the placement as the decision saw it. */
export interface Candidate {
  id: string
  title: string
  value: number
  lever: number
  eligible: boolean
  /** Why it may (not) be shown, in the marketer's words. */
  why: string
  /** Posterior mean acceptance rate of its arm, if it was eligible. */
  propensity?: number
  /** propensity × value × lever. */
  expected?: number
  /** This decision's Thompson draw × value × lever: the highest wins. */
  score?: number
  outcome: 'chosen' | 'lost' | 'ineligible' | 'held out'
}

/** Why a decision came out as it did, for the marketer: admin preview and the decision log. */
export interface Trace {
  choice: 'holdout' | 'nothing-eligible' | 'only-eligible' | 'exploited' | 'explored'
  /** The choice in one sentence, e.g. "explored to learn: 20% propensity × value 10, against 50% × value 10 for A". */
  summary: string
  /** The chosen action's condition clauses that held ("cart total 92 > 80"). */
  held: string[]
  segmentKey: string
  probability: number
  candidates: Candidate[]
}

/** One logged decision: enough to evaluate another policy offline. */
export interface DecisionLog<C = DecisionContext> {
  context: C
  actionId: string | null
  probability: number
  reward: number
}

/** An action checked against the context and the contact history. */
export interface Eligibility {
  action: Action
  eligible: boolean
  why: string
  /** The condition's clauses that held, in plain words. */
  held: string[]
}

/** One day in ms: caps count the last 24 hours, suppression whole days. */
export const DAY = 24 * 60 * 60 * 1000
/** Extra Thompson draws that estimate a choice's probability. */
export const DRAWS = 200
/** The trace summary of a decision in the holdout group; the shopper is told nothing. */
export const HOLDOUT_REASON = 'holdout group: no offer shown, so uplift can be measured'
/** What the shopper reads when no clause of the condition speaks to them and the marketer wrote no reason. */
export const SHOPPER_FALLBACK = 'Picked for your visit'

/** The key of an action's arm in a segment; action ids never contain `|`. */
export const armKey = (actionId: string, segmentKey: string) => `${actionId}|${segmentKey}`

const iso = (ms: number) => new Date(ms).toISOString()

/** Why the contact policy rules an action out now, if it does. */
function contactLimit(action: Action, contacts: Contact[], policy: ContactPolicy, now: number) {
  const today = contacts.filter((c) => c.kind === 'shown' && c.at > now - DAY && c.at <= now)
  const mine = today.filter((c) => c.actionId === action.id).length
  if (mine >= policy.maxPerActionPerDay) {
    return `shown ${mine} times in 24 h (max ${policy.maxPerActionPerDay} per action)`
  }
  const n = policy.dismissalsToSuppress
  const rest = policy.suppressDays * DAY
  const dismissals = contacts
    .filter((c) => c.actionId === action.id && c.kind === 'dismissed' && c.at <= now)
    .map((c) => c.at)
    .sort((a, b) => b - a)
  const latest = dismissals[0]
  // N dismissals close together start a rest of D days from the last one; once it is over, the
  // old dismissals are out of the window, so the shopper starts again from zero.
  if (n > 0 && latest !== undefined && now < latest + rest) {
    const recent = dismissals.filter((at) => at > latest - rest).length
    if (recent >= n) return `dismissed ${recent} times: suppressed until ${iso(latest + rest)}`
  }
  if (today.length >= policy.maxPerDay) {
    return `${today.length} offers shown in 24 h (max ${policy.maxPerDay} per day)`
  }
  return null
}

/** Each action with whether it may be shown now and why (not). */
export function eligible(
  actions: Action[],
  context: DecisionContext,
  contacts: Contact[],
  policy: ContactPolicy,
  now: number,
): Eligibility[] {
  return actions.map((action) => {
    const no = (why: string): Eligibility => ({ action, eligible: false, why, held: [] })
    if (action.start !== undefined && now < action.start) return no(`starts ${iso(action.start)}`)
    if (action.end !== undefined && now >= action.end) return no(`ended ${iso(action.end)}`)
    if (!(action.lever * action.value > 0)) return no('paused: value × lever is 0')
    if (!evaluate(action.when, context)) return no(`condition not met: ${describe(action.when)}`)
    const limit = contactLimit(action, contacts, policy, now)
    if (limit) return no(limit)
    const held = explain(action.when, context)
    const why = held.length > 0 ? `eligible: ${held.join('; ')}` : 'eligible: shown to everyone'
    return { action, eligible: true, why, held }
  })
}

/** 32-bit FNV-1a, then murmur3's finaliser so that ids differing in one character spread out. */
export function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Whether a unit (shopper) is in the holdout: stable for a given id and share. */
export const inHoldout = (unitId: string, share: number) => hash32(`holdout:${unitId}`) / 2 ** 32 < share

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300
  const guard = (v: number) => (Math.abs(v) < tiny ? tiny : v)
  let c = 1
  let d = 1 / guard(1 - ((a + b) * x) / (a + 1))
  let h = d
  for (let m = 1; m <= 1000; m++) {
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
    d = 1 / guard(1 + even * d)
    c = guard(1 + even / c)
    h *= d * c
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
    d = 1 / guard(1 + odd * d)
    c = guard(1 + odd / c)
    h *= d * c
    if (Math.abs(d * c - 1) < 1e-12) break
  }
  return h
}

/** P(X ≤ x) for X ~ Beta(a, b): the regularised incomplete beta function. */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log1p(-x))
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b
}

/** Everything one decision depends on. */
export interface DecideInput {
  actions: Action[]
  context: DecisionContext
  contacts: Contact[]
  policy: ContactPolicy
  arms: Arms
  /** The segment whose arms learn from this shopper, e.g. their lifecycle stage. */
  segmentKey: string
  /** Share of units, 0-1, that never see an action. */
  holdoutShare: number
  unitId: string
  placement: string
  now: number
  rng: () => number
  draws?: number
}

const percent = (p: number) => `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`
const times = (a: Action) => `value ${a.value}${a.lever === 1 ? '' : ` × lever ${a.lever}`}`

/** The next best action for one shopper and placement, with its probability and reasons. */
export function decide(input: DecideInput): Decision {
  const { actions, context, contacts, policy, arms, segmentKey, placement, rng } = input
  const checked = eligible(
    actions.filter((a) => a.placement === placement),
    context,
    contacts,
    policy,
    input.now,
  )
  const considered = checked.map(({ action, eligible, why }) => ({ id: action.id, eligible, why }))
  const candidate = ({ action, eligible, why }: Eligibility): Candidate => ({
    id: action.id,
    title: action.title,
    value: action.value,
    lever: action.lever,
    eligible,
    why,
    outcome: 'ineligible',
  })
  const none = { action: null, probability: 1, propensity: 0, score: 0, considered, reasons: [] }
  const trace = (choice: Trace['choice'], summary: string, candidates: Candidate[]): Trace => ({
    choice,
    summary,
    held: [],
    segmentKey,
    probability: 1,
    candidates,
  })
  if (inHoldout(input.unitId, input.holdoutShare)) {
    const candidates = checked.map(
      (c): Candidate => ({ ...candidate(c), outcome: c.eligible ? 'held out' : 'ineligible' }),
    )
    return { ...none, holdout: true, trace: trace('holdout', HOLDOUT_REASON, candidates) }
  }
  const arms_ = checked
    .filter((c) => c.eligible)
    .map((c) => {
      const arm = arms[armKey(c.action.id, segmentKey)] ?? { successes: 0, failures: 0 }
      const a = 1 + arm.successes
      const b = 1 + arm.failures
      return { ...c, a, b, mean: a / (a + b), weight: c.action.value * c.action.lever }
    })
  if (arms_.length === 0) {
    const summary = `no eligible action for ${placement} (${checked.length} considered)`
    return { ...none, holdout: false, trace: trace('nothing-eligible', summary, checked.map(candidate)) }
  }
  const thetas = arms_.map((arm) => sampleBeta(arm.a, arm.b, rng))
  const scores = thetas.map((theta, i) => theta * arms_[i]!.weight)
  const index = scores.indexOf(Math.max(...scores))
  const pick = arms_[index]!
  const others = arms_.filter((_, i) => i !== index)
  // P(pick wins) = E over the other arms' draws of P(θ × weight > their best), exactly from the
  // Beta CDF (Rao–Blackwell): far less noisy than counting wins, and above 0 for rare choices,
  // which IPS divides by. The realised draw is one of the samples.
  const chance = (best: number) => 1 - betaCdf(best / pick.weight, pick.a, pick.b)
  const draws = others.length > 0 ? Math.max(0, Math.floor(input.draws ?? DRAWS)) : 0
  let sum = others.length > 0 ? chance(Math.max(...scores.filter((_, i) => i !== index))) : 1
  for (let d = 0; d < draws; d++) {
    sum += chance(Math.max(...others.map((arm) => sampleBeta(arm.a, arm.b, rng) * arm.weight)))
  }
  const top = arms_.reduce((a, b) => (b.mean * b.weight > a.mean * a.weight ? b : a))
  const expected = `${percent(pick.mean)} propensity × ${times(pick.action)}`
  const best = `${percent(top.mean)} × ${times(top.action)} for ${top.action.title}`
  const choice: Trace['choice'] =
    arms_.length === 1
      ? 'only-eligible'
      : top === pick || top.mean * top.weight === pick.mean * pick.weight
        ? 'exploited'
        : 'explored'
  const summary = {
    'only-eligible': `the only eligible action: ${expected}`,
    exploited: `chosen for the highest expected value: ${expected}`,
    explored: `explored to learn: ${expected}, against ${best}`,
  }[choice]
  const probability = sum / (draws + 1)
  const candidates = checked.map((c): Candidate => {
    const i = arms_.findIndex((arm) => arm.action === c.action)
    const arm = arms_[i]
    if (!arm) return candidate(c)
    const expected = arm.mean * arm.weight
    const outcome = i === index ? 'chosen' : 'lost'
    return { ...candidate(c), propensity: arm.mean, expected, score: scores[i]!, outcome }
  })
  // The marketer's own reason replaces the templates: they know the offer, and one line reads best.
  const told = pick.action.reason ? [pick.action.reason] : explainToShopper(pick.action.when, context)
  return {
    action: pick.action,
    probability,
    propensity: pick.mean,
    score: scores[index]!,
    holdout: false,
    reasons: told.length > 0 ? told : [SHOPPER_FALLBACK],
    considered,
    trace: { choice, summary, held: pick.held, segmentKey, probability, candidates },
  }
}

/** Off-policy estimate of a policy's mean reward from another policy's logs. */
export interface Estimate {
  /** Inverse propensity scoring: Σ reward / probability over the matched logs, divided by n. */
  value: number
  /** Self-normalised IPS: the same, divided by the weights' sum instead of n. */
  snips: number
  /** Standard error of `value`. */
  stderr: number
  n: number
  /** Logs whose action the policy would have taken too. */
  matched: number
  /** (Σw)² / Σw²: how many logs the estimate is really worth. */
  effectiveSampleSize: number
}

/** IPS and SNIPS estimates of a deterministic policy's value from logged decisions. */
export function ipsEstimate<C>(logs: Array<DecisionLog<C>>, policy: (context: C) => string | null): Estimate {
  let sumW = 0
  let sumW2 = 0
  let sumWR = 0
  let sumWR2 = 0
  let matched = 0
  for (const log of logs) {
    if (!(log.probability > 0 && log.probability <= 1)) {
      throw new RangeError(`logged probability ${log.probability} is not in (0, 1]`)
    }
    if (policy(log.context) !== log.actionId) continue
    const w = 1 / log.probability
    matched++
    sumW += w
    sumW2 += w * w
    sumWR += w * log.reward
    sumWR2 += (w * log.reward) ** 2
  }
  const n = logs.length
  const value = n > 0 ? sumWR / n : 0
  const variance = n > 1 ? (sumWR2 / n - value * value) * (n / (n - 1)) : 0
  return {
    value,
    snips: sumW > 0 ? sumWR / sumW : 0,
    stderr: n > 0 ? Math.sqrt(Math.max(0, variance) / n) : 0,
    n,
    matched,
    effectiveSampleSize: sumW2 > 0 ? (sumW * sumW) / sumW2 : 0,
  }
}
