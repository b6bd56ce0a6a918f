// Eligibility conditions of next-best actions: a closed JSON language after GrowthBook's and
// MongoDB's rules (dotted paths, $-operators, $and/$or/$not), validated on save, evaluated and
// explained in plain words on every decision (explain.ts); checked on save (condition-schema.ts). A list field (segments) matches $eq/$ne/$in/$nin
// when any of its elements does, as in MongoDB; $contains tests one element, or a substring.
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
export const OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$contains'] as const
/** One field operator. */
export type Operator = (typeof OPERATORS)[number]

/** Deepest nesting of $and/$or/$not a saved condition may have, the top level counting as 1. */
export const MAX_DEPTH = 5
/** Most field tests (one per operator) a saved condition may have. */
export const MAX_CLAUSES = 50
/** Longest $in/$nin list. */
export const MAX_LIST = 100
/** Longest text operand. */
export const MAX_TEXT = 200

/** A dotted path: letters, digits, _ and -, separated by dots. */
export const PATH = /^[A-Za-z_][\w-]*(\.[\w-]+)*$/
/** Keys that would reach Object's prototype. */
export const RESERVED = new Set(['__proto__', 'prototype', 'constructor'])

/** The kind of a field, or undefined for a path conditions may not address. */
export const kindOf = (path: string): FieldKind | undefined =>
  CONTEXT_FIELDS[path] ?? OPEN_FIELDS.find(([root]) => path.startsWith(root) && path.length > root.length)?.[1]

/** A plain object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A string, a boolean or a finite number. */
export const isScalar = (v: unknown): v is Scalar =>
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

/** One field test: a path, an operator and what it compares with. */
export interface Clause {
  path: string
  op: Operator
  operand: unknown
}

/** A field's value or operator object as clauses; a bare value means $eq. */
export function clausesOf(path: string, value: unknown): Clause[] {
  if (!isObject(value)) return [{ path, op: '$eq', operand: value }]
  return Object.entries(value).map(([op, operand]) => ({ path, op: op as Operator, operand }))
}

const equals = (actual: unknown, operand: unknown) =>
  Array.isArray(actual) ? actual.includes(operand) : actual === operand

const within = (actual: unknown, operand: unknown) =>
  Array.isArray(operand) && (Array.isArray(actual) ? actual.some((a) => operand.includes(a)) : operand.includes(actual))

function compare(actual: unknown, operand: unknown): number | undefined {
  if (typeof actual === 'number' && typeof operand === 'number') return actual - operand
  if (typeof actual === 'string' && typeof operand === 'string') {
    return actual < operand ? -1 : actual > operand ? 1 : 0
  }
  return undefined
}

/** Whether one clause holds; a missing value only satisfies $ne, $nin and `$exists: false`. */
export function holds({ op, operand }: Clause, actual: unknown): boolean {
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
