// Eligibility conditions of next-best actions: a closed JSON language after GrowthBook's and
// MongoDB's rules (dotted paths, $-operators, $and/$or/$not), validated on save, evaluated and
// explained in plain words on every decision. A list field (segments) matches $eq/$ne/$in/$nin
// when any of its elements does, as in MongoDB; $contains tests one element, or a substring.
import { z } from 'zod'
import { CONTEXT_FIELDS, OPEN_FIELDS, type DecisionContext, type FieldKind } from '../../contract'

/** A value a condition compares with. */
export type Scalar = string | number | boolean

/** Operators on one field; several in one object must all hold. */
export interface Operators {
  $eq?: Scalar
  $ne?: Scalar
  $gt?: number | string
  $gte?: number | string
  $lt?: number | string
  $lte?: number | string
  $in?: Scalar[]
  $nin?: Scalar[]
  $exists?: boolean
  $contains?: Scalar
}

/** A condition: fields to values or operators (all must hold), or a logical combination. */
export type Condition =
  | { $and: Condition[] }
  | { $or: Condition[] }
  | { $not: Condition }
  | { [path: string]: Scalar | Operators }

/** The closed set of field operators. */
export const OPERATORS = [
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$contains',
] as const
type Operator = (typeof OPERATORS)[number]

/** Deepest nesting of $and/$or/$not a saved condition may have, the top level counting as 1. */
export const MAX_DEPTH = 5
/** Most field tests (one per operator) a saved condition may have. */
export const MAX_CLAUSES = 50
/** Longest $in/$nin list. */
export const MAX_LIST = 100
const MAX_TEXT = 200


const PATH = /^[A-Za-z_][\w-]*(\.[\w-]+)*$/
const RESERVED = new Set(['__proto__', 'prototype', 'constructor'])

const kindOf = (path: string): FieldKind | undefined =>
  CONTEXT_FIELDS[path] ?? OPEN_FIELDS.find(([root]) => path.startsWith(root) && path.length > root.length)?.[1]

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))

/** The value at a dotted path; own properties only, and null counts as missing. */
export function resolve(context: DecisionContext, path: string): unknown {
  let value: unknown = context
  for (const key of path.split('.')) {
    if (!isObject(value) || !Object.hasOwn(value, key)) return undefined
    value = value[key]
  }
  return value ?? undefined
}

interface Clause {
  path: string
  op: Operator
  operand: unknown
}

/** A field's value or operator object as clauses; a bare value means $eq. */
function clausesOf(path: string, value: unknown): Clause[] {
  if (!isObject(value)) return [{ path, op: '$eq', operand: value }]
  return Object.entries(value).map(([op, operand]) => ({ path, op: op as Operator, operand }))
}

const equals = (actual: unknown, operand: unknown) =>
  Array.isArray(actual) ? actual.includes(operand) : actual === operand

const within = (actual: unknown, operand: unknown) =>
  Array.isArray(operand) &&
  (Array.isArray(actual) ? actual.some((a) => operand.includes(a)) : operand.includes(actual))

function compare(actual: unknown, operand: unknown): number | undefined {
  if (typeof actual === 'number' && typeof operand === 'number') return actual - operand
  if (typeof actual === 'string' && typeof operand === 'string') {
    return actual < operand ? -1 : actual > operand ? 1 : 0
  }
  return undefined
}

/** Whether one clause holds; a missing value only satisfies $ne, $nin and `$exists: false`. */
function holds({ op, operand }: Clause, actual: unknown): boolean {
  if (op === '$exists') return (actual !== undefined) === operand
  if (actual === undefined) return op === '$ne' || op === '$nin'
  const order = compare(actual, operand)
  switch (op) {
    case '$eq':
      return equals(actual, operand)
    case '$ne':
      return !equals(actual, operand)
    case '$gt':
      return order !== undefined && order > 0
    case '$gte':
      return order !== undefined && order >= 0
    case '$lt':
      return order !== undefined && order < 0
    case '$lte':
      return order !== undefined && order <= 0
    case '$in':
      return within(actual, operand)
    case '$nin':
      return !within(actual, operand)
    case '$contains':
      return Array.isArray(actual)
        ? actual.includes(operand)
        : typeof actual === 'string' && typeof operand === 'string' && actual.includes(operand)
    default:
      // An operator that escaped validation fails closed: never show an action by mistake.
      return false
  }
}

