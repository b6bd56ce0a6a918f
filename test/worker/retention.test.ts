import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import app from '../../worker/app'
import { loadSite } from '../../worker/http/site-auth'
import { IDLE_BROWSER_DAYS, sweepSite } from '../../worker/retention/sweep'
import { makeEvent, SITE } from '../fixtures/events'
import { seedSite, storeAsReceived } from './helpers'

const DAY = 86_400_000
const NOW = Date.now()
const ago = (days: number) => NOW - days * DAY

/** Rows of the test site in a table (optionally only one browser's). */
const rows = async (table: string, where = '1') =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE site_id = ? AND ${where}`)
    .bind(SITE.id)
    .first<{ n: number }>())!.n

/** Browses, buys and rates `days` ago as `anonymousId`, leaving rows in every shopper table. */
async function shop(anonymousId: string, days: number, n = 4) {
  const at = ago(days)
  const events = Array.from({ length: n }, (_, i) =>
    makeEvent('Product Viewed', { product_id: `p${i}`, category: 'tea' }, { anonymousId, timestamp: at + i * 1000 }),
  )
  events.push(
    makeEvent(
      'Order Completed',
      { order_id: `o-${anonymousId}-${days}`, revenue: 10, products: [{ product_id: 'p0' }] },
      { anonymousId, timestamp: at + n * 1000 },
    ),
  )
  await storeAsReceived(events)
  const insert = (sql: string, ...values: unknown[]) =>
    env.DB.prepare(sql)
      .bind(SITE.id, ...values)
      .run()
  await insert(
    "INSERT OR IGNORE INTO decisions (site_id, id, anonymous_id, placement, action_id, segment_key, probability, propensity, holdout, context, created_at) VALUES (?, ?, ?, 'top', NULL, 'new', 1, 1, 0, '{}', ?)",
    `d-${anonymousId}-${days}`,
    anonymousId,
    at,
  )
  await insert(
    "INSERT OR IGNORE INTO recommendations (site_id, id, anonymous_id, strategy, items, created_at) VALUES (?, ?, ?, 'for-you', '[]', ?)",
    `r-${anonymousId}-${days}`,
    anonymousId,
    at,
  )
  await insert(
    "INSERT INTO identities (site_id, kind, value, uid, linked_at) VALUES (?, 'anonymous', ?, ?, ?) ON CONFLICT DO NOTHING",
    anonymousId,
    `uid-${anonymousId}`,
    at,
  )
  await insert(
    "INSERT INTO identities (site_id, kind, value, uid, linked_at) VALUES (?, 'user', ?, ?, ?) ON CONFLICT DO NOTHING",
    `user-${anonymousId}`,
    `uid-${anonymousId}`,
    at,
  )
  await insert(
    "INSERT INTO identity_log (site_id, at, action, kind, value, from_uid, to_uid, reason) VALUES (?, ?, 'link', 'user', ?, NULL, ?, 'test')",
    at,
    `user-${anonymousId}`,
    `uid-${anonymousId}`,
  )
  await insert(
    "INSERT OR IGNORE INTO claims (site_id, anonymous_id, kind, value, claimed_at) VALUES (?, ?, 'crm', ?, ?)",
    anonymousId,
    `crm-${anonymousId}-${days}`,
    at,
  )
}

beforeEach(async () => {
  await seedSite(undefined, { retentionDays: 30 })
  await shop('gone', 90) // everything older than 30 days
  await shop('mixed', 60, 3) // old visit and a recent one
  await shop('mixed', 2, 2)
  await shop('recent', 1)
})

describe('retention', () => {
  it('deletes rows older than the retention period in bounded chunks, and catches up over runs', async () => {
    const site = (await loadSite(env, SITE.id))!
    const oldEvents = await rows('events', `ts < ${ago(30)}`)
    expect(oldEvents).toBe(5 + 4)
    const recentEvents = await rows('events', `ts >= ${ago(30)}`)
    const itemStats = await rows('item_stats')

    // Two chunks of 3 rows per table: not enough for 9 old events, so the sweep says it is not done.
    const first = await sweepSite(env.DB, site, NOW, 3, 2)
    expect(first).toMatchObject({ done: false, deleted: { events: 6 } })
    expect(await rows('events', `ts < ${ago(30)}`)).toBe(3)

    const rest = await sweepSite(env.DB, site, NOW, 3, 10)
    expect(rest.done).toBe(true)
    expect(rest.deleted.events).toBe(3)
    expect(await rows('events', `ts < ${ago(30)}`)).toBe(0)
    expect(await rows('events')).toBe(recentEvents)
    for (const table of ['decisions', 'recommendations']) expect(await rows(table, `created_at < ${ago(30)}`)).toBe(0)
    expect(await rows('visitor_items', `last_ts < ${ago(30)}`)).toBe(0)
    expect(await rows('identity_log', `at < ${ago(30)}`)).toBe(0)
    expect(await rows('claims', `claimed_at < ${ago(30)}`)).toBe(0)
    expect(await rows('claims')).toBe(2) // mixed's and recent's recent claims

    // The browser seen only long ago is gone with its identifiers; the mixed one keeps a summary of what is left.
    expect(await rows('visitors', "anonymous_id = 'gone'")).toBe(0)
    expect(await rows('identities', "uid = 'uid-gone'")).toBe(0)
    const mixed = await env.DB.prepare(
      "SELECT events, orders, first_seen FROM visitors WHERE site_id = ? AND anonymous_id = 'mixed'",
    )
      .bind(SITE.id)
      .first()
    expect(mixed).toMatchObject({ events: 3, orders: 1 })
    expect(mixed!.first_seen as number).toBeGreaterThanOrEqual(ago(30))
    expect(await rows('identities', "uid = 'uid-mixed'")).toBe(2)
    expect(await rows('visitors', "anonymous_id = 'recent'")).toBe(1)
    // Aggregates that name no shopper are kept.
    expect(await rows('item_stats')).toBe(itemStats)
  })

  it('keeps everything when nothing is older than the period', async () => {
    const site = (await loadSite(env, SITE.id))!
    const before = await rows('events')
    const sweep = await sweepSite(env.DB, { ...site, settings: { retentionDays: 365 } }, NOW)
    expect(sweep.done).toBe(true)
    expect(Object.values(sweep.deleted).every((n) => n === 0)).toBe(true)
    expect(await rows('events')).toBe(before)
  })

  it('forgets anonymous browsers idle past IDLE_BROWSER_DAYS that never ordered and were never linked, keeping their days', async () => {
    const site = (await loadSite(env, SITE.id))!
    const idle = IDLE_BROWSER_DAYS + 5
    const visit = (anonymousId: string, days: number) =>
      storeAsReceived(
        ['p1', 'p2'].map((p, i) =>
          makeEvent('Product Viewed', { product_id: p }, { anonymousId, timestamp: ago(days) + i * 1000 }),
        ),
      )
    await visit('idle', idle)
    await visit('lately', IDLE_BROWSER_DAYS - 5)
    await visit('linked', idle)
    await env.DB.prepare(
      "INSERT INTO identities (site_id, kind, value, uid, linked_at) VALUES (?, 'anonymous', 'linked', 'uid-linked', ?)",
    )
      .bind(SITE.id, ago(idle))
      .run()
    await shop('buyer', idle) // ordered; its own identities are removed by hand below, so only the order keeps it
    await env.DB.prepare("DELETE FROM identities WHERE site_id = ? AND uid = 'uid-buyer'").bind(SITE.id).run()
    const sweep = await sweepSite(env.DB, { ...site, settings: { retentionDays: 395 } }, NOW)
    expect(sweep.done).toBe(true)
    expect(sweep.deleted).toMatchObject({ idleItems: 2, idleVisitors: 1 })
    for (const [browser, kept] of [
      ['idle', 0],
      ['lately', 1],
      ['linked', 1],
      ['buyer', 1],
    ] as const) {
      expect(await rows('visitors', `anonymous_id = '${browser}'`), browser).toBe(kept)
    }
    expect(await rows('visitor_items', "anonymous_id = 'idle'")).toBe(0)
    expect(await rows('visitor_items', "anonymous_id = 'lately'")).toBe(2)
    expect(await rows('visitor_items', "anonymous_id = 'buyer'")).toBe(4)
    // Its days stay: they list the archive objects an export or erasure of this browser must find.
    expect(await rows('visitor_days', "anonymous_id = 'idle'")).toBe(1)
  })

  it("keeps a browser's first visit from its days once its sessions have left D1 for the archive", async () => {
    const site = (await loadSite(env, SITE.id))!
    await storeAsReceived(
      [40, 10, 2].map((days) =>
        makeEvent('Product Viewed', { product_id: 'p1' }, { anonymousId: 'regular', timestamp: ago(days) }),
      ),
    )
    // The archive took the sessions of the older visits with their raw events; only the latest is in D1.
    await env.DB.prepare("DELETE FROM sessions WHERE site_id = ? AND anonymous_id = 'regular' AND started_at < ?")
      .bind(SITE.id, ago(5))
      .run()
    await sweepSite(env.DB, site, NOW)
    const regular = await env.DB.prepare(
      "SELECT first_seen FROM visitors WHERE site_id = ? AND anonymous_id = 'regular'",
    )
      .bind(SITE.id)
      .first<{ first_seen: number }>()
    expect(regular).toEqual({ first_seen: Math.floor(ago(10) / DAY) * DAY })
  })

  it('runs in the daily cron', async () => {
    const ctx = createExecutionContext()
    await app.scheduled(createScheduledController({ cron: '30 3 * * *' }), env, ctx)
    await waitOnExecutionContext(ctx)
    expect(await rows('events', `ts < ${ago(30)}`)).toBe(0)
    expect(await rows('events')).toBeGreaterThan(0)
  })
})
