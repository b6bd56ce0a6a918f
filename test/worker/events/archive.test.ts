import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { VistaEvent } from '../../../contract'
import {
  ARCHIVE_AFTER_MS,
  archiveKey,
  archivePrefix,
  archiveSite,
  expireArchive,
  KEPT_IN_D1,
} from '../../../worker/events/archive'
import { makeEvent } from '../../fixtures/events'
import { adminFor, seedTestSite, sendFor, storeAsReceived, testSite } from '../helpers'

const site = testSite('archive')
const DAY = 86_400_000
const now = Date.now()
const threeDaysAgo = now - 3 * DAY

const at = <E extends VistaEvent>(e: E, ts: number) => ({ ...e, timestamp: ts })
const inD1 = async () =>
  (
    await env.DB.prepare('SELECT id FROM events WHERE site_id = ? ORDER BY id').bind(site.id).all<{ id: string }>()
  ).results.map((r) => r.id)
const objects = async () => (await env.ARCHIVE.list({ prefix: archivePrefix(site.id) })).objects.map((o) => o.key)
const linesOf = async (key: string) =>
  (await (await env.ARCHIVE.get(key))!.text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; anonymous_id: string; context: { page: { path: string } } | null })
const sessionsInD1 = async () =>
  (
    await env.DB.prepare('SELECT session_id FROM sessions WHERE site_id = ? ORDER BY 1')
      .bind(site.id)
      .all<{ session_id: string }>()
  ).results.map((r) => r.session_id)

const ana = { anonymousId: 'ana', sessionId: 'ana-1' }
const ben = { anonymousId: 'ben', sessionId: 'ben-1' }
const anaViews = [0, 1, 2].map((i) =>
  at(makeEvent('Product Viewed', { product_id: `tea-${i}` }, ana), threeDaysAgo + i * 1000),
)
const benView = at(makeEvent('Product Viewed', { product_id: 'tea-0' }, ben), threeDaysAgo + 5000)
const anaOrder = at(
  makeEvent('Order Completed', { order_id: 'o-1', revenue: 9, products: [{ product_id: 'tea-0', quantity: 1 }] }, ana),
  threeDaysAgo + 6000,
)
const shown = at(
  makeEvent('Recommendation Shown', { recommendation_id: 'rec-1', product_ids: ['tea-1'] }, ana),
  threeDaysAgo + 7000,
)
const recent = makeEvent('Product Viewed', { product_id: 'tea-9' }, ana)
const archivedIds = [...anaViews, benView, shown].map((e) => e.id).sort()

const report = async () => {
  const day = new Date(threeDaysAgo).toISOString().slice(0, 10)
  const res = await adminFor(site, 'GET', `/reports?from=${day}&to=${day}`)
  return ((await res.json()) as { recommendations: Array<{ key: string; impressions: number }> }).recommendations
}

