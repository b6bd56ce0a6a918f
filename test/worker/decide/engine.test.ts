import { describe, expect, it } from 'vitest'
import type { Condition } from '../../../worker/decide/conditions'
import type { DecisionContext } from '../../../contract'
import {
  actionSchema,
  armKey,
  betaCdf,
  DAY,
  decide,
  eligible,
  HOLDOUT_REASON,
  ipsEstimate,
  type Action,
  type Arms,
  type Contact,
  type ContactPolicy,
  type DecideInput,
  type DecisionLog,
} from '../../../worker/decide/engine'
import { mulberry32 } from '../../fixtures/random'
import { sampleBeta, sampleGamma } from '../../../worker/stats'

const seeded = mulberry32

const NOW = Date.UTC(2026, 0, 15, 12)
const HOUR = 60 * 60 * 1000
const POLICY: ContactPolicy = {
  maxPerDay: 3,
  maxPerActionPerDay: 2,
  dismissalsToSuppress: 2,
  suppressDays: 7,
}

const action = (id: string, more: Partial<Action> = {}): Action => ({
  id,
  title: id.toUpperCase(),
  text: `${id} text`,
  placement: 'banner',
  value: 10,
  lever: 1,
  when: {},
  ...more,
})
const shown = (actionId: string, ago: number): Contact => ({ actionId, at: NOW - ago, kind: 'shown' })
const dismissed = (actionId: string, ago: number): Contact => ({
  actionId,
  at: NOW - ago,
  kind: 'dismissed',
})

const input = (more: Partial<DecideInput>): DecideInput => ({
  actions: [action('a')],
  context: {},
  contacts: [],
  policy: POLICY,
  arms: {},
  segmentKey: 'all',
  holdoutShare: 0,
  unitId: 'shopper-1',
  placement: 'banner',
  now: NOW,
  rng: seeded(1),
  ...more,
})

describe('eligible()', () => {
  const bigCart: DecisionContext = { cart: { total: 92 }, segments: ['at-risk'] }
  const cases: Array<{
    name: string
    action?: Partial<Action>
    contacts?: Contact[]
    policy?: Partial<ContactPolicy>
    context?: DecisionContext
    why: string
  }> = [
    { name: 'no window, no condition', why: 'eligible: shown to everyone' },
    { name: 'inside its window', action: { start: NOW - DAY, end: NOW + DAY }, why: 'eligible: shown to everyone' },
    { name: 'from the first millisecond', action: { start: NOW }, why: 'eligible: shown to everyone' },
    { name: 'before its start', action: { start: NOW + 1 }, why: `starts ${new Date(NOW + 1).toISOString()}` },
    { name: 'at its end', action: { end: NOW }, why: `ended ${new Date(NOW).toISOString()}` },
    { name: 'paused with lever 0', action: { lever: 0 }, why: 'paused: value × lever is 0' },
    {
      name: 'a condition that holds',
      action: { when: { 'cart.total': { $gt: 80 }, segments: { $contains: 'at-risk' } } },
      context: bigCart,
      why: 'eligible: cart total 92 > 80; segment at-risk',
    },
    {
      name: 'a condition that does not hold',
      action: { when: { 'cart.total': { $gt: 100 } } },
      context: bigCart,
      why: 'condition not met: cart total > 100',
    },
    {
      name: 'capped per action',
      contacts: [shown('a', HOUR), shown('a', 2 * HOUR)],
      why: 'shown 2 times in 24 h (max 2 per action)',
    },
    {
      name: 'per-action cap counts the last 24 hours only',
      contacts: [shown('a', HOUR), shown('a', DAY + HOUR)],
      why: 'eligible: shown to everyone',
    },
    {
      name: 'capped per day across actions',
      contacts: [shown('b', HOUR), shown('c', HOUR), shown('a', 3 * HOUR)],
      why: '3 offers shown in 24 h (max 3 per day)',
    },
    {
      name: 'outcomes are not contacts for the caps',
      contacts: [
        { actionId: 'a', at: NOW - HOUR, kind: 'accepted' },
        { actionId: 'a', at: NOW - HOUR, kind: 'clicked' },
        shown('a', HOUR),
      ],
      why: 'eligible: shown to everyone',
    },
    { name: 'one dismissal does not suppress', contacts: [dismissed('a', DAY)], why: 'eligible: shown to everyone' },
    {
      name: 'suppressed after N dismissals, for D days from the last',
      contacts: [dismissed('a', 3 * DAY), dismissed('a', DAY)],
      why: `dismissed 2 times: suppressed until ${new Date(NOW + 6 * DAY).toISOString()}`,
    },
    {
      name: 'suppression ends after D days',
      contacts: [dismissed('a', 10 * DAY), dismissed('a', 7 * DAY)],
      why: 'eligible: shown to everyone',
    },
    {
      name: 'suppression is still on a millisecond before its end',
      contacts: [dismissed('a', 8 * DAY), dismissed('a', 7 * DAY - 1)],
      why: `dismissed 2 times: suppressed until ${new Date(NOW + 1).toISOString()}`,
    },
    {
      name: 'dismissals more than D days apart do not add up',
      contacts: [dismissed('a', 12 * DAY), dismissed('a', 2 * DAY)],
      why: 'eligible: shown to everyone',
    },
    {
      name: "another action's dismissals do not count",
      contacts: [dismissed('b', 2 * DAY), dismissed('b', DAY)],
      why: 'eligible: shown to everyone',
    },
    {
      name: 'dismissalsToSuppress 0 never suppresses',
      contacts: [dismissed('a', 2 * DAY), dismissed('a', DAY)],
      policy: { dismissalsToSuppress: 0 },
      why: 'eligible: shown to everyone',
    },
  ]

  it.each(cases)('$name', ({ action: more, contacts = [], policy, context = {}, why }) => {
    const [result] = eligible([action('a', more)], context, contacts, { ...POLICY, ...policy }, NOW)
    expect(result!.why).toBe(why)
    expect(result!.eligible).toBe(why.startsWith('eligible'))
  })
})

