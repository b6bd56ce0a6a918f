import { env } from 'cloudflare:test'
import type { VistaEvent } from '../../contract'
import { storeEvents } from '../../worker/events/store'
import { readBatch } from '../../worker/events/ingest'
import { bufferOf } from '../../worker/events/buffer'
import { SITE } from '../fixtures/events'
import { setIdentitySecret, upsertSite } from '../../worker/admin/store'
import { seal, sign } from '../../worker/identity/verification'
import { hashKey } from '../../worker/http/site-auth'
import app from '../../worker/app'
import { CACHE_KEYS } from '../../worker/http/cache-keys'

/** A catalog row as upsertItems takes it: in stock, no image or description unless `more` gives them. */
export const catalogRow = (id: string, title: string, category: string, price: number, more: object = {}) => ({
  id,
  title,
  category,
  price,
  image: null as string | null,
  description: null as string | null,
  in_stock: 1,
  ...more,
})

/** Registers the test site with its hashed key and allowed origins. */
export const seedSite = async (origins = [SITE.origin, 'http://localhost:*'], settings: object = {}) =>
  upsertSite(env.DB, { id: SITE.id, name: 'Test shop', keyHash: await hashKey(SITE.key), origins, settings })

/** Folds everything the site's event buffer holds into D1, as its alarm would a moment later. */
export const settle = (siteId: string) => bufferOf(env, siteId).drain()

/** POSTs `body` to /v1/events as the SDK would (text/plain, allowed Origin), then settles the buffer. */
export async function postEvents(body: unknown, headers: Record<string, string> = {}) {
  const res = await app.request(
    '/v1/events',
    {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: SITE.origin, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
    env,
  )
  if (res.ok) await settle(SITE.id)
  return res
}

/** A batch envelope for the test site. */
export const batch = (events: unknown[], sentAt = Date.now()) => ({ site: SITE.id, key: SITE.key, sentAt, events })

/** Number of stored events of the test site. */
export const countEvents = async () =>
  (await env.DB.prepare('SELECT COUNT(*) AS n FROM events WHERE site_id = ?').bind(SITE.id).first<{ n: number }>())!.n

/** Stores past events of `site` as if each had been received when it happened (as a replay does). */
export async function storeAsReceived(events: VistaEvent[], site: { id: string; key: string } = SITE) {
  for (const e of events) {
    const batch = readBatch({ site: site.id, key: site.key, sentAt: e.timestamp, events: [e] }, e.timestamp)
    if (!batch.ok) throw new Error(JSON.stringify(batch.issues))
    await storeEvents(env.DB, site.id, batch.value.rows)
  }
}

/** A site of a test's own: its id, public and admin keys, and its one allowed origin. */
export interface TestSite {
  id: string
  key: string
  admin: string
  origin: string
}

/** Keys and origin for a site named `id` (ids unique to a test file keep state from leaking between files). */
export const testSite = (id: string): TestSite => ({
  id,
  key: `pk_${id}_0123456789abcdef`,
  admin: `sk_${id}_fedcba9876543210`,
  origin: `https://${id}.example`,
})

/** Registers `site` with its hashed public and admin keys, on `shard` (a new site's default: DB). */
export const seedTestSite = async (site: TestSite, shard?: string) =>
  upsertSite(env.DB, {
    id: site.id,
    name: site.id,
    keyHash: await hashKey(site.key),
    adminKeyHash: await hashKey(site.admin),
    origins: [site.origin],
    shard,
  })

/** A batch envelope for `site`. */
export const batchFor = (site: TestSite, events: unknown[]) => ({
  site: site.id,
  key: site.key,
  sentAt: Date.now(),
  events,
})

/** The identity secret test sites are given by `giveIdentitySecret`. */
export const IDENTITY_SECRET = 'is_test_0123456789abcdef0123456789abcdef'

/** Gives a site an identity secret, sealed as the admin API seals it, and drops its cached row. */
export async function giveIdentitySecret(siteId: string, secret = IDENTITY_SECRET) {
  await setIdentitySecret(env.DB, siteId, await seal(env.IDENTITY_KEK, siteId, secret))
  await env.CACHE.delete(CACHE_KEYS.site(siteId))
}

/** The `signatures` of an identify body for each id it names, as the site's backend computes them. */
export async function signIds(
  ids: { userId?: string; crmId?: string; loyaltyId?: string; emailHash?: string },
  secret = IDENTITY_SECRET,
) {
  const kinds = { userId: 'user', crmId: 'crm', loyaltyId: 'loyalty', emailHash: 'email' } as const
  const signatures: Record<string, string> = {}
  for (const [field, kind] of Object.entries(kinds)) {
    const value = ids[field as keyof typeof kinds]
    if (value) signatures[kind] = await sign(secret, { kind, value })
  }
  return signatures
}

/** A request to the app from one test site's allowed origin (JSON body when given). */
export async function sendFor(s: TestSite, method: string, path: string, body?: unknown) {
  const res = await app.request(
    path,
    { method, headers: { Origin: s.origin }, body: body === undefined ? undefined : JSON.stringify(body) },
    env,
  )
  if (path === '/v1/events' && res.ok) await settle(s.id)
  return res
}
/** A request to one test site's admin API with its admin key. */
export const adminFor = (s: TestSite, method: string, path: string, body?: unknown) =>
  app.request(
    `/v1/admin/${s.id}${path}`,
    {
      method,
      headers: { Authorization: `Bearer ${s.admin}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
    env,
  )
/** A public query string for one test site. */
export const queryFor = (s: TestSite, params: Record<string, string>) =>
  new URLSearchParams({ site: s.id, key: s.key, ...params })

/** The ids a browser may name besides its own. */
export type ClaimedIds = { userId?: string; crmId?: string; loyaltyId?: string; emailHash?: string }

/** POST /v1/identify for a browser of a test site, with the ids it names and their signatures; status and body. */
export async function identifyFor(
  s: TestSite,
  anonymousId: string,
  ids: ClaimedIds,
  signatures?: Record<string, string>,
) {
  const res = await sendFor(s, 'POST', '/v1/identify', {
    site: s.id,
    key: s.key,
    anonymousId,
    ...ids,
    ...(signatures ? { signatures } : {}),
  })
  return {
    status: res.status,
    body: (await res.json()) as {
      uid: string | null
      identities: Array<{ kind: string; value: string }>
      unverified: Array<{ kind: string; value: string }>
      error?: string
    },
  }
}
