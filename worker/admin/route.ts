// The marketer's API: every route under /v1/admin/:site needs the site's secret admin key
// (Authorization: Bearer …). A test enumerates the app's routes so a new one cannot skip it.
import { Hono } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import { HTTPException } from 'hono/http-exception'
import { z } from 'zod'
import { readCatalog } from './catalog'
import { customerView, decisionContext, profileAnswer, snapshotSegments } from '../customer/view'
import {
  actionReport,
  holdoutGroups,
  recommendationReport,
  bumpCatalogVersion,
  deleteItem,
  existingItems,
  setIdentitySecret,
  setKeyHash,
  setStock,
  updateSiteConfig,
  upsertItems,
  type ItemRow,
} from './store'
import { recentVisitors, segmentSizes } from '../customer/store'
import { deleteAction, listActions, savedActions, upsertActions } from '../decide/store'
import { claimsOf, identitiesOf } from '../identity/store'
import { actionSchema, decide, DEFAULT_POLICY, eligible } from '../decide/engine'
import { claimedIds, id, MAX_SHOPPER_BODY_BYTES, toIssues, visitSchema } from '../../contract'
import type { AppEnv, Bindings } from '../env'
import { randomId } from '../ids'
import { mergeRows, uplift } from './reports'
import { originsSchema, siteSettingsSchema } from './settings'
import { CACHE_KEYS } from '../http/cache-keys'
import { authenticateAdmin, hashKey } from '../http/site-auth'
import { invalid, readJson, validate } from '../http/body'
import { linkVerified, namedIds } from '../identity/route'
import { seal } from '../identity/verification'
import { isMoving, refuseWhileMoving, shardOf } from '../shards/directory'
import experiments from '../experiments/route'
import { claimedHosts, replaceHosts, siteHosts } from '../edge/store'

/** After a catalog write: a new catalog version, and the cached site entry that names the old one dropped. */
async function catalogChanged(env: Bindings, siteId: string): Promise<void> {
  await bumpCatalogVersion(env.DB, siteId)
  await env.CACHE.delete(CACHE_KEYS.site(siteId))
}

/** Most catalog rows one import call takes (they are chunked to D1's limits). */
export const MAX_IMPORT_ROWS = 5000
/** Largest body of a catalog import (JSON or CSV). */
export const MAX_CATALOG_BYTES = 8 * 1024 * 1024
/** Largest body of a stock change. */
export const MAX_STOCK_BYTES = 1024 * 1024
/** Largest body of the other admin calls (an action, settings, a preview). */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024
/** Most stock changes one call takes (one statement each, in one transaction). */
export const MAX_STOCK_ROWS = 1000

/** One catalog row of an import. */
export const itemSchema = z.object({
  id,
  title: z.string().min(1).max(300),
  category: z.string().min(1).max(128),
  price: z.number().finite().min(0).max(1e9),
  image: z.string().max(2048).nullish(),
  description: z.string().max(5000).nullish(),
  in_stock: z.boolean().default(true),
})

/** The body of POST /v1/admin/:site/catalog: rows are checked one by one against itemSchema. */
export const catalogImport = z.object({ items: z.array(z.unknown()).min(1).max(MAX_IMPORT_ROWS) })
/** The body of PATCH /v1/admin/:site/catalog/stock. */
export const stockPatch = z.object({
  items: z
    .array(z.object({ id: itemSchema.shape.id, in_stock: z.boolean() }))
    .min(1)
    .max(MAX_STOCK_ROWS),
})
/** The body of PATCH /v1/admin/:site/settings. */
export const settingsPatch = z.object({ origins: originsSchema, settings: siteSettingsSchema }).partial().strict()
/** How many recent shoppers a preview checks an action against. */
export const PREVIEW_SAMPLE = 100

/** The body of POST /v1/admin/:site/preview: an action as it would be saved, and optionally a shopper. */
export const previewBody = z.object({
  action: z.record(z.string(), z.unknown()),
  anonymousId: id.optional(),
  context: visitSchema.default({}),
})

/** The body of POST /v1/admin/:site/identify: ids the site's backend links (at least two). */
export const adminIdentifyBody = claimedIds.extend({ anonymousId: id.optional() }).strict()

