// Helpers shared by the routes: JSON bodies, precise 400s, work after the answer.
import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { z } from 'zod'
import { toIssues, type ApiError, type Issue } from '../../contract'

const JSON_TYPES = ['application/json', 'text/plain']
const cutShort = () => new HTTPException(400, { message: 'body could not be read to its end' })

/**
 * Refuses a body over `maxBytes` with 413 as it streams in (Hono's bodyLimit), and answers 400 when
 * the client hangs up before its body ends; errors of the route itself pass through untouched.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => c.json({ error: `body exceeds ${maxBytes} bytes` } satisfies ApiError, 413),
  })
  return async (c, next) => {
    let reached = false
    try {
      return await limit(c, () => {
        reached = true
        return next()
      })
    } catch (error) {
      throw reached || error instanceof HTTPException ? error : cutShort()
    }
  }
}

/** The body parsed as JSON; 415 for other content types, 413 over `maxBytes`, 400 for malformed JSON. */
export async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const type = (req.headers.get('Content-Type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase()
  if (!JSON_TYPES.includes(type)) {
    throw new HTTPException(415, { message: `content type ${type} is not supported; send JSON` })
  }
  // A client that hangs up before its Content-Length is sent makes the read throw: its fault, not ours.
  const text = await req.text().catch(() => {
    throw cutShort()
  })
  // bodyLimit trusts an honest Content-Length; this catches a body that claims less than it carries.
  if (new TextEncoder().encode(text).byteLength > maxBytes) {
    throw new HTTPException(413, { message: `body exceeds ${maxBytes} bytes` })
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new HTTPException(400, { message: 'malformed JSON' })
  }
}

/** `raw` checked against `schema`: its data, or a 400 with `message` and each issue (paths under `prefix`). */
export function validate<S extends z.ZodType>(schema: S, raw: unknown, message: string, prefix = ''): z.output<S> {
  const parsed = schema.safeParse(raw)
  if (!parsed.success) throw invalid(message, toIssues(parsed.error, prefix))
  return parsed.data
}

/** A 400 whose JSON body lists each issue with its path. */
export const invalid = (message: string, issues: Issue[]) =>
  new HTTPException(400, {
    message,
    res: Response.json({ error: message, issues } satisfies ApiError, { status: 400 }),
  })

/** Lets `work` (a log write) finish after the answer; awaited where there is no execution context (tests). */
export async function afterResponse(c: Context, work: Promise<unknown>): Promise<void> {
  try {
    c.executionCtx.waitUntil(work)
  } catch {
    await work
  }
}
