// "Why this?" is the shopper's: every public reason, of a decision or a recommendation, is checked
// against what only the marketer may read (other actions' titles, values, levers, odds, scores,
// rules, segment names, campaign names), for every template the code can produce.
import { describe, expect, it } from 'vitest'
import { problems } from '../../worker/decide/condition-schema'
import { OPERATORS, resolve, type Condition } from '../../worker/decide/conditions'
import { evaluate } from '../../worker/decide/explain'
import type { DecisionContext } from '../../contract'
import { actionSchema, armKey, decide, type Action, type Arms, type Decision } from '../../worker/decide/engine'
import { STRATEGIES, type Strategy } from '../../contract'
import type { CatalogItem, HistoryItem, ModelData } from '../../worker/recommend/model'
import type { Rules } from '../../worker/recommend/rules'
import { recommend } from '../../worker/recommend/rank'
import { mulberry32 } from '../fixtures/random'

const NOW = Date.UTC(2026, 0, 15, 12)
const FALLBACK = 'Picked for your visit'

// A shopper whose every field is set, with the marketer's private names in segments, scores and utm.
const CONTEXT: DecisionContext = {
  segments: [
    'likes:tea',
    'prospect',
    'new',
    'active',
    'reactivated',
    'at-risk',
    'lapsed',
    'rfm:hibernating',
    'tier-d',
    'value:low-priority',
    'churn-warning',
  ],
  lifecycle: 'at-risk',
  scores: { churnRisk: 0.83, rfm: 'hibernating', tier: 'D', pAlive: 0.27, value: 'low-priority', r: 2 },
  cart: { total: 92, count: 3, items: ['sku-1'] },
  history: { viewed: ['tea-01', 'sku-2'], added: ['sku-1'], bought: ['sku-2'], rated: ['tea-01'] },
  page: { type: 'product', path: '/p/tea-01', item: 'tea-01', category: 'tea' },
  device: 'mobile',
  time: { hour: 20, weekday: 6 },
  referrer: 'https://news.example/spring',
  utm: {
    source: 'crm-export',
    medium: 'email',
    campaign: 'winback-lowvalue-q3',
    term: 'cheap-tea',
    content: 'variant-b',
  },
  profile: { orders: 4, revenue: 912.5, vipTier: 'gold' },
}
const SECRETS = [
  'Secret rival promo',
  'Paused ghost deal',
  'rfm:',
  'hibernating',
  'tier-',
  'low-priority',
  'churn',
  'at-risk',
  'lapsed',
  'prospect',
  'crm-export',
  'winback',
  'cheap-tea',
  'variant-b',
  'gold',
  'pAlive',
]
const PRIVATE =
  /[%×]|propensit|probab|\blever|\bvalue|\bscore|explor|exploit|eligib|holdout|uplift|segment|\brfm\b|\btier|\bchurn|\brisk|\bcampaign|\butm\b|\brules?\b|boost|\bpin(ned)?\b|\bweight|\bcosine/i

/** Asserts texts a shopper reads carry nothing of the marketer's; numbers only from `allowed`. */
function expectPublic(texts: string[], allowed: number[] = [], name = '') {
  for (const text of texts) {
    expect(text, name).not.toMatch(PRIVATE)
    for (const secret of SECRETS) expect(text.toLowerCase(), name).not.toContain(secret.toLowerCase())
    for (const n of text.match(/\d+(\.\d+)?/g) ?? []) expect(allowed, `${name}: ${n} in "${text}"`).toContain(Number(n))
  }
}

// Every field the condition language knows, named by its own error message (so a new field is covered too).
const KNOWN = problems({ 'no-such-field': 1 })[0]!
  .message.replace(/^.*use one of /, '')
  .split(', ')
const FIELDS = KNOWN.flatMap((f) =>
  f === 'scores.<name>'
    ? ['scores.churnRisk', 'scores.rfm', 'scores.tier', 'scores.pAlive', 'scores.value']
    : f === 'profile.<name>'
      ? ['profile.orders', 'profile.revenue', 'profile.vipTier']
      : [f],
)

/** Operands with which `op` holds for `actual` (a list field: one per element). */
function operands(op: (typeof OPERATORS)[number], actual: unknown): unknown[] {
  const values = Array.isArray(actual) ? actual : [actual]
  const other = (v: unknown) => (typeof v === 'number' ? v + 1000 : 'zz-other')
  return values.flatMap((v): unknown[] => {
    switch (op) {
      case '$eq':
      case '$gte':
      case '$lte':
        return [v]
      case '$ne':
        return [other(v)]
      case '$gt':
        return [typeof v === 'number' ? v - 1 : '0']
      case '$lt':
        return [typeof v === 'number' ? v + 1 : '~']
      case '$in':
        return [[v, other(v)]]
      case '$nin':
        return [[other(v)]]
      case '$exists':
        return [true]
      case '$contains':
        return [Array.isArray(actual) ? v : typeof v === 'string' ? v.slice(0, 3) : v]
    }
  })
}

