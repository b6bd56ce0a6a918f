// Helpers shared by the routes: JSON bodies, precise 400s, work after the answer.
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ApiError, Issue } from '../../sdk/schema'

const JSON_TYPES = ['application/json', 'text/plain']

/** The body parsed as JSON; 415 for other content types, 413 over `maxBytes`, 400 for malformed JSON. */
export async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const type = (req.headers.get('Content-Type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase()
  if (!JSON_TYPES.includes(type)) {
    throw new HTTPException(415, { message: `content type ${type} is not supported; send JSON` })
  }
  const text = await req.text()
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
