// Site authentication: the public key the script tag carries, and the origins allowed to use it.
import type { MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { z } from 'zod'
import { CONSENT_MODES, MAX_SHOPPER_BODY_BYTES, type ConsentMode, type Parsed } from '../../contract'
import { findSite } from '../admin/store'
import type { Bindings, Site } from '../env'
import { hex } from '../ids'
import { invalid, readJson, validate } from './body'
import { CACHE_KEYS } from './cache-keys'
import { limitAdmin, limitSite } from './ratelimit'
import { refuseWhileMoving, shardOf } from '../shards/directory'

/** Seconds a site's key digest and origins stay cached in KV. */
export const SITE_CACHE_TTL = 60

/** SHA-256 of a key, as lowercase hex: the only form in which keys are stored. */
export async function hashKey(key: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)))
}

/** The site with this id, from KV when cached, else from D1 (then cached). */
export async function loadSite(env: Bindings, id: string): Promise<Site | null> {
  const cacheKey = CACHE_KEYS.site(id)
  const cached = await env.CACHE.get<Site>(cacheKey, 'json')
  // An entry cached before sites had shards (or catalog versions) lacks them: read the row again.
  if (cached?.shard && cached.catalogVersion !== undefined) return cached
  const row = await findSite(env.DB, id)
  if (!row) return null
  const site: Site = {
    id: row.id,
    keyHash: row.key_hash,
    adminKeyHash: row.admin_key_hash,
    origins: JSON.parse(row.origins),
    settings: JSON.parse(row.settings),
    experiments: JSON.parse(row.experiments),
    identitySecret: row.identity_secret,
    shard: row.shard,
    movingTo: row.moving_to,
    catalogVersion: row.catalog_version,
  }
  await env.CACHE.put(cacheKey, JSON.stringify(site), { expirationTtl: SITE_CACHE_TTL })
  return site
}

/** The site if `key` is its public key; 429 over the site's rate, else 401. Site ids are public, so the errors may differ. */
async function authenticate(env: Bindings, siteId: string, key: string): Promise<Site> {
  // Counted before the key is checked, so a refused request costs no KV or D1 read; checking the key
  // first would not keep strangers off a site's budget anyway, as its public key is in every page.
  await limitSite(env, siteId)
  const site = await loadSite(env, siteId)
  if (!site) throw new HTTPException(401, { message: `unknown site "${siteId}"` })
  if (!sameDigest(await hashKey(key), site.keyHash)) {
    throw new HTTPException(401, { message: `invalid key for site "${siteId}"` })
  }
  return site
}

/** Compares two SHA-256 hex digests in constant time. */
export const sameDigest = (a: string, b: string) => {
  const [x, y] = [new TextEncoder().encode(a), new TextEncoder().encode(b)]
  return x.byteLength === y.byteLength && crypto.subtle.timingSafeEqual(x, y)
}

/** The site if `secret` is its admin key; 429 over the console's rate, else 401 (the same answer whatever was wrong). */
export async function authenticateAdmin(env: Bindings, siteId: string, secret: string | undefined): Promise<Site> {
  // A budget apart from the shoppers', so a flooded shop never locks its marketer out of the console.
  await limitAdmin(env, siteId)
  const site = await loadSite(env, siteId)
  const given = await hashKey(secret ?? '')
  if (!secret || !site?.adminKeyHash || !sameDigest(given, site.adminKeyHash)) {
    throw new HTTPException(401, { message: 'missing or invalid admin key' })
  }
  return site
}

/** Whether `origin` is on the list; an entry ending in ":*" allows any port of that host. */
export function originAllowed(allowed: string[], origin: string | null | undefined): boolean {
  if (!origin) return false
  return allowed.some((entry) =>
    entry.endsWith(':*')
      ? origin === entry.slice(0, -2) || new RegExp(`^${escapeRegExp(entry.slice(0, -2))}:\\d{1,5}$`).test(origin)
      : origin === entry,
  )
}
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Throws 403 unless the request's Origin is allowed for the site. */
function checkOrigin(site: Site, origin: string | undefined): void {
  if (!originAllowed(site.origins, origin)) {
    throw new HTTPException(403, { message: `origin ${origin ?? '(none)'} is not allowed for site ${site.id}` })
  }
}

/**
 * Throws 409 when the script tag's consent mode (absent: opt-out) is laxer than the site's setting:
 * a tag missing its `data-consent` must not store what the site promised its shoppers it would not.
 */
function checkConsent(site: Site, tag: ConsentMode = 'tracking-with-opt-out'): void {
  const required = site.settings?.consent
  if (required && CONSENT_MODES.indexOf(tag) > CONSENT_MODES.indexOf(required)) {
    throw new HTTPException(409, {
      message: `site ${site.id} asks for consent mode ${required}, but its script tag says ${tag}: set data-consent="${required}"`,
    })
  }
}

type Parser<T> = z.ZodType<T, unknown> | ((raw: unknown) => Parsed<T>)
/** What every public request names: its site and that site's public key (and, for events, the tag's consent mode). */
type Signed = { site: string; key: string; consent?: ConsentMode }

/** A parser's value, or a 400 with `message` and its issues. */
const accepted = <T>(parsed: Parsed<T>, message: string): T => {
  if (!parsed.ok) throw invalid(message, parsed.issues)
  return parsed.value
}

/**
 * The opening of every public route: parses the query (GET) or the JSON body, answers 400 with
 * `message` and each issue, authenticates the site's public key (401, 429), checks the Origin (403)
 * and, with `consent`, the tag's consent mode (409), and refuses a write while the site moves to
 * another shard (503) unless `whileMoving` is 'accept' (a route whose writes are held until the move
 * ends); then hands the route `c.var.site`, `c.var.input` and `c.var.db`, the site's shard.
 */
export function siteAuth<T extends Signed>(
  message: string,
  parser: Parser<T>,
  options: { maxBytes?: number; consent?: boolean; whileMoving?: 'refuse' | 'accept' } = {},
): MiddlewareHandler<{ Bindings: Bindings; Variables: { site: Site; input: T; db: D1Database } }> {
  return async (c, next) => {
    const read = c.req.method === 'GET'
    const raw = read ? c.req.query() : await readJson(c.req.raw, options.maxBytes ?? MAX_SHOPPER_BODY_BYTES)
    const input = typeof parser === 'function' ? accepted(parser(raw), message) : validate(parser, raw, message)
    const site = await authenticate(c.env, input.site, input.key)
    // Browsers send an Origin with every POST but not with a same-origin GET, and a shop's backend
    // may read with the public key: so reads are checked when they name an origin, writes always.
    const origin = c.req.header('Origin')
    if (!read || origin) checkOrigin(site, origin)
    if (options.consent) checkConsent(site, input.consent)
    if (!read && options.whileMoving !== 'accept') refuseWhileMoving(site)
    c.set('site', site)
    c.set('input', input)
    c.set('db', shardOf(c.env, site))
    await next()
  }
}
