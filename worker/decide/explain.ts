// A condition evaluated with the clauses that held, in words: the marketer's (a trace, a rule's
// description) or the shopper's (a reason they may read).
import type { DecisionContext } from '../../contract'
import { clausesOf, holds, kindOf, resolve, type Clause, type Condition, type Operator } from './conditions'

const LABELS: Record<string, string> = {
  'history.viewed': 'items viewed',
  'history.added': 'items added to cart',
  'history.bought': 'items bought',
  'history.rated': 'items rated',
  segments: 'segment',
  'cart.count': 'items in cart',
  'time.hour': 'hour',
  'time.weekday': 'weekday',
  'scores.rfm': 'RFM score',
}
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

const labelOf = (path: string) =>
  LABELS[path] ??
  path
    .replace(/^(profile|scores)\./, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replaceAll('.', ' ')
    .toLowerCase()

function show(path: string, v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => show(path, x)).join(', ')
  if (path === 'time.weekday' && typeof v === 'number') return WEEKDAYS[v] ?? String(v)
  return String(v)
}

const SYMBOLS = { $gt: '>', $gte: '≥', $lt: '<', $lte: '≤' }

/** One clause in plain words, with the shopper's value when known ("cart total 92 > 80"). */
function sentence({ path, op, operand }: Clause, actual?: unknown): string {
  const label = labelOf(path)
  const value = show(path, operand)
  const list = kindOf(path) === 'list' || Array.isArray(actual)
  const mine = actual === undefined ? '' : ` ${show(path, actual)}`
  switch (op) {
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return `${label}${mine} ${SYMBOLS[op]} ${value}`
    case '$eq':
    case '$contains':
      if (path === 'segments') return `segment ${value}`
      if (list) return `${label} include ${value}`
      return op === '$eq' ? `${label} is ${value}` : `${label}${mine} contains "${value}"`
    case '$ne':
      return path === 'segments' ? `not in segment ${value}` : `${label} is not ${value}`
    case '$in': {
      if (actual === undefined) return `${label} is one of ${value}`
      const hit = Array.isArray(actual) && Array.isArray(operand) ? actual.filter((a) => operand.includes(a)) : actual
      return `${label} ${show(path, hit)} (one of ${value})`
    }
    case '$nin':
      return path === 'segments' ? `in none of segments ${value}` : `${label} not one of ${value}`
    case '$exists':
      return operand ? `${label} known` : `no ${label}`
  }
}

const OPPOSITES: Partial<Record<Operator, Operator>> = {
  $eq: '$ne',
  $ne: '$eq',
  $gt: '$lte',
  $gte: '$lt',
  $lt: '$gte',
  $lte: '$gt',
  $in: '$nin',
  $nin: '$in',
  $exists: '$exists',
}

/** "not …" in plain words; a single clause is turned around ("device is not desktop"). */
function negation(condition: Condition): string {
  const [entry, ...more] = Object.entries(condition)
  const clauses = entry && !entry[0].startsWith('$') ? clausesOf(entry[0], entry[1]) : []
  const [clause] = clauses
  if (more.length > 0 || clauses.length !== 1 || !clause) return `not (${describe(condition)})`
  const list = kindOf(clause.path) === 'list'
  const op = clause.op === '$contains' && list ? '$ne' : OPPOSITES[clause.op]
  if (!op) return `not (${describe(condition)})`
  return sentence({ ...clause, op, operand: op === '$exists' ? !clause.operand : clause.operand })
}

/** A condition in plain words, without any shopper's values ("cart total > 80 and segment vip"). */
export function describe(condition: Condition): string {
  const keys = Object.keys(condition)
  const nested = (c: Condition) =>
    Object.keys(c).length > 1 || /^\$(and|or)$/.test(Object.keys(c)[0] ?? '') ? `(${describe(c)})` : describe(c)
  const parts = Object.entries(condition).map(([key, value]): string => {
    if (key === '$and') return (value as Condition[]).map(nested).join(' and ')
    if (key === '$or') {
      const text = (value as Condition[]).map(nested).join(' or ')
      return keys.length > 1 ? `(${text})` : text
    }
    if (key === '$not') return negation(value as Condition)
    return clausesOf(key, value)
      .map((c) => sentence(c))
      .join(' and ')
  })
  return parts.length > 0 ? parts.join(' and ') : 'always'
}

// What a shopper may read of a clause that held: second person, about them and their visit, from a
// closed set of templates. Segment ids, scores, profile traits and campaign names are the
// marketer's words (some unkind: "at-risk", "tier-d"), so they are never shown; a negative clause
// ($ne, $nin, $exists: false, $not) says what the shopper is not, which explains nothing to them.
const STAGES: Record<string, string> = {
  new: "Because you're new here",
  active: "Because you're a regular here",
  reactivated: "Because you're back after a while",
  'at-risk': "Because it's been a while since your last visit",
  lapsed: "Because it's been a while since your last visit",
  prospect: "Because you haven't ordered yet",
}
const PAGES: Record<string, string> = {
  home: "Because you're on our home page",
  product: "Because of the product you're looking at",
  category: "Because of the category you're browsing",
  cart: "Because you're looking at your cart",
  checkout: "Because you're checking out",
  search: 'Because of what you searched for',
}
const DEVICES: Record<string, string> = {
  mobile: "Because you're on your phone",
  tablet: "Because you're on a tablet",
  desktop: "Because you're on a computer",
}
const LINK = 'Because of the link that brought you here'
const MEDIA: Record<string, string> = {
  email: 'Because you came from our newsletter',
  newsletter: 'Because you came from our newsletter',
  social: 'Because you came from social media',
  cpc: 'Because you came from one of our ads',
  paid: 'Because you came from one of our ads',
  affiliate: 'Because you came from a partner site',
}
const CART = "Because of what's in your cart"
const HISTORY: Record<string, string> = {
  'history.viewed': "Because of what you've looked at",
  'history.added': "Because of what you've added to your cart",
  'history.bought': "Because of what you've bought",
  'history.rated': "Because of what you've rated",
}

