import { describe, expect, it } from 'vitest'
import { conditionSchema } from '../../../worker/decide/condition-schema'
import { MAX_CLAUSES, type Condition } from '../../../worker/decide/conditions'
import { describe as describeCondition, evaluate, explain } from '../../../worker/decide/explain'
import type { DecisionContext } from '../../../contract'
import table from './conditions.cases.json'

interface Case {
  name: string
  condition: Condition
  context: DecisionContext
  expected: boolean
}
const cases = table as unknown as Case[]

const messages = (input: unknown) => {
  const result = conditionSchema.safeParse(input)
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
}

describe('evaluate()', () => {
  it('has a case table of at least 25 cases with both outcomes', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25)
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length)
    expect(cases.some((c) => c.expected) && cases.some((c) => !c.expected)).toBe(true)
  })

  it.each(cases)('$name', ({ condition, context, expected }) => {
    expect(messages(condition)).toEqual([])
    expect(evaluate(condition, context)).toBe(expected)
    // A condition that holds explains itself; one that does not has nothing to say.
    if (!expected) expect(explain(condition, context)).toEqual([])
  })

  it('fails closed on an operator that escaped validation', () => {
    const condition = { 'cart.total': { $between: [1, 2] } } as unknown as Condition
    expect(evaluate(condition, { cart: { total: 1 } })).toBe(false)
  })
})

describe('explain()', () => {
  const context: DecisionContext = {
    segments: ['active', 'at-risk'],
    cart: { total: 92, count: 3, items: ['sku-1'] },
    page: { type: 'cart' },
    device: 'mobile',
    time: { hour: 20, weekday: 6 },
    referrer: 'https://www.google.com/',
    profile: { orders: 4 },
  }
  const explains: Array<[string, Condition, string[]]> = [
    ['a comparison with the shopper value', { 'cart.total': { $gt: 80 } }, ['cart total 92 > 80']],
    ['a segment', { segments: { $contains: 'at-risk' } }, ['segment at-risk']],
    ['a bare value', { 'page.type': 'cart' }, ['page type is cart']],
    [
      'a list overlap with the elements that matched',
      { segments: { $in: ['at-risk', 'lapsed'] } },
      ['segment at-risk (one of at-risk, lapsed)'],
    ],
    ['weekdays by name', { 'time.weekday': { $in: [0, 6] } }, ['weekday Saturday (one of Sunday, Saturday)']],
    ['a range', { 'time.hour': { $gte: 18, $lt: 23 } }, ['hour 20 ≥ 18', 'hour 20 < 23']],
    ['a missing field', { 'utm.source': { $exists: false } }, ['no utm source']],
    ['a negated clause, turned around', { $not: { device: 'desktop' } }, ['device is not desktop']],
    ['a negated segment', { $not: { segments: { $contains: 'vip' } } }, ['not in segment vip']],
    [
      'only the branches of $or that held',
      { $or: [{ 'profile.orders': { $gte: 3 } }, { lifecycle: 'new' }] },
      ['orders 4 ≥ 3'],
    ],
    [
      'every clause of $and',
      { $and: [{ 'cart.total': { $gt: 80 } }, { segments: 'at-risk' }] },
      ['cart total 92 > 80', 'segment at-risk'],
    ],
    ['substrings', { referrer: { $contains: 'google' } }, ['referrer https://www.google.com/ contains "google"']],
    ['nothing for an empty condition', {}, []],
  ]
  it.each(explains)('%s', (_, condition, expected) => {
    expect(explain(condition, context)).toEqual(expected)
  })

  it('describes a condition without a shopper', () => {
    const condition: Condition = {
      lifecycle: 'at-risk',
      $or: [{ 'cart.total': { $gt: 80 } }, { $and: [{ device: 'mobile' }, { 'time.hour': { $lt: 9 } }] }],
    }
    expect(describeCondition(condition)).toBe(
      'lifecycle is at-risk and (cart total > 80 or (device is mobile and hour < 9))',
    )
    expect(describeCondition({})).toBe('always')
  })
})