const LABELS: Record<string, string> = {
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
      const hit =
        Array.isArray(actual) && Array.isArray(operand)
          ? actual.filter((a) => operand.includes(a))
          : actual
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
    Object.keys(c).length > 1 || /^\$(and|or)$/.test(Object.keys(c)[0] ?? '')
      ? `(${describe(c)})`
      : describe(c)
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

// Own keys only: a page type such as "constructor" must not find Object's prototype.
const lookup = (table: Record<string, string>, key: unknown) =>
  typeof key === 'string' && Object.hasOwn(table, key) ? table[key]! : null

const segmentWords = (id: unknown) =>
  lookup(STAGES, id) ?? (typeof id === 'string' && id.startsWith('likes:') ? `Because you often look at ${id.slice(6)}` : null)

const partOfDay = (hour: number) =>
  hour >= 5 && hour < 12 ? 'morning' : hour >= 12 && hour < 18 ? 'afternoon' : hour >= 18 && hour < 23 ? 'evening' : 'night'

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
      return count === 0 ? 'Because your cart is empty' : `Because you have ${count} item${count === 1 ? '' : 's'} in your cart`
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
      return path.startsWith('utm.') ? LINK : null
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
export const evaluate = (condition: Condition, context: DecisionContext): boolean =>
  check(condition, context) !== null

/** The clauses that held, in plain words ("cart total 92 > 80", "segment at-risk"); [] if none. */
export const explain = (condition: Condition, context: DecisionContext): string[] =>
  check(condition, context) ?? []

/** The clauses that held, as the shopper may read them ("Because you're new here"); [] if none. */
export const explainToShopper = (condition: Condition, context: DecisionContext): string[] =>
  check(condition, context, SHOPPER) ?? []

type Where = Array<string | number>

interface Problem {
  path: Where
  message: string
}

const typeName = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : typeof v

const got = (v: unknown) =>
  isScalar(v)
    ? `${typeof v} ${JSON.stringify(v)}`
    : Array.isArray(v)
      ? `a list of ${v.length}`
      : typeName(v)

/** Whether a scalar operand fits a field of this kind. */
function fits(kind: FieldKind, v: unknown): boolean {
  if (!isScalar(v)) return false
  if (typeof v === 'string' && v.length > MAX_TEXT) return false
  switch (kind) {
    case 'number':
      return typeof v === 'number'
    case 'string':
    case 'list':
      return typeof v === 'string'
    case 'scalar':
      return typeof v !== 'boolean'
    case 'any':
      return true
  }
}

// What $gt/$gte/$lt/$lte accept per kind (lists are rejected before).
const ORDERED: Record<FieldKind, string> = {
  number: 'a number',
  string: 'text',
  list: 'a number or text',
  scalar: 'a number or text',
  any: 'a number or text',
}

const WANTS: Record<FieldKind, string> = {
  number: 'a number',
  string: `text (up to ${MAX_TEXT} characters)`,
  list: `text (up to ${MAX_TEXT} characters)`,
  scalar: 'a number or text',
  any: 'a number, text or true/false',
}

/** What is wrong with one operator on a field of this kind, if anything. */
function operandProblem(path: string, kind: FieldKind, op: Operator, operand: unknown): string | null {
  switch (op) {
    case '$exists':
      if (typeof operand === 'boolean') return null
      return `$exists needs true or false, got ${got(operand)}`
    case '$in':
    case '$nin': {
      if (!Array.isArray(operand) || operand.length === 0 || operand.length > MAX_LIST) {
        return `${op} needs a list of 1 to ${MAX_LIST} values, got ${got(operand)}`
      }
      const bad = operand.findIndex((v) => !fits(kind, v))
      return bad < 0 ? null : `${op} value ${bad} must be ${WANTS[kind]}, got ${got(operand[bad])}`
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (kind === 'list') return `${op} does not apply to the list ${path}; use $contains or $in`
      return (typeof operand === 'number' || typeof operand === 'string') && fits(kind, operand)
        ? null
        : `${op} needs ${ORDERED[kind]}, got ${got(operand)}`
    case '$contains':
      if (kind === 'number') return `$contains needs a list or text field; ${path} is a number`
      if (kind === 'string' || kind === 'scalar') {
        return typeof operand === 'string' && fits('string', operand)
          ? null
          : `$contains on text needs text, got ${got(operand)}`
      }
      return fits(kind, operand) ? null : `$contains needs ${WANTS[kind]}, got ${got(operand)}`
    case '$eq':
    case '$ne':
      return fits(kind, operand) ? null : `${op} needs ${WANTS[kind]}, got ${got(operand)}`
  }
}

const KNOWN = `${Object.keys(CONTEXT_FIELDS).join(', ')}, ${OPEN_FIELDS.map(([p]) => `${p}<name>`).join(', ')}`

/** Every problem of a would-be condition, each with where it is and what is wrong. */
export function problems(input: unknown): Problem[] {
  const found: Problem[] = []
  let clauses = 0
  // The message names the field (or logical operator); the issue's path goes down to the operator.
  const fail = (at: Where, message: string, op?: string) =>
    found.push({
      path: op === undefined ? at : [...at, op],
      message: `${at.length > 0 ? at.join('.') : 'condition'}: ${message}`,
    })
  const field = (path: string, value: unknown, at: Where) => {
    if (isObject(value) && Object.keys(value).some((k) => !k.startsWith('$'))) {
      const inner = Object.keys(value).find((k) => !k.startsWith('$'))
      return fail(at, `objects are not values; write the dotted path, e.g. "${path}.${inner}"`)
    }
    const reserved = path.split('.').some((k) => RESERVED.has(k))
    if (path.length > MAX_TEXT || !PATH.test(path) || reserved) {
      return fail(at, 'is not a field path (letters, digits, _ and -, joined by dots)')
    }
    const kind = kindOf(path)
    if (!kind) return fail(at, `unknown field; use one of ${KNOWN}`)
    if (Array.isArray(value)) return fail(at, 'a list is not a value; use {"$in": [...]}')
    if (isObject(value) && Object.keys(value).length === 0) return fail(at, 'has no operator')
    for (const { op, operand } of clausesOf(path, value)) {
      if (++clauses === MAX_CLAUSES + 1) fail(at, `too many clauses: at most ${MAX_CLAUSES}`)
      if (!(OPERATORS as readonly string[]).includes(op)) {
        fail(at, `unknown operator ${op}; use one of ${OPERATORS.join(' ')}`, op)
        continue
      }
      const problem = operandProblem(path, kind, op, operand)
      if (problem) fail(at, problem, isObject(value) ? op : undefined)
    }
  }
  const visit = (node: unknown, at: Where, depth: number) => {
    if (depth > MAX_DEPTH) return fail(at, `nests deeper than ${MAX_DEPTH} levels`)
    if (!isObject(node)) {
      const wanted = 'must be an object of field conditions or $and/$or/$not'
      return fail(at, `${wanted}, got ${typeName(node)}`)
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(value) || value.length === 0 || value.length > MAX_CLAUSES) {
          const wanted = `needs a list of 1 to ${MAX_CLAUSES} conditions`
          fail([...at, key], `${wanted}, got ${typeName(value)}`)
        } else value.forEach((c, i) => visit(c, [...at, key, i], depth + 1))
      } else if (key === '$not') visit(value, [...at, key], depth + 1)
      else if (key.startsWith('$')) {
        fail([...at, key], `unknown operator ${key}; combine conditions with $and, $or and $not`)
      } else field(key, value, [...at, key])
    }
  }
  visit(input, [], 1)
  return found
}

/** A condition as saved by a marketer: every problem is reported with its path. */
export const conditionSchema = z.custom<Condition>().superRefine((value, ctx) => {
  for (const { path, message } of problems(value)) ctx.addIssue({ code: 'custom', path, message })
})
