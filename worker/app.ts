import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ApiError } from '../contract'
import { snapshotSegments } from './customer/view'
import { siteIds } from './admin/store'
import type { AppEnv, Bindings, Site } from './env'
import { archiveSite, expireArchive } from './events/archive'
import { loadSite } from './http/site-auth'
import { openapi } from './http/openapi'
import { sweepSite } from './retention/sweep'
import { isMoving, shardOf } from './shards/directory'
import { limitClients } from './http/ratelimit'
import events from './events/route'
import admin from './admin/route'
import decide from './decide/route'
import identify from './identity/route'
import privacy from './customer/privacy-route'
import profile from './customer/profile-route'
import recommendations from './recommend/route'
import ops from './shards/route'
import { edgePass } from './edge/route'

const app = new Hono<AppEnv>()

// First: an edge host's pages are the shop's, fetched from its origin with their slots filled.
app.use('*', edgePass)

app.get('/v1/health', (c) => c.json({ ok: true }))
app.get('/v1/openapi.json', (c) => c.json(openapi()))
// Before the routes, so a refused client costs no body read, KV or D1 work.
const LIMITED = [
  '/v1/events',
  '/v1/recommendations',
  '/v1/identify',
  '/v1/profile',
  '/v1/privacy',
  '/v1/decide',
  '/v1/admin',
  '/v1/ops',
]
for (const path of LIMITED) app.use(`${path}/*`, limitClients)
app.route('/v1/events', events)
app.route('/v1/recommendations', recommendations)
app.route('/v1/identify', identify)
app.route('/v1/profile', profile)
app.route('/v1/privacy', privacy)
app.route('/v1/decide', decide)
app.route('/v1/admin', admin)
app.route('/v1/ops', ops)

app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` } satisfies ApiError, 404))
app.onError((err, c) => {
  if (err instanceof HTTPException) {
    return err.res ? err.getResponse() : c.json({ error: err.message } satisfies ApiError, err.status)
  }
  console.error(err)
  return c.json({ error: 'internal error' } satisfies ApiError, 500)
})

/** The daily cron: archives, deletes what each site no longer keeps, on its shard, then snapshots its segment sizes. */
async function scheduled(_controller: ScheduledController, env: Bindings, ctx: ExecutionContext): Promise<void> {
  const now = Date.now()
  for (const id of await siteIds(env.DB)) {
    const site = await loadSite(env, id)
    // A moving site's rows must not change under the copy: the next day's run catches up.
    if (site && !isMoving(site)) ctx.waitUntil(dailyWork(env, site, now))
  }
}

/** One site's day: raw events past the hot window to the archive, expired rows and objects deleted, segments counted. */
async function dailyWork(env: Bindings, site: Site, now: number): Promise<void> {
  const db = shardOf(env, site)
  await archiveSite(env, db, site.id, now)
  const { cutoff } = await sweepSite(db, site, now)
  await expireArchive(env, site.id, cutoff)
  await snapshotSegments(env, site, now)
}

// The Hono app answers fetch; the same default export also answers the cron trigger.
export default Object.assign(app, { scheduled })
/** The Durable Object class behind EVENT_BUFFER (wrangler.toml). */
export { EventBuffer } from './events/buffer'