describe('conditionSchema', () => {
  const nest = (depth: number): Condition => (depth === 1 ? { device: 'mobile' } : { $and: [nest(depth - 1)] })
  const bad: Array<[string, unknown, string, RegExp]> = [
    ['not an object', 'mobile', '', /^condition: must be an object/],
    ['an unknown operator', { 'cart.total': { $gtt: 80 } }, 'cart.total.$gtt', /^cart\.total: unknown operator \$gtt/],
    ['an unknown logical operator', { $xor: [] }, '$xor', /^\$xor: unknown operator \$xor/],
    ['an unknown field', { 'cart.totl': { $gt: 80 } }, 'cart.totl', /^cart\.totl: unknown field/],
    ['a nested object', { cart: { total: 80 } }, 'cart', /write the dotted path, e.g. "cart\.total"/],
    ['text for a number', { 'cart.total': { $gt: '80' } }, 'cart.total.$gt', /\$gt needs a number, got string "80"/],
    ['a number for text', { 'page.type': 3 }, 'page.type', /^page\.type: \$eq needs text/],
    ['$in without a list', { 'page.type': { $in: 'cart' } }, 'page.type.$in', /\$in needs a list of 1 to 100/],
    ['an empty $in', { segments: { $in: [] } }, 'segments.$in', /a list of 0/],
    ['a wrong $in element', { 'time.hour': { $in: [9, '10'] } }, 'time.hour.$in', /value 1 must be a number/],
    ['$exists with a string', { referrer: { $exists: 'yes' } }, 'referrer.$exists', /true or false/],
    ['$contains on a number', { 'cart.total': { $contains: 3 } }, 'cart.total.$contains', /list or text field/],
    ['$gt on a list', { segments: { $gt: 'a' } }, 'segments.$gt', /does not apply to the list/],
    ['a list as a value', { segments: ['a', 'b'] }, 'segments', /use \{"\$in": \[\.\.\.\]\}/],
    ['an empty operator object', { device: {} }, 'device', /has no operator/],
    ['an empty $or', { $or: [] }, '$or', /needs a list of 1 to 50 conditions/],
    ['$and that is not a list', { $and: { device: 'mobile' } }, '$and', /got an object/],
    ['a prototype path', { 'profile.__proto__': { $exists: true } }, 'profile.__proto__', /not a field path/],
    ['too deep', nest(6), '$and.0.$and.0.$and.0.$and.0.$and.0', /nests deeper than 5 levels/],
    [
      'a problem deep inside',
      { $or: [{ device: 'mobile' }, { $not: { 'scores.churnRisk': { $gte: true } } }] },
      '$or.1.$not.scores.churnRisk.$gte',
      /^\$or\.1\.\$not\.scores\.churnRisk: \$gte needs a number or text, got boolean true/,
    ],
  ]
  it.each(bad)('rejects %s, naming the path', (_, condition, path, message) => {
    const issues = messages(condition)
    expect(issues.length).toBeGreaterThan(0)
    expect(issues[0]!.path).toBe(path)
    expect(issues[0]!.message).toMatch(message)
  })

  it('accepts 5 levels of nesting', () => {
    expect(messages(nest(5))).toEqual([])
  })

  it('caps the number of clauses', () => {
    // Two clauses per branch: 25 branches are the most, 26 are too many.
    const branches = (n: number) => Array.from({ length: n }, (_, i) => ({ 'time.hour': { $ne: i % 24, $gte: 0 } }))
    expect(messages({ $and: branches(MAX_CLAUSES / 2) })).toEqual([])
    expect(messages({ $and: branches(MAX_CLAUSES / 2 + 1) })).toEqual([
      { path: '$and.25.time.hour', message: `$and.25.time.hour: too many clauses: at most ${MAX_CLAUSES}` },
    ])
  })

  it('reports every problem, not just the first', () => {
    const issues = messages({ $and: [{ 'cart.total': { $gt: '80' } }, { segmentz: 'x' }] })
    expect(issues.map((i) => i.path)).toEqual(['$and.0.cart.total.$gt', '$and.1.segmentz'])
  })

  it('parses a valid condition unchanged', () => {
    const condition = { 'cart.total': { $gt: 80 }, segments: { $contains: 'at-risk' } }
    expect(conditionSchema.parse(condition)).toEqual(condition)
  })
})
