// `npm run bench:decide -- [--rounds N] [--seed S]`: the next-best-action engine on simulated
// shoppers whose acceptance rates per segment and action are hidden from it. Thompson sampling
// (decide + learn) against random and fixed-priority choices on the same shoppers and the same
// acceptance draws, with the regret of each against an oracle that knows the rates, and the IPS
// estimate of the fixed-priority policy's value from the Thompson policy's logs.
import type { Condition, DecisionContext } from '../../worker/conditions'
import {
  armKey,
  decide,
  eligible,
  ipsEstimate,
  learn,
  reward,
  type Action,
  type Arms,
  type ContactPolicy,
  type DecisionLog,
} from '../../worker/decide'
import { formatTable, machine, parseFlags, random } from './load'

const SEGMENTS = ['new', 'active', 'at-risk', 'big-spender'] as const
type Segment = (typeof SEGMENTS)[number]
const SEGMENT_SHARES = [0.3, 0.35, 0.2, 0.15]

const PAGES = ['home', 'category', 'product', 'cart']
const NOW = Date.UTC(2026, 0, 15)
const POLICY: ContactPolicy = {
  maxPerDay: 3,
  maxPerActionPerDay: 2,
  dismissalsToSuppress: 2,
  suppressDays: 30,
}

const offer = (id: string, title: string, value: number, when: Condition): Action => ({
  id,
  title,
  text: title,
  placement: 'banner',
  value,
  lever: 1,
  when,
})

const ACTIONS: Action[] = [
  offer('welcome', '10% off your first order', 8, { 'profile.orders': 0 }),
  offer('shipping', 'Free shipping over 50', 6, { 'cart.total': { $gte: 50 } }),
  offer('winback', 'We miss you: 15% off', 12, { segments: { $contains: 'at-risk' } }),
  offer('vip', 'Early access to the new season', 25, { segments: { $contains: 'big-spender' } }),
  offer('bundle', 'Complete the look', 10, { 'page.type': { $in: ['product', 'cart'] } }),
  offer('newsletter', 'Join the newsletter', 3, {}),
]

// The hidden truth: acceptance rate by action and segment. The largest value × lever is often not
// the best bet (VIPs rarely take early access, at-risk shoppers prefer free shipping to 15% off).
const ACCEPTANCE: Record<string, Record<Segment, number>> = {
  welcome: { new: 0.12, active: 0.05, 'at-risk': 0.05, 'big-spender': 0.01 },
  shipping: { new: 0.1, active: 0.14, 'at-risk': 0.2, 'big-spender': 0.03 },
  winback: { new: 0.02, active: 0.03, 'at-risk': 0.06, 'big-spender': 0.01 },
  vip: { new: 0.01, active: 0.02, 'at-risk': 0.01, 'big-spender': 0.02 },
  bundle: { new: 0.03, active: 0.08, 'at-risk': 0.02, 'big-spender': 0.08 },
  newsletter: { new: 0.25, active: 0.05, 'at-risk': 0.04, 'big-spender': 0.01 },
}

interface Shopper {
  segment: Segment
  context: DecisionContext
}

const CART_RANGE: Record<Segment, [number, number]> = {
  new: [0, 80],
  active: [0, 150],
  'at-risk': [0, 120],
  'big-spender': [40, 300],
}

function shopper(rand: () => number): Shopper {
  let u = rand()
  const index = SEGMENT_SHARES.findIndex((share) => (u -= share) < 0)
  const segment = SEGMENTS[index < 0 ? SEGMENTS.length - 1 : index]!
  const [low, high] = CART_RANGE[segment]
  const page = PAGES[Math.floor(rand() * PAGES.length)]!
  const total = page === 'home' && rand() < 0.5 ? 0 : Math.round(low + rand() * (high - low))
  const most = segment === 'new' ? 0 : segment === 'big-spender' ? 9 : 4
  const orders = most === 0 ? 0 : 1 + Math.floor(rand() * most)
  return {
    segment,
    context: {
      segments: [segment],
      lifecycle: segment,
      cart: { total, count: total > 0 ? 1 + Math.floor(total / 40) : 0 },
      page: { type: page },
      device: rand() < 0.6 ? 'mobile' : 'desktop',
      time: { hour: Math.floor(rand() * 24), weekday: Math.floor(rand() * 7) },
      profile: { orders },
    },
  }
}

/** Expected value of showing an action to a shopper: acceptance rate × value. */
const worth = (action: Action, segment: Segment) => ACCEPTANCE[action.id]![segment] * action.value

interface Tally {
  shown: number
  accepted: number
  value: number
  regret: number
  expected: number
  /** Cumulative regret at each checkpoint. */
  checkpoints: number[]
}

const tally = (): Tally => ({
  shown: 0,
  accepted: 0,
  value: 0,
  regret: 0,
  expected: 0,
  checkpoints: [],
})