describe('decide()', () => {
  it('keeps a holdout that is stable per unit and close to its share', () => {
    const decisions = Array.from({ length: 10_000 }, (_, i) =>
      decide(input({ unitId: `shopper-${i}`, holdoutShare: 0.1, rng: seeded(i) })),
    )
    const share = decisions.filter((d) => d.holdout).length / decisions.length
    // The binomial standard deviation is 0.3%: 1.5 points is 5 of them.
    expect(share).toBeGreaterThan(0.085)
    expect(share).toBeLessThan(0.115)
    decisions.slice(0, 200).forEach((d, i) => {
      expect(decide(input({ unitId: `shopper-${i}`, holdoutShare: 0.1, rng: seeded(-i) })).holdout).toBe(d.holdout)
    })
    const held = decisions.find((d) => d.holdout)!
    expect(held).toMatchObject({
      action: null,
      probability: 1,
      reasons: [],
      trace: { choice: 'holdout', summary: HOLDOUT_REASON },
    })
    expect(held.considered).toEqual([{ id: 'a', eligible: true, why: 'eligible: shown to everyone' }])
    expect(decisions.filter((d) => !d.holdout).every((d) => d.action?.id === 'a')).toBe(true)
  })

  it('holds out no one at share 0 and everyone at share 1', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `u${i}`)
    expect(ids.some((unitId) => decide(input({ unitId, holdoutShare: 0 })).holdout)).toBe(false)
    expect(ids.every((unitId) => decide(input({ unitId, holdoutShare: 1 })).holdout)).toBe(true)
  })

  it('never returns an ineligible action, however good its arm', () => {
    const rng = seeded(7)
    const actions = [
      action('vip', { value: 1000, when: { segments: { $contains: 'vip' } } }),
      action('late', { value: 1000, start: NOW + DAY }),
      action('cart', { value: 20, when: { 'cart.total': { $gt: 50 } } }),
      action('mobile', { value: 5, when: { device: 'mobile' } }),
      action('elsewhere', { value: 1000, placement: 'footer' }),
      action('tired', { value: 500 }),
      action('everyone', { value: 1 }),
    ]
    const contacts = [dismissed('tired', DAY), dismissed('tired', 2 * DAY)]
    // The ineligible actions' arms say they are sure winners.
    const arms: Arms = Object.fromEntries(
      ['vip', 'late', 'elsewhere', 'tired'].map((id) => [armKey(id, 'all'), { successes: 1000, failures: 0 }]),
    )
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const context: DecisionContext = {
        segments: rng() < 0.5 ? ['new'] : ['active'],
        cart: { total: Math.floor(rng() * 100) },
        device: rng() < 0.5 ? 'mobile' : 'desktop',
      }
      const decision = decide(input({ actions, context, contacts, arms, rng, draws: 20 }))
      const allowed = eligible(actions, context, contacts, POLICY, NOW)
        .filter((e) => e.eligible && e.action.placement === 'banner')
        .map((e) => e.action.id)
      expect(allowed).toContain(decision.action!.id)
      expect(decision.considered.find((c) => c.id === decision.action!.id)?.eligible).toBe(true)
      seen.add(decision.action!.id)
    }
    expect([...seen].sort()).toEqual(['cart', 'everyone', 'mobile'])
  })

  it('shows nothing, and says so, when no action is eligible', () => {
    const actions = [
      action('a', { when: { device: 'mobile' } }),
      action('b', { end: NOW - 1 }),
      action('c', { placement: 'footer' }),
    ]
    const decision = decide(input({ actions, context: { device: 'desktop' } }))
    expect(decision).toMatchObject({ action: null, holdout: false, probability: 1 })
    expect(decision.reasons).toEqual([])
    expect(decision.trace).toMatchObject({
      choice: 'nothing-eligible',
      summary: 'no eligible action for banner (2 considered)',
    })
    expect(decision.considered).toEqual([
      { id: 'a', eligible: false, why: 'condition not met: device is mobile' },
      { id: 'b', eligible: false, why: `ended ${new Date(NOW - 1).toISOString()}` },
    ])
  })

  it('tells the shopper the marketer reason, and traces the clauses that held and the choice', () => {
    const when: Condition = { 'cart.total': { $gt: 80 }, segments: { $contains: 'at-risk' } }
    const shipping = action('shipping', { value: 20, when, reason: 'Because your cart is over €80' })
    const arms: Arms = { [armKey('shipping', 'at-risk')]: { successes: 11, failures: 87 } }
    const context: DecisionContext = { cart: { total: 92 }, segments: ['at-risk'] }
    const decision = decide(input({ actions: [shipping], arms, segmentKey: 'at-risk', context }))
    expect(decision.action?.id).toBe('shipping')
    expect(decision.reasons).toEqual(['Because your cart is over €80'])
    expect(decision.trace).toMatchObject({
      choice: 'only-eligible',
      held: ['cart total 92 > 80', 'segment at-risk'],
      summary: 'the only eligible action: 12% propensity × value 20',
    })
    expect(decision.propensity).toBeCloseTo(12 / 100)
    expect(decision.probability).toBe(1)
  })

  it('says whether it chose the best expected value or explored', () => {
    const actions = [action('a', { value: 10 }), action('b', { value: 10, lever: 2 })]
    // a: 50% × 10 = 5 expected; b: 20% × 10 × 2 = 4, but with far less evidence.
    const arms: Arms = {
      [armKey('a', 'all')]: { successes: 49, failures: 49 },
      [armKey('b', 'all')]: { successes: 0, failures: 3 },
    }
    const rng = seeded(3)
    const reasons = new Map<string, string>()
    for (let i = 0; i < 300 && reasons.size < 2; i++) {
      const decision = decide(input({ actions, arms, rng, draws: 10 }))
      reasons.set(decision.action!.id, decision.trace.summary)
    }
    expect(reasons.get('a')).toBe('chosen for the highest expected value: 50% propensity × value 10')
    expect(reasons.get('b')).toBe(
      'explored to learn: 20% propensity × value 10 × lever 2, against 50% × value 10 for A',
    )
  })

  it('converges to the better arm (Thompson sampling)', () => {
    const rng = seeded(42)
    const world = seeded(43)
    const truth: Record<string, number> = { a: 0.05, b: 0.1, c: 0.03 }
    const actions = Object.keys(truth).map((id) => action(id))
    let arms: Arms = {}
    const picks: string[] = []
    for (let round = 0; round < 3000; round++) {
      const { action: chosen } = decide(input({ actions, arms, rng, draws: 0 }))
      const accepted = world() < truth[chosen!.id]! ? 1 : 0
      // What the fold in worker/events/fold.ts does for a decision shown and answered (tested there).
      const key = armKey(chosen!.id, 'all')
      const arm = arms[key] ?? { successes: 0, failures: 0 }
      arms = { ...arms, [key]: { successes: arm.successes + accepted, failures: arm.failures + 1 - accepted } }
      picks.push(chosen!.id)
    }
    const late = picks.slice(-1000)
    expect(late.filter((id) => id === 'b').length / late.length).toBeGreaterThan(0.8)
    const early = picks.slice(0, 300)
    expect(new Set(early).size).toBe(3)
  })

  it('logs a probability close to how often the choice is made', () => {
    const actions = [action('a'), action('b'), action('c', { value: 25 })]
    const arms: Arms = {
      [armKey('a', 'all')]: { successes: 3, failures: 30 },
      [armKey('b', 'all')]: { successes: 5, failures: 40 },
      [armKey('c', 'all')]: { successes: 1, failures: 20 },
    }
    const rng = seeded(11)
    const runs = 4000
    const stats = new Map<string, { count: number; probability: number }>()
    for (let i = 0; i < runs; i++) {
      const d = decide(input({ actions, arms, rng }))
      const s = stats.get(d.action!.id) ?? { count: 0, probability: 0 }
      stats.set(d.action!.id, { count: s.count + 1, probability: s.probability + d.probability })
    }
    expect(stats.size).toBe(3)
    // Frequencies over 4,000 runs have a standard deviation under 0.8 points; the logged estimate
    // (200 draws each, averaged) leans up by at most 1 / 201 for counting the realised draw.
    for (const { count, probability } of stats.values()) {
      expect(Math.abs(probability / count - count / runs)).toBeLessThan(0.025)
    }
  })
})

