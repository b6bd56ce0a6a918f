// The edge pass: for a shop whose pages route through the Worker (a Cloudflare route on its host),
// each page is fetched from the shop's origin and its slots are filled in the HTML stream
// (rewrite.ts), so the first paint already shows them. Every other path and host goes on to the API.
import type { MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { ID_PATTERN, type ApiError } from '../../contract'
import type { AppEnv, Bindings } from '../env'
import { afterResponse } from '../http/body'
import { CACHE_KEYS } from '../http/cache-keys'
import { loadSite, SITE_CACHE_TTL } from '../http/site-auth'
import { requestLocale } from '../render/html'
import { shardOf } from '../shards/directory'
import { fillSlots } from './rewrite'
import { siteOfHost } from './store'

/** The first-party cookie the tag writes (at consent level full, with `data-edge`): the shopper's anonymous id. */
export const SHOPPER_COOKIE = 'vista_aid'
/** Marks the Worker's own request to the origin: an origin that routes back here is served as is, not again. */
const LOOP_HEADER = 'X-Vista-Edge'

/** The site whose pages this host serves, from KV (also when none) for SITE_CACHE_TTL seconds, else from D1. */
async function siteForHost(env: Bindings, host: string): Promise<string | null> {
  const key = CACHE_KEYS.edgeHost(host)
  const cached = await env.CACHE.get(key)
  if (cached !== null) return cached || null
  const siteId = await siteOfHost(env.DB, host)
  await env.CACHE.put(key, siteId ?? '', { expirationTtl: SITE_CACHE_TTL })
  return siteId
}

/** Serves an edge host's pages from its origin with their slots filled; anything else goes on. */
export const edgePass: MiddlewareHandler<AppEnv> = async (c, next) => {
  const url = new URL(c.req.url)
  if (url.pathname.startsWith('/v1/') || c.req.header(LOOP_HEADER)) return next()
  const siteId = await siteForHost(c.env, url.host)
  const site = siteId ? await loadSite(c.env, siteId) : null
  const edge = site?.settings?.edge
  if (!site || !edge) return next()
  const upstream = new Request(new URL(url.pathname + url.search, edge.origin), c.req.raw)
  upstream.headers.set(LOOP_HEADER, '1')
  // The origin is named by its own URL; the host the shopper asked for goes along as X-Forwarded-Host.
  upstream.headers.delete('Host')
  upstream.headers.set('X-Forwarded-Host', url.host)
  const page = await fetch(upstream, { redirect: 'manual' }).catch(() => null)
  if (!page) return c.json({ error: `the shop could not be reached at ${edge.origin}` } satisfies ApiError, 502)
  const html = page.headers.get('Content-Type')?.startsWith('text/html')
  if (c.req.method !== 'GET' || !html || !page.ok) return page
  // Global Privacy Control turns the cookie off, as it turns the tag's tracking off.
  const cookie = c.req.header('Sec-GPC') === '1' ? undefined : getCookie(c, SHOPPER_COOKIE)
  const shopper = cookie && ID_PATTERN.test(cookie) ? cookie : null
  const filled = fillSlots(page, {
    serving: { env: c.env, site, db: shardOf(c.env, site), defer: (work) => afterResponse(c, work) },
    shopper,
    locale: requestLocale(c.req.header('Accept-Language')),
    userAgent: c.req.header('User-Agent') ?? '',
    referrer: c.req.header('Referer'),
    url,
    timeZone: (c.req.raw.cf as { timezone?: string } | undefined)?.timezone,
  })
  // Each page holds its own answers (ids, for some shoppers personal ones): no shared cache may keep it.
  filled.headers.set('Cache-Control', 'private, no-store')
  return filled
}