function main() {
  const { rounds, seed } = parseFlags(process.argv.slice(2), { rounds: 20_000, seed: 1 })
  const world = random(seed)
  const thompsonRng = random(seed + 1)
  const randomRng = random(seed + 2)
  const checkpoints = [0.1, 0.5, 1].map((f) => Math.max(1, Math.round(f * rounds)))
  const names = ['thompson', 'random', 'fixed priority'] as const
  const tallies = { thompson: tally(), random: tally(), 'fixed priority': tally() }
  let oracleValue = 0
  let arms: Arms = {}
  const logs: Array<DecisionLog<Shopper>> = []
  const candidates = (context: DecisionContext) =>
    eligible(ACTIONS, context, [], POLICY, NOW)
      .filter((e) => e.eligible)
      .map((e) => e.action)
  const fixedPriority = (context: DecisionContext) =>
    candidates(context).reduce<Action | null>(
      (best, a) => (best === null || a.lever * a.value > best.lever * best.value ? a : best),
      null,
    )
  const started = performance.now()
  for (let round = 1; round <= rounds; round++) {
    const s = shopper(world)
    // One acceptance draw per action and round: policies that show the same action to the same
    // shopper get the same answer.
    const draws = new Map(ACTIONS.map((a) => [a.id, world()]))
    const options = candidates(s.context)
    const oracle = Math.max(0, ...options.map((a) => worth(a, s.segment)))
    oracleValue += oracle
    const decision = decide({
      actions: ACTIONS,
      context: s.context,
      contacts: [],
      policy: POLICY,
      arms,
      segmentKey: s.segment,
      holdoutShare: 0,
      unitId: `shopper-${round}`,
      placement: 'banner',
      now: NOW,
      rng: thompsonRng,
    })
    const choices = {
      thompson: decision.action,
      random: options[Math.floor(randomRng() * options.length)] ?? null,
      'fixed priority': fixedPriority(s.context),
    }
    for (const name of names) {
      const action = choices[name]
      const t = tallies[name]
      const accepted = action !== null && draws.get(action.id)! < ACCEPTANCE[action.id]![s.segment]
      const expected = action === null ? 0 : worth(action, s.segment)
      if (action) t.shown++
      if (accepted) {
        t.accepted++
        t.value += action.value
      }
      t.expected += expected
      t.regret += oracle - expected
      for (const c of checkpoints) if (c === round) t.checkpoints.push(t.regret)
      if (name === 'thompson') {
        const outcome = reward(accepted ? 'accepted' : 'ignored')
        if (action) arms = learn(arms, armKey(action.id, s.segment), outcome)
        logs.push({
          context: s,
          actionId: action?.id ?? null,
          probability: decision.probability,
          reward: accepted ? action.value : 0,
        })
      }
    }
  }
  const seconds = (performance.now() - started) / 1000

  const fixed = tallies['fixed priority']
  const estimate = ipsEstimate(logs, (s) => fixedPriority(s.context)?.id ?? null)
  const n = (x: number, digits = 3) => x.toFixed(digits)
  console.log(
    `bench:decide: ${rounds} rounds, seed ${seed}, ${ACTIONS.length} actions, ` +
      `${SEGMENTS.length} segments; ${n(seconds, 1)} s`,
  )
  console.log(machine())
  console.log()
  const at = checkpoints.map((c) => `regret@${Math.round((100 * c) / rounds)}%`)
  console.log(
    formatTable(
      ['policy', 'shown', 'accepted', 'CTR', 'value/round', 'expected/round', ...at],
      [
        ...names.map((name) => {
          const t = tallies[name]
          return [
            name,
            String(t.shown),
            String(t.accepted),
            `${n((100 * t.accepted) / Math.max(1, t.shown), 2)}%`,
            n(t.value / rounds),
            n(t.expected / rounds),
            ...t.checkpoints.map((r) => n(r, 1)),
          ]
        }),
        ['oracle', '', '', '', '', n(oracleValue / rounds), ...checkpoints.map(() => '0.0')],
      ],
    ),
  )
  const [first = 0, middle = 0, last = 0] = tallies.thompson.checkpoints
  const [c1 = 1, c2 = 1, c3 = 1] = checkpoints
  console.log()
  console.log(
    `thompson regret per round: ${n(first / c1)} in the first 10%, ` +
      `${n((middle - first) / Math.max(1, c2 - c1))} from 10% to 50%, ` +
      `${n((last - middle) / Math.max(1, c3 - c2))} in the last 50%`,
  )
  console.log()
  console.log('off-policy: the fixed-priority policy, valued from the thompson policy logs')
  console.log(
    formatTable(
      ['estimate', 'value/round', '± stderr', 'matched logs', 'effective n'],
      [
        [
          'IPS',
          n(estimate.value),
          n(estimate.stderr),
          String(estimate.matched),
          n(estimate.effectiveSampleSize, 0),
        ],
        ['SNIPS', n(estimate.snips), '', '', ''],
        ['simulated (realised)', n(fixed.value / rounds), '', '', ''],
        ['simulated (expected)', n(fixed.expected / rounds), '', '', ''],
      ],
    ),
  )
  console.log(
    'IPS is unbiased, but once thompson has learnt it seldom makes the fixed policy’s choices, ' +
      'so a few heavily weighted logs carry the estimate (see effective n).',
  )
}

main()