describe('sampleBeta()', () => {
  it('has the moments of Beta(a, b), through two Gamma draws', () => {
    const rng = seeded(5)
    const n = 20_000
    const draws = Array.from({ length: n }, () => sampleBeta(3, 7, rng))
    const mean = draws.reduce((s, x) => s + x, 0) / n
    const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / n
    expect(draws.every((x) => x > 0 && x < 1)).toBe(true)
    // Beta(3, 7): mean 0.3 (its standard error here is 0.001), variance 21 / 1100.
    expect(mean).toBeCloseTo(0.3, 2)
    expect(variance).toBeCloseTo(21 / 1100, 3)
    const small = Array.from({ length: n }, () => sampleGamma(0.5, rng))
    expect(small.reduce((s, x) => s + x, 0) / n).toBeCloseTo(0.5, 1)
  })
})

describe('betaCdf()', () => {
  /** P(Binomial(n, x) ≥ k), which equals I_x(k, n - k + 1), summed in log space. */
  const tail = (k: number, n: number, x: number) => {
    let logChoose = 0
    let sum = 0
    for (let i = 0; i <= n; i++) {
      if (i > 0) logChoose += Math.log((n - i + 1) / i)
      if (i >= k) sum += Math.exp(logChoose + i * Math.log(x) + (n - i) * Math.log1p(-x))
    }
    return sum
  }
  it.each([
    [3, 7, 0.3],
    [1, 1, 0.42],
    [5, 1, 0.8],
    [1, 9, 0.05],
    [20, 20, 0.5],
    [12, 400, 0.01],
    [12, 400, 0.05],
    [301, 2701, 0.1],
    [301, 2701, 0.12],
  ])('I_x(%i, %i) at %f matches the binomial tail', (a, b, x) => {
    expect(betaCdf(x, a, b)).toBeCloseTo(tail(a, a + b - 1, x), 9)
  })

  it('is 0 below the support and 1 above it', () => {
    expect([betaCdf(0, 2, 3), betaCdf(-1, 2, 3), betaCdf(1, 2, 3), betaCdf(2, 2, 3)]).toEqual([0, 0, 1, 1])
  })
})

