// The shape of every error answer, and zod's issues in it.
import type { z } from 'zod'

/** One precise problem in a rejected request. */
export interface Issue {
  path: string
  message: string
  /** Index of the offending event, so a client can drop just that one and resend the rest. */
  event?: number
}

/** A parsed request, or the precise reasons it is not one. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: Issue[] }

/** The JSON body of every 4xx/5xx answer. */
export interface ApiError {
  error: string
  issues?: Issue[]
}

/** zod's errors as Issues with dotted paths under `prefix`. */
export function toIssues(error: z.ZodError, prefix = '', event?: number): Issue[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: i.message,
    ...(event === undefined ? {} : { event }),
  }))
}