beforeAll(async () => {
  await seedTestSite(site)
  await env.DB.prepare(
    'INSERT INTO recommendations (site_id, id, anonymous_id, strategy, items, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
    .bind(site.id, 'rec-1', 'ana', 'for-you', '["tea-1"]', threeDaysAgo)
    .run()
  await storeAsReceived([...anaViews, benView, anaOrder, shown, at(recent, now - 1000)], site)
})

describe('the archive', () => {
  it('moves folded events past the hot window to one R2 object and keeps orders, offers and recent events in D1', async () => {
    const before = await report()
    expect(before).toEqual([expect.objectContaining({ key: 'for-you', impressions: 1 })])
    expect(await archiveSite(env, env.DB, site.id, now)).toEqual({ events: 5, objects: 1, done: true })
    expect(await inD1()).toEqual([anaOrder.id, recent.id].sort())
    const [key] = await objects()
    const day = Math.floor(threeDaysAgo / DAY)
    const ref = `${String(day).padStart(6, '0')}/${threeDaysAgo}-${anaViews[0]!.id}`
    expect(key).toBe(`${archivePrefix(site.id, day)}${threeDaysAgo}-${anaViews[0]!.id}.ndjson`)
    expect(archiveKey(site.id, ref)).toBe(key)
    const lines = await linesOf(key!)
    expect(lines.map((l) => l.id).sort()).toEqual(archivedIds)
    // Each line carries its session's context, so the session can leave D1 with its last raw event.
    expect(lines.map((l) => l.context?.page.path)).toEqual(lines.map(() => '/p/tea-01'))
    expect(await sessionsInD1()).toEqual(['ana-1'])
    const listed = await env.DB.prepare(
      'SELECT anonymous_id, archived, sessions FROM visitor_days WHERE site_id = ? AND day = ?',
    )
      .bind(site.id, day)
      .all<{ anonymous_id: string; archived: string; sessions: number }>()
    expect(listed.results.map((r) => [r.anonymous_id, JSON.parse(r.archived), r.sessions]).sort()).toEqual([
      ['ana', [ref], 1],
      ['ben', [ref], 1],
    ])
    const ben = await env.DB.prepare('SELECT sessions, events FROM visitors WHERE site_id = ? AND anonymous_id = ?')
      .bind(site.id, 'ben')
      .first()
    expect(ben).toEqual({ sessions: 1, events: 1 })
    // The report reads the rollup for what left D1: the same figures as before.
    expect(await report()).toEqual(before)
    // Nothing left to move: a second run writes nothing.
    expect(await archiveSite(env, env.DB, site.id, now)).toEqual({ events: 0, objects: 0, done: true })
  })

  it('exports archived events with the rest', async () => {
    const q = new URLSearchParams({ site: site.id, key: site.key, anonymousId: 'ana' })
    const res = await sendFor(site, 'GET', `/v1/privacy/export?${q}`)
    const body = (await res.json()) as { events: Array<{ id: string; path: string }> }
    expect(body.events.map((e) => e.id)).toEqual([...anaViews, anaOrder, shown, recent].map((e) => e.id))
    expect(body.events[0]!.path).toBe('/p/tea-01')
  })

  it('exports a session that left D1 from its archived events', async () => {
    const q = new URLSearchParams({ site: site.id, key: site.key, anonymousId: 'ben' })
    const body = (await (await sendFor(site, 'GET', `/v1/privacy/export?${q}`)).json()) as {
      sessions: Array<{ session_id: string; started_at: number; context: { device: string; page: { path: string } } }>
    }
    expect(body.sessions).toEqual([
      {
        session_id: 'ben-1',
        anonymous_id: 'ben',
        started_at: benView.timestamp,
        context: expect.objectContaining({ device: 'desktop', page: expect.objectContaining({ path: '/p/tea-01' }) }),
      },
    ])
  })

  it("erases a shopper's lines from the archive and leaves other shoppers' lines", async () => {
    const res = await sendFor(site, 'POST', '/v1/privacy/erase', { site: site.id, key: site.key, anonymousId: 'ana' })
    expect(res.status).toBe(200)
    const [key] = await objects()
    expect((await linesOf(key!)).map((l) => l.id)).toEqual([benView.id])
    expect(await inD1()).toEqual([])
  })

  it('deletes objects of days before the retention cutoff', async () => {
    expect(await expireArchive(env, site.id, threeDaysAgo)).toBe(0)
    expect(await objects()).toHaveLength(1)
    expect(await expireArchive(env, site.id, now)).toBe(1)
    expect(await objects()).toEqual([])
  })

  it('lists objects archived before migration 0017 by their ref, even when the first event id holds ".ndjson"', async () => {
    const update = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0017'))!.queries.find((q) =>
      q.includes('SET archived'),
    )!
    const legacy = `${archivePrefix(site.id, 20000)}1728000000000-x.ndjsonY.ndjson`
    await env.DB.prepare(
      "INSERT INTO visitor_days (site_id, anonymous_id, day, events, page_views, archived) VALUES (?, 'legacy', 20000, 1, 0, ?)",
    )
      .bind(site.id, JSON.stringify([legacy]))
      .run()
    await env.DB.prepare(update).run()
    const { archived } = (await env.DB.prepare(
      "SELECT archived FROM visitor_days WHERE site_id = ? AND anonymous_id = 'legacy'",
    )
      .bind(site.id)
      .first<{ archived: string }>())!
    expect(JSON.parse(archived)).toEqual(['020000/1728000000000-x.ndjsonY'])
    expect(archiveKey(site.id, JSON.parse(archived)[0])).toBe(legacy)
  })

  it('keeps in D1 exactly the types the partial index leaves out', async () => {
    const { sql } = (await env.DB.prepare("SELECT sql FROM sqlite_schema WHERE name = 'events_archivable'").first<{
      sql: string
    }>())!
    const listed = [...sql.matchAll(/'([^']+)'/g)].map((m) => m[1])
    expect(listed).toEqual([...KEPT_IN_D1])
    expect(ARCHIVE_AFTER_MS).toBe(2 * DAY)
  })
})
