// Conditions as a marketer saves them: every problem found, with where it is and what is wrong.
import { z } from 'zod'
import { CONTEXT_FIELDS, OPEN_FIELDS, type FieldKind } from '../../contract'
import {
  clausesOf,
  isObject,
  isScalar,
  kindOf,
  MAX_CLAUSES,
  MAX_DEPTH,
  MAX_LIST,
  MAX_TEXT,
  OPERATORS,
  PATH,
  RESERVED,
  type Condition,
  type Operator,
} from './conditions'

type Where = Array<string | number>

interface Problem {
  path: Where
  message: string
}

const typeName = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : typeof v

const got = (v: unknown) =>
  isScalar(v) ? `${typeof v} ${JSON.stringify(v)}` : Array.isArray(v) ? `a list of ${v.length}` : typeName(v)

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
        } else for (const [i, c] of value.entries()) visit(c, [...at, key, i], depth + 1)
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