interface Clause {
  name: string
  when: Condition
  context: DecisionContext
  /** Numbers the shopper may read: their own cart, and the cart's threshold. */
  allowed: number[]
}

const numbers = (v: unknown) => (JSON.stringify(v ?? null).match(/-?\d+(\.\d+)?/g) ?? []).map(Number)
const clauses: Clause[] = FIELDS.flatMap((path) =>
  OPERATORS.flatMap((op) => {
    const lifecycles =
      path === 'lifecycle' ? ['new', 'active', 'at-risk', 'lapsed', 'reactivated'] : [CONTEXT.lifecycle]
    return lifecycles.flatMap((lifecycle) => {
      const context: DecisionContext = { ...CONTEXT, lifecycle }
      const held: Array<{ when: Condition; context: DecisionContext }> = operands(op, resolve(context, path)).map(
        (operand) => ({ when: { [path]: { [op]: operand } } as Condition, context }),
      )
      // $exists: false, $ne and $nin also hold on a missing field.
      if (op === '$exists') held.push({ when: { [path]: { $exists: false } }, context: {} })
      if (op === '$ne' || op === '$nin')
        held.push({ when: { [path]: { [op]: op === '$ne' ? 'x' : ['x'] } } as Condition, context: {} })
      return held
        .filter(({ when, context }) => problems(when).length === 0 && evaluate(when, context))
        .map(({ when, context }) => ({
          name: `${JSON.stringify(when)}${context === CONTEXT || 'lifecycle' in context ? '' : ' (missing)'}`,
          when,
          context,
          allowed: path.startsWith('cart.') ? [...numbers(when), ...numbers(context.cart)] : [],
        }))
    })
  }),
)
const combined: Clause[] = [
  { name: 'always', when: {}, context: CONTEXT, allowed: [] },
  { name: '$not', when: { $not: { device: 'desktop' } }, context: CONTEXT, allowed: [] },
  { name: '$not of a segment', when: { $not: { segments: 'vip' } }, context: CONTEXT, allowed: [] },
  {
    name: '$or',
    when: { $or: [{ device: 'desktop' }, { 'cart.total': { $gt: 50 } }] },
    context: CONTEXT,
    allowed: [50, 92],
  },
  {
    name: '$and',
    when: { $and: [{ lifecycle: 'at-risk' }, { 'scores.churnRisk': { $gt: 0.5 } }] },
    context: CONTEXT,
    allowed: [],
  },
]

const pick = (when: Condition, more: Partial<Action> = {}) =>
  actionSchema.parse({
    id: 'pick',
    title: 'Summer markdown',
    text: 'Save on tea',
    placement: 'banner',
    value: 7.25,
    lever: 3.5,
    when,
    ...more,
  })
const RIVAL = actionSchema.parse({
  id: 'rival',
  title: 'Secret rival promo',
  text: 'Rival text',
  placement: 'banner',
  value: 11.75,
  lever: 2.5,
})
const GHOST = actionSchema.parse({
  id: 'ghost',
  title: 'Paused ghost deal',
  text: 'Ghost text',
  placement: 'banner',
  value: 13,
  lever: 0,
})

const run = (
  actions: Action[],
  context: DecisionContext,
  more: { arms?: Arms; holdoutShare?: number; seed?: number } = {},
) =>
  decide({
    actions,
    context,
    contacts: [],
    policy: { maxPerDay: 3, maxPerActionPerDay: 2, dismissalsToSuppress: 2, suppressDays: 7 },
    arms: more.arms ?? {},
    segmentKey: 'all',
    holdoutShare: more.holdoutShare ?? 0,
    unitId: 'shopper-1',
    placement: 'banner',
    now: NOW,
    rng: mulberry32(more.seed ?? 1),
    draws: 10,
  })

/** The public reasons of a decision with an action: templates or the fallback, never empty. */
function expectShopperReasons(decision: Decision, allowed: number[], name = '') {
  expectPublic(decision.reasons, allowed, name)
  if (!decision.action) return expect(decision.reasons, name).toEqual([])
  expect(decision.reasons.length, name).toBeGreaterThan(0)
  for (const r of decision.reasons) expect(r === FALLBACK || /^Because /.test(r), `${name}: ${r}`).toBe(true)
}