// Own keys only: a page type such as "constructor" must not find Object's prototype.
const lookup = (table: Record<string, string>, key: unknown) =>
  typeof key === 'string' && Object.hasOwn(table, key) ? table[key]! : null

const segmentWords = (id: unknown) =>
  lookup(STAGES, id) ??
  (typeof id === 'string' && id.startsWith('likes:') ? `Because you often look at ${id.slice(6)}` : null)

const partOfDay = (hour: number) =>
  hour >= 5 && hour < 12
    ? 'morning'
    : hour >= 12 && hour < 18
      ? 'afternoon'
      : hour >= 18 && hour < 23
        ? 'evening'
        : 'night'

function cartTotal(op: Operator, operand: unknown, total: number): string {
  if (total === 0) return 'Because your cart is empty'
  if (typeof operand !== 'number' || operand <= 0) return CART
  if (op === '$gt') return `Because your cart is over ${operand}`
  if (op === '$gte') return `Because your cart is ${operand} or more`
  if (op === '$lt') return `Because your cart is under ${operand}`
  if (op === '$lte') return `Because your cart is ${operand} or less`
  return CART
}

/** One clause that held, as the shopper may read it, or null when it has nothing to tell them. */
function forShopper({ path, op, operand }: Clause, actual: unknown): string | null {
  if (op === '$ne' || op === '$nin' || (op === '$exists' && !operand)) return null
  const text = typeof actual === 'string' && actual !== '' ? actual : undefined
  const count = typeof actual === 'number' ? actual : undefined
  switch (path) {
    case 'lifecycle':
      return lookup(STAGES, actual)
    case 'segments': {
      if (op === '$exists' || !Array.isArray(actual)) return null
      const hits = op === '$in' && Array.isArray(operand) ? actual.filter((s) => operand.includes(s)) : [operand]
      return hits.map(segmentWords).find(Boolean) ?? null
    }
    case 'profile.orders':
      return count === undefined ? null : count > 0 ? "Because you've ordered from us before" : STAGES.prospect!
    case 'cart.total':
      return count === undefined ? null : cartTotal(op, operand, count)
    case 'cart.count':
      if (count === undefined) return null
      return count === 0
        ? 'Because your cart is empty'
        : `Because you have ${count} item${count === 1 ? '' : 's'} in your cart`
    case 'cart.items':
      return CART
    case 'page.type':
      return lookup(PAGES, actual)
    case 'page.category':
      return text ? `Because you're looking at ${text}` : null
    case 'page.item':
      return PAGES.product!
    case 'page.path':
      return "Because of the page you're on"
    case 'device':
      return lookup(DEVICES, actual)
    case 'time.hour':
      return count === undefined ? null : `Because it's ${partOfDay(count)} where you are`
    case 'time.weekday':
      return count !== undefined && WEEKDAYS[count] ? `Because it's ${WEEKDAYS[count]}` : null
    case 'referrer':
      return LINK
    case 'utm.medium':
      return lookup(MEDIA, text?.toLowerCase()) ?? LINK
    default:
      // Other utm fields hold the marketer's campaign names; scores and profile traits are theirs too.
      if (path.startsWith('utm.')) return LINK
      // An empty list held only `$exists`: nothing the shopper did to speak of.
      return Array.isArray(actual) && actual.length > 0 ? lookup(HISTORY, path) : null
  }
}

interface Words {
  clause: (clause: Clause, actual: unknown) => string | null
  negation: (condition: Condition) => string | null
}
const MARKETER: Words = { clause: sentence, negation }
const SHOPPER: Words = { clause: forShopper, negation: () => null }

/** The clauses that held, in `words`, or null when the condition does not hold. */
function check(condition: Condition, context: DecisionContext, words = MARKETER): string[] | null {
  const held: string[] = []
  const say = (text: string | null) => {
    if (text !== null) held.push(text)
  }
  for (const [key, value] of Object.entries(condition)) {
    if (key === '$and' || key === '$or') {
      const branches = (value as Condition[]).map((c) => check(c, context, words))
      const passed = branches.filter((b) => b !== null)
      if (key === '$and' ? passed.length < branches.length : passed.length === 0) return null
      held.push(...passed.flat())
    } else if (key === '$not') {
      if (check(value as Condition, context, words) !== null) return null
      say(words.negation(value as Condition))
    } else {
      const actual = resolve(context, key)
      for (const clause of clausesOf(key, value)) {
        if (!holds(clause, actual)) return null
        say(words.clause(clause, actual))
      }
    }
  }
  return [...new Set(held)]
}

/** Whether the condition holds for this context; `{}` always holds. */
export const evaluate = (condition: Condition, context: DecisionContext): boolean => check(condition, context) !== null

/** The clauses that held, in plain words ("cart total 92 > 80", "segment at-risk"); [] if none. */
export const explain = (condition: Condition, context: DecisionContext): string[] => check(condition, context) ?? []

/** The clauses that held, as the shopper may read them ("Because you're new here"); [] if none. */
export const explainToShopper = (condition: Condition, context: DecisionContext): string[] =>
  check(condition, context, SHOPPER) ?? []