describe('ipsEstimate()', () => {
  it('recovers the value of a policy it never ran, from logs of another', () => {
    const rng = seeded(9)
    const ids = ['a', 'b', 'c']
    // Acceptance rate by context and action; the logging policy favours a.
    const truth = [
      [0.1, 0.3, 0.5],
      [0.4, 0.2, 0.1],
      [0.2, 0.6, 0.3],
    ]
    const logging = [0.6, 0.3, 0.1]
    const target = (x: number) => ids[(x + 2) % 3]!
    const logs: Array<DecisionLog<number>> = Array.from({ length: 20_000 }, () => {
      const x = Math.floor(rng() * 3)
      const u = rng()
      const a = u < logging[0]! ? 0 : u < logging[0]! + logging[1]! ? 1 : 2
      const r = rng() < truth[x]![a]! ? 1 : 0
      return { context: x, actionId: ids[a]!, probability: logging[a]!, reward: r }
    })
    // Target: c, a, b in contexts 0, 1, 2, worth (0.5 + 0.4 + 0.6) / 3 = 0.5.
    const estimate = ipsEstimate(logs, target)
    expect(estimate.n).toBe(20_000)
    // The estimators are unbiased (IPS) or consistent (SNIPS): a seeded run within 4 standard
    // errors (about 0.04 here) would fail by chance less than once in 10,000 seeds.
    expect(estimate.stderr).toBeGreaterThan(0.005)
    expect(estimate.stderr).toBeLessThan(0.015)
    expect(Math.abs(estimate.value - 0.5)).toBeLessThan(4 * estimate.stderr)
    expect(Math.abs(estimate.snips - 0.5)).toBeLessThan(4 * estimate.stderr)
    // Matched logs: one third each of 0.1, 0.6 and 0.3 of 20,000, so about 6,667.
    expect(estimate.matched).toBeGreaterThan(6_300)
    expect(estimate.matched).toBeLessThan(7_000)
    expect(estimate.effectiveSampleSize).toBeLessThan(estimate.matched)
    expect(estimate.effectiveSampleSize).toBeGreaterThan(2_000)
  })

  it('counts equal weights fully, matches null to null and rejects impossible probabilities', () => {
    const logs: Array<DecisionLog<string>> = [
      { context: 'x', actionId: null, probability: 0.5, reward: 1 },
      { context: 'y', actionId: null, probability: 0.5, reward: 0 },
      { context: 'z', actionId: 'a', probability: 0.5, reward: 1 },
    ]
    expect(ipsEstimate(logs, () => null)).toMatchObject({
      value: 2 / 3,
      snips: 0.5,
      n: 3,
      matched: 2,
      effectiveSampleSize: 2,
    })
    expect(() => ipsEstimate([{ ...logs[0]!, probability: 0 }], () => null)).toThrow(RangeError)
  })
})

describe('actionSchema', () => {
  const saved = { id: 'shipping', title: 'Free shipping', text: 'On us', placement: 'banner', value: 20 }

  it('defaults the lever to 1 and the condition to always', () => {
    expect(actionSchema.parse(saved)).toMatchObject({ lever: 1, when: {} })
  })

  it('rejects a bad condition with its path, and an end before the start', () => {
    const bad = actionSchema.safeParse({ ...saved, when: { 'cart.total': { $gt: '80' } } })
    expect(bad.success).toBe(false)
    expect(bad.error!.issues[0]).toMatchObject({ path: ['when', 'cart.total', '$gt'] })
    const backwards = actionSchema.safeParse({ ...saved, start: 2, end: 1 })
    expect(backwards.error!.issues[0]).toMatchObject({ path: ['end'] })
  })
})