describe('decision reasons', () => {
  it('cover every field and operator of the condition language', () => {
    expect(FIELDS).toEqual(
      expect.arrayContaining([
        'segments',
        'lifecycle',
        'cart.total',
        'page.category',
        'utm.campaign',
        'time.weekday',
        'history.viewed',
        'history.rated',
      ]),
    )
    for (const path of FIELDS)
      expect(
        clauses.some((c) => Object.keys(c.when)[0] === path),
        path,
      ).toBe(true)
    for (const op of OPERATORS)
      expect(
        clauses.some((c) => JSON.stringify(c.when).includes(`"${op}"`)),
        op,
      ).toBe(true)
  })

  const groups = new Map<string, Clause[]>()
  for (const c of [...clauses, ...combined]) {
    const key = Object.keys(c.when)[0] ?? 'always'
    groups.set(key, [...(groups.get(key) ?? []), c])
  }
  it.each([...groups])(
    "on %s tell the shopper nothing of the marketer's, under every operator and choice",
    (_, group) => {
      for (const { name, when, context, allowed } of group) {
        const paths = new Set<string>()
        // The only eligible action, then against a rival: exploited and explored, by turns.
        const decisions = [run([pick(when), GHOST], context)]
        // The rival's expected score is the higher one; the pick, with no evidence, still wins some draws.
        const arms: Arms = { [armKey('rival', 'all')]: { successes: 5, failures: 5 } }
        for (let seed = 1; seed <= 12; seed++) decisions.push(run([pick(when), RIVAL, GHOST], context, { arms, seed }))
        for (const d of decisions) {
          expect(d.action?.id, name).toBeDefined()
          expectShopperReasons(d, allowed, name)
          paths.add(d.trace.choice)
        }
        expect([...paths], name).toEqual(expect.arrayContaining(['only-eligible', 'exploited', 'explored']))
      }
    },
  )

  it('say nothing when nothing is shown: nothing eligible, or the holdout', () => {
    const none = run([GHOST, pick({ device: 'desktop' })], CONTEXT)
    const held = run([pick({}), RIVAL], CONTEXT, { holdoutShare: 1 })
    expect([none.trace.choice, held.trace.choice]).toEqual(['nothing-eligible', 'holdout'])
    for (const d of [none, held]) {
      expect(d.action).toBeNull()
      expect(d.reasons).toEqual([])
    }
  })

  it("give the marketer's own reason, written for the shopper, instead of the templates", () => {
    const decision = run(
      [pick({ 'cart.total': { $gt: 50 } }, { reason: '  Because your cart is\nover €50  ' }), RIVAL],
      CONTEXT,
    )
    expect(decision.reasons).toEqual(['Because your cart is over €50'])
  })

  it("keep the marketer's account in the trace: clauses, odds, values, levers and every rival", () => {
    const arms: Arms = {
      [armKey('pick', 'all')]: { successes: 5, failures: 5 },
      [armKey('rival', 'all')]: { successes: 0, failures: 20 },
    }
    const decision = run([pick({ 'cart.total': { $gt: 50 } }), RIVAL, GHOST], CONTEXT, { arms })
    expect(decision.action?.id).toBe('pick')
    const { trace } = decision
    expect(trace.held).toEqual(['cart total 92 > 50'])
    expect(trace.summary).toMatch(/propensity × value/)
    expect(trace.probability).toBe(decision.probability)
    const byId = Object.fromEntries(trace.candidates.map((c) => [c.id, c]))
    expect(byId.ghost).toMatchObject({
      title: 'Paused ghost deal',
      eligible: false,
      outcome: 'ineligible',
      why: 'paused: value × lever is 0',
    })
    expect(byId.rival).toMatchObject({
      title: 'Secret rival promo',
      eligible: true,
      value: 11.75,
      lever: 2.5,
      propensity: 1 / 22,
      outcome: 'lost',
    })
    expect(byId.pick).toMatchObject({ value: 7.25, lever: 3.5, propensity: 0.5, outcome: 'chosen' })
    expect(byId.rival!.expected).toBeCloseTo((1 / 22) * 11.75 * 2.5)
    const winner = trace.candidates.find((c) => c.outcome === 'chosen')!
    expect(winner.id).toBe(decision.action!.id)
    for (const c of trace.candidates.filter((c) => c.outcome === 'lost'))
      expect(c.score!).toBeLessThanOrEqual(winner.score!)
  })
})

// ---- Recommendations ------------------------------------------------------------------------

