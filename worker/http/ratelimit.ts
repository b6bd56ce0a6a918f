// Rate limits through Workers Rate Limiting bindings: per client address before a request is read
// (middleware), and per site where the site is named, before its key is checked (sites.ts).
import type { MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ApiError } from '../../contract'
import type { AppEnv, Bindings } from '../env'

/** Seconds of a limiter's window: `simple.period` of both [[ratelimits]] in wrangler.toml. */
export const RATE_PERIOD = 10

/** The two limiter bindings: one counts per site id, one per client address. */
type Limiter = 'SITE_LIMITER' | 'CLIENT_LIMITER'

/** A 429 with a JSON error and Retry-After: the whole window, as the binding cannot tell what is left of it. */
function tooManyRequests(message: string): HTTPException {
  const headers = { 'Retry-After': String(RATE_PERIOD) }
  const res = Response.json({ error: message } satisfies ApiError, { status: 429, headers })
  return new HTTPException(429, { message, res })
}

/** Counts one request against `key`; throws 429 once its window's budget is spent. Off when RATE_LIMITS is "off". */
async function limit(env: Bindings, limiter: Limiter, key: string, who: string): Promise<void> {
  if (env.RATE_LIMITS === 'off') return
  const { success } = await env[limiter].limit({ key })
  if (!success) throw tooManyRequests(`too many requests for ${who}; retry in ${RATE_PERIOD} s`)
}

// The prefixes keep any site id a shopper sends from naming the admin API's budget.
/** Counts one public API request of site `siteId`. */
export const limitSite = (env: Bindings, siteId: string) =>
  limit(env, 'SITE_LIMITER', `site:${siteId}`, `site "${siteId}"`)
/** Counts one admin API request of site `siteId`: a budget apart from its shoppers'. */
export const limitAdmin = (env: Bindings, siteId: string) =>
  limit(env, 'SITE_LIMITER', `admin:${siteId}`, `the admin API of site "${siteId}"`)

/** Middleware: counts each request against its client address (CF-Connecting-IP) before anything is read. */
export const limitClients: MiddlewareHandler<AppEnv> = async (c, next) => {
  // Cloudflare and wrangler dev always set the header; only app.request in tests goes without, and
  // lumping those calls under one key would make unrelated tests refuse each other.
  const address = c.req.header('CF-Connecting-IP')
  if (address) await limit(c.env, 'CLIENT_LIMITER', address, 'this client')
  await next()
}