/** The query of GET /v1/admin/:site/segments. */
export const segmentsQuery = z.object({ days: z.coerce.number().int().min(1).max(365).default(30) })

/** The query of GET /v1/admin/:site/reports. */
export const reportRange = z
  .object({ from: z.iso.date(), to: z.iso.date() })
  .refine((r) => r.from <= r.to, { path: ['to'], message: 'must not be before from' })

/** /v1/admin/:site/…: actions, catalog import and the customer 360, behind the admin key; the site's data on its shard. */
export default new Hono<AppEnv>()
  .use('/:site/*', secureHeaders(), async (c, next) => {
    const bearer = c.req.header('Authorization')?.match(/^Bearer\s+(\S+)$/)?.[1]
    const site = await authenticateAdmin(c.env, c.req.param('site') ?? '', bearer)
    if (c.req.method !== 'GET') refuseWhileMoving(site)
    c.set('site', site)
    c.set('db', shardOf(c.env, site))
    await next()
  })
  .route('/', experiments)
  .get('/:site/actions', async (c) => {
    const rows = (await listActions(c.var.db, c.var.site.id).all<{ definition: string }>()).results
    return c.json({ actions: savedActions(rows) })
  })
  .put('/:site/actions/:id', async (c) => {
    const body = (await readJson(c.req.raw, MAX_ADMIN_BODY_BYTES)) as Record<string, unknown>
    const action = validate(actionSchema, { ...body, id: c.req.param('id') }, 'invalid action')
    await upsertActions(c.var.db, c.var.site.id, [action], Date.now())
    return c.json({ action })
  })
  .delete('/:site/actions/:id', async (c) => {
    const deleted = await deleteAction(c.var.db, c.var.site.id, c.req.param('id'))
    return deleted ? c.body(null, 204) : c.json({ error: `no action ${c.req.param('id')}` }, 404)
  })
  .post('/:site/catalog', async (c) => {
    // A CSV body (text/csv) is read into the same rows a JSON body carries.
    const csv = /^text\/csv\b/i.test(c.req.header('Content-Type') ?? '')
    let body: unknown
    if (csv) {
      const text = await c.req.text()
      if (new TextEncoder().encode(text).byteLength > MAX_CATALOG_BYTES)
        throw new HTTPException(413, { message: `body exceeds ${MAX_CATALOG_BYTES} bytes` })
      try {
        body = { items: readCatalog(text, 'csv') }
      } catch (e) {
        throw new HTTPException(400, { message: `malformed CSV: ${e instanceof Error ? e.message : e}` })
      }
    } else body = await readJson(c.req.raw, MAX_CATALOG_BYTES)
    const { items } = validate(catalogImport, body, 'invalid catalog import')
    const valid: ItemRow[] = []
    const rejected: Array<{ row: number; id?: unknown; errors: string[] }> = []
    items.forEach((raw, row) => {
      const item = itemSchema.safeParse(raw)
      if (item.success)
        valid.push({
          ...item.data,
          image: item.data.image ?? null,
          description: item.data.description ?? null,
          in_stock: item.data.in_stock ? 1 : 0,
        })
      else
        rejected.push({
          row,
          id: (raw as { id?: unknown })?.id,
          errors: toIssues(item.error).map((i) => `${i.path}: ${i.message}`),
        })
    })
    const known =
      valid.length > 0
        ? await existingItems(
            c.var.db,
            c.var.site.id,
            valid.map((i) => i.id),
          )
        : new Set<string>()
    if (valid.length > 0) {
      await upsertItems(c.var.db, c.var.site.id, valid)
      await catalogChanged(c.env, c.var.site.id)
    }
    const updated = valid.filter((i) => known.has(i.id)).length
    return c.json({ created: valid.length - updated, updated, rejected })
  })
  .get('/:site/settings', (c) =>
    c.json({
      origins: c.var.site.origins,
      settings: c.var.site.settings ?? {},
      identitySecret: Boolean(c.var.site.identitySecret),
    }),
  )
  .patch('/:site/settings', async (c) => {
    const patch = validate(settingsPatch, await readJson(c.req.raw, MAX_ADMIN_BODY_BYTES), 'invalid settings')
    const site = c.var.site
    // Each section given replaces that section; the others stay.
    const settings = { ...site.settings, ...patch.settings }
    const origins = patch.origins ?? site.origins
    const update = updateSiteConfig(c.env.DB, site.id, origins, settings)
    // A new `edge` section (null turns it off) moves the site's hosts with its settings, in one batch.
    const edge = patch.settings && 'edge' in patch.settings ? (patch.settings.edge?.hosts ?? []) : null
    const before = edge ? (await siteHosts(c.env.DB, site.id)).results.map((r) => r.host) : []
    if (edge) {
      const taken = (await claimedHosts(c.env.DB, site.id, edge)).results.map((r) => r.host)
      if (taken.length) throw new HTTPException(409, { message: `another site serves ${taken.join(', ')}` })
      await c.env.DB.batch([update, ...replaceHosts(c.env.DB, site.id, edge)])
    } else await update.run()
    await Promise.all([
      c.env.CACHE.delete(CACHE_KEYS.site(site.id)),
      c.env.CACHE.delete(CACHE_KEYS.population(site.id)),
      ...[...new Set([...before, ...(edge ?? [])])].map((host) => c.env.CACHE.delete(CACHE_KEYS.edgeHost(host))),
    ])
    return c.json({ origins, settings, identitySecret: Boolean(site.identitySecret) })
  })
  .post('/:site/keys/:which/rotate', async (c) => {
    const which = c.req.param('which')
    const { id } = c.var.site
    if (which === 'identity') {
      // Creates the identity secret, or replaces it: signatures made with the old one stop holding once the cached site row expires (60 s).
      const secret = randomId(`is_${id}`, 32)
      await setIdentitySecret(c.env.DB, id, await seal(c.env.IDENTITY_KEK, id, secret))
      await c.env.CACHE.delete(CACHE_KEYS.site(id))
      return c.json({ which, key: secret })
    }
    if (which !== 'public' && which !== 'admin') return c.json({ error: 'key must be public, admin or identity' }, 404)
    const key = randomId(`${which === 'admin' ? 'sk' : 'pk'}_${id}`, 24)
    await setKeyHash(c.env.DB, id, which, await hashKey(key))
    await c.env.CACHE.delete(CACHE_KEYS.site(id))
    // Shown once: only its digest is kept.
    return c.json({ which, key })
  })
  .post('/:site/identify', async (c) => {
    // Server to server: the admin key vouches for every id, so each one links.
    const body = await readJson(c.req.raw, MAX_SHOPPER_BODY_BYTES)
    const { anonymousId, ...rest } = validate(adminIdentifyBody, body, 'invalid identify request')
    const ids = [...(anonymousId ? [{ kind: 'anonymous' as const, value: anonymousId }] : []), ...namedIds(rest)]
    if (ids.length < 2)
      throw invalid('invalid identify request', [{ path: '', message: 'name at least two ids to link' }])
    const uid = await linkVerified(c.var.db, c.var.site.id, ids, "linked by the site's backend", Date.now())
    return c.json({ uid, identities: await identitiesOf(c.var.db, c.var.site.id, uid) })
  })
  .delete('/:site/catalog/:id', async (c) => {
    if (!(await deleteItem(c.var.db, c.var.site.id, c.req.param('id'))))
      return c.json({ error: `no item ${c.req.param('id')}` }, 404)
    await catalogChanged(c.env, c.var.site.id)
    return c.body(null, 204)
  })
  .patch('/:site/catalog/stock', async (c) => {
    const { items } = validate(stockPatch, await readJson(c.req.raw, MAX_STOCK_BYTES), 'invalid stock update')
    const updated = await setStock(c.var.db, c.var.site.id, items, Date.now())
    if (updated > 0) await catalogChanged(c.env, c.var.site.id)
    return c.json({ updated, unknown: items.length - updated })
  })
  .get('/:site/reports', async (c) => {
    const range = validate(reportRange, c.req.query(), 'invalid report range')
    const [from, to] = [Date.parse(range.from), Date.parse(range.to) + 86_400_000 - 1]
    const id = c.var.site.id
    const [[offers, credited], [shown, bought], groups] = await Promise.all([
      actionReport(c.var.db, id, from, to),
      recommendationReport(c.var.db, id, from, to),
      holdoutGroups(c.var.db, id, from, to),
    ])
    type Counts = Parameters<typeof mergeRows>[0]
    const rows = (r: D1Result | undefined) => (r?.results ?? []) as Counts
    const group = (holdout: number) => groups.find((g) => g.holdout === holdout) ?? { shoppers: 0, converted: 0 }
    return c.json({
      from: range.from,
      to: range.to,
      actions: mergeRows(rows(offers), rows(credited)),
      recommendations: mergeRows(rows(shown), rows(bought)),
      uplift: uplift(group(0), group(1)),
    })
  })
  .post('/:site/preview', async (c) => {
    const preview = validate(previewBody, await readJson(c.req.raw, MAX_ADMIN_BODY_BYTES), 'invalid preview')
    const action = validate(actionSchema, preview.action, 'invalid action', 'action')
    const { site } = c.var
    const now = Date.now()
    // Who would be eligible: the condition against recent shoppers' profiles (no page, no caps).
    const sample = await recentVisitors(c.var.db, site.id, PREVIEW_SAMPLE)
    const counts = new Map<string, number>()
    let matched = 0
    for (const anonymousId of sample) {
      const customer = await customerView(c.env, site, anonymousId, now)
      const [check] = eligible([action], decisionContext(customer), [], DEFAULT_POLICY, now)
      if (!check?.eligible) continue
      matched++
      for (const segment of customer.view.segments) counts.set(segment, (counts.get(segment) ?? 0) + 1)
    }
    const population = {
      sampled: sample.length,
      eligible: matched,
      share: sample.length > 0 ? matched / sample.length : 0,
      segments: [...counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([id, shoppers]) => ({ id, shoppers })),
    }
    if (!preview.anonymousId) return c.json({ action: action, population })
    // What this shopper would see now, among the saved actions and this one (nothing is logged).
    const customer = await customerView(c.env, site, preview.anonymousId, now)
    const context = decisionContext(customer, preview.context)
    const saved = savedActions((await listActions(c.var.db, site.id).all<{ definition: string }>()).results).filter(
      (a) => a.id !== action.id,
    )
    const [check] = eligible([action], context, [], { ...DEFAULT_POLICY, ...site.settings?.decide?.policy }, now)
    const decision = decide({
      actions: [...saved, action],
      context,
      contacts: [],
      policy: { ...DEFAULT_POLICY, ...site.settings?.decide?.policy },
      arms: {},
      segmentKey: customer.view.lifecycle,
      holdoutShare: 0,
      unitId: preview.anonymousId,
      placement: action.placement,
      now,
      rng: Math.random,
    })
    return c.json({
      action: action,
      population,
      shopper: {
        anonymousId: preview.anonymousId,
        segments: customer.view.segments,
        eligible: check?.eligible ?? false,
        why: check?.eligible ? check.held : [check?.why ?? ''],
        wouldSee: { action: decision.action?.id ?? null, reasons: decision.reasons, trace: decision.trace },
      },
    })
  })
  .get('/:site/segments', async (c) => {
    const query = validate(segmentsQuery, c.req.query(), 'invalid query')
    const now = Date.now()
    const since = new Date(now - (query.days - 1) * 86_400_000).toISOString().slice(0, 10)
    let rows = await segmentSizes(c.var.db, c.var.site.id, since)
    // Today's sizes are counted on first request when the daily cron has not run yet (not while the
    // site moves: its rows must not change under the copy).
    if (!rows.some((r) => r.day === new Date(now).toISOString().slice(0, 10)) && !isMoving(c.var.site)) {
      await snapshotSegments(c.env, c.var.site, now)
      rows = await segmentSizes(c.var.db, c.var.site.id, since)
    }
    const days = [...new Set(rows.map((r) => r.day))].map((day) => ({
      day,
      sampled: rows.find((r) => r.day === day)!.sampled,
      sizes: rows.filter((r) => r.day === day).map(({ segment, shoppers }) => ({ segment, shoppers })),
    }))
    return c.json({ days, sampled: days.at(-1)?.sampled ?? 0 })
  })
  .get('/:site/profiles/:anonymousId', async (c) => {
    const customer = await customerView(c.env, c.var.site, c.req.param('anonymousId'), Date.now())
    return c.json({
      ...profileAnswer(customer),
      unverified: await claimsOf(c.var.db, c.var.site.id, customer.browsers),
    })
  })