const ITEMS: Array<[string, string, string]> = [
  ['sencha', 'Sencha', 'tea'],
  ['assam', 'Assam', 'tea'],
  ['oolong', 'Oolong', 'tea'],
  ['kettle', 'Kettle', 'kitchen'],
  ['teapot', 'Teapot', 'kitchen'],
  ['cup', 'Cup', 'kitchen'],
  ['gloves', 'Gloves', 'garden'],
  ['seeds', 'Seeds', 'garden'],
  ['book', 'Tea book', 'books'],
]
const catalog = new Map<string, CatalogItem>(
  ITEMS.map(([id, title, category]) => [id, { id, title, category, price: 9.5, image: null, inStock: true }]),
)
const TITLES = new Set([...ITEMS.map(([, title]) => title), ...ITEMS.map(([, , category]) => category), 'the shop'])
const history: HistoryItem[] = [
  { item: 'sencha', lastTs: NOW - 5 * 60_000, views: 2, adds: 0, purchases: 0, rating: null, dismissed: false },
  { item: 'kettle', lastTs: NOW - 3 * 3_600_000, views: 1, adds: 1, purchases: 0, rating: null, dismissed: false },
  { item: 'teapot', lastTs: NOW - 2 * 86_400_000, views: 1, adds: 1, purchases: 1, rating: null, dismissed: false },
  { item: 'assam', lastTs: NOW - 4 * 86_400_000, views: 1, adds: 0, purchases: 0, rating: 4, dismissed: false },
]
const pairs = (list: Array<[string, string[]]>) =>
  new Map(list.map(([a, bs]) => [a, bs.map((item, i) => ({ item, weight: 7 - i, support: 3 }))]))
const seen = pairs([
  ['sencha', ['oolong', 'cup', 'book']],
  ['kettle', ['cup', 'sencha']],
  ['teapot', ['cup', 'book']],
  ['assam', ['oolong', 'seeds']],
  ['cup', ['gloves']],
])
const bought = pairs([
  ['sencha', ['teapot', 'cup']],
  ['kettle', ['cup']],
])
const next = pairs([['sencha', ['assam', 'gloves']]])
const trendingItems = [
  { item: 'oolong', score: 0.9731, category: 'tea' },
  { item: 'gloves', score: 0.8123, category: 'garden' },
  { item: 'book', score: 0.4417, category: null },
  { item: 'seeds', score: 1e-12, category: 'garden', isNew: true },
  { item: 'cup', score: 1e-13, category: null, isNew: true },
]
const data = (more: Partial<ModelData> = {}): ModelData => ({
  now: NOW,
  history,
  seen,
  bought,
  next,
  support: new Map(ITEMS.map(([id]) => [id, 5])),
  trending: trendingItems,
  catalog,
  context: { cart: [] },
  ...more,
})
const RULES: Rules[] = [
  {},
  {
    pin: ['seeds'],
    boost: [
      { category: 'tea', factor: 7.5 },
      { items: ['cup'], factor: 0.25 },
    ],
    maxPerCategory: 2,
  },
]
const TEMPLATES: Record<string, RegExp> = {
  'also viewed': /^Shoppers who viewed (.+) also viewed this$/,
  'bought with': /^Often bought with (.+)$/,
  'with your cart': /^Goes with (.+) in your cart$/,
  'you viewed': /^Because you viewed (.+)$/,
  'you added': /^Because you added (.+) to your cart$/,
  'you bought': /^Because you bought (.+)$/,
  'you rated': /^Because you rated (.+) [1-5]\/5$/,
  'looked at next': /^Shoppers often look at this after (.+)$/,
  popular: /^Popular this week$/,
  'popular in': /^Popular in (.+) this week$/,
  'new in': /^New in (.+)$/,
  'recently viewed': /^You viewed this (just now|\d+ (minute|hour|day)s? ago)$/,
  'category you like': /^Popular in (.+), a category you like$/,
  featured: /^Featured by the shop$/,
}

describe('recommendation reasons', () => {
  const contexts: Array<ModelData['context']> = [
    { cart: [] },
    { cart: [], item: 'sencha' },
    { cart: [], item: 'kettle', category: 'kitchen' },
    { cart: [], item: 'nobody-saw-this' },
    { cart: ['sencha', 'kettle'] },
    { cart: [], category: 'garden' },
  ]
  const answers = STRATEGIES.flatMap((strategy: Strategy) =>
    [history, []].flatMap((h) =>
      contexts.flatMap((context) =>
        RULES.map((rules) => recommend(data({ history: h, context }), strategy, rules, new Set(), 8)),
      ),
    ),
  )
  const reasons = [...new Set(answers.flat().flatMap((s) => s.reasons))]

  it('are each one of the templates, naming only catalog titles and categories', () => {
    for (const reason of reasons) {
      const template = Object.values(TEMPLATES).find((t) => t.test(reason))
      expect(template, reason).toBeDefined()
      const named = reason.match(template!)?.[1]
      if (named && !/^\d/.test(named)) expect(TITLES.has(named), reason).toBe(true)
    }
  })

  it('cover every template', () => {
    for (const [name, template] of Object.entries(TEMPLATES))
      expect(
        reasons.some((r) => template.test(r)),
        name,
      ).toBe(true)
  })

  it('never show a score, a boost, a rule or another shopper', () => {
    // The shopper's own rating (1-5) and how long ago they looked are theirs to read.
    expectPublic(reasons, [1, 2, 3, 4, 5])
    for (const reason of reasons) for (const s of trendingItems) expect(reason).not.toContain(String(s.score))
  })
})
