// 4. A shop's traffic stored the production way, then archived: bytes D1 keeps per event and rows it
// writes, with a session mix like a shop's rather than the load test's, on a fresh local state.
import { rm } from 'node:fs/promises'
import type { VistaEvent } from '../../../contract'
import { upsertItems, upsertSite } from '../../../worker/admin/store'
import { archiveSite } from '../../../worker/events/archive'
import { readBatch } from '../../../worker/events/ingest'
import { storeEvents } from '../../../worker/events/store'
import { FLUSH_MAX_EVENTS } from '../../../worker/events/tunables'
import { hashKey, loadSite } from '../../../worker/http/site-auth'
import { IDLE_BROWSER_DAYS, sweepSite } from '../../../worker/retention/sweep'
import { migratedState } from '../../e2e/server'
import { makeEvent } from '../../fixtures/events'
import { benchCatalog, benchItem, random, withLocalEnv, zipf } from '../load'
import { openLocalD1, tableBytes } from '../local-d1'

const SITE = 'shop-day'
const ITEMS = 1_000
const CATEGORIES = 20
/** Share of sessions from a shopper seen before, and orders per session (a 3% conversion rate). */
const RETURNING = 0.2
const CONVERSION = 0.03

/**
 * `sessions` sessions of 10 events each, numbered from `first`, spread over the day that starts at `day`
 * (or stamped now): 3 page views, 4 product views (Zipf over the catalog), an add
 * to cart half the time, a recommendation shown, a click on it a fifth of the time, an order 3% of the time.
 */
export function shopSessions(sessions: number, day: number | null, first = 0): VistaEvent[][] {
  const rand = random(sessions + first)
  const item = zipf(ITEMS, 1, rand)
  // Ids as the SDK makes them (128 random bits as hex): their length is most of a shopper row's bytes.
  const newId = () =>
    Array.from({ length: 4 }, () =>
      Math.floor(rand() * 2 ** 32)
        .toString(16)
        .padStart(8, '0'),
    ).join('')
  const shoppers: string[] = []
  return Array.from({ length: sessions }, (_, s) => {
    const returning = shoppers.length > 0 && rand() < RETURNING
    const anonymousId = returning ? shoppers[Math.floor(rand() * shoppers.length)]! : newId()
    if (!returning) shoppers.push(anonymousId)
    const who = { anonymousId, sessionId: newId() }
    const at = day === null ? Date.now() - 200_000 : day + Math.floor(rand() * 80_000_000)
    const views = Array.from({ length: 4 }, () => benchItem(item(), CATEGORIES))
    const product = (i: number) => ({ product_id: views[i]!.id, category: views[i]!.category, price: 10 })
    const rec = `rec-${first + s}`
    const events: VistaEvent[] = [
      makeEvent('Page Viewed', { page_type: 'home' }, who),
      makeEvent('Recommendation Shown', { recommendation_id: rec, product_ids: views.map((v) => v.id) }, who),
      ...views.map((_, i) => makeEvent('Product Viewed', product(i), who)),
      makeEvent('Page Viewed', { page_type: 'category' }, who),
      rand() < 0.5
        ? makeEvent('Product Added', { ...product(0), quantity: 1 }, who)
        : makeEvent('Page Viewed', { page_type: 'search' }, who),
      rand() < 0.2
        ? makeEvent('Recommendation Clicked', { recommendation_id: rec, product_id: views[1]!.id }, who)
        : makeEvent('Page Viewed', { page_type: 'product' }, who),
      rand() < CONVERSION
        ? makeEvent(
            'Order Completed',
            { order_id: `o-${s}`, revenue: 10, products: [{ ...product(0), quantity: 1 }] },
            who,
          )
        : makeEvent('Page Viewed', { page_type: 'cart' }, who),
    ]
    return events.map((e, i) => ({ ...e, id: newId(), timestamp: at + i * 20_000 }))
  })
}

/**
 * What D1 holds per event once `sessions` were stored, once the archive took what it takes, and
 * once retention forgot the idle anonymous browsers.
 */
export async function storeShopDay(sessions: VistaEvent[][]) {
  const persistTo = await migratedState('vista-shop-day-')
  const events = sessions.flat()
  try {
    const day = Math.min(...events.map((e) => e.timestamp))
    const rowsWritten = await withLocalEnv(persistTo, async (env) => {
      await upsertSite(env.DB, { id: SITE, name: SITE, keyHash: await hashKey('pk_shop_day'), origins: [] })
      await upsertItems(env.DB, SITE, benchCatalog(ITEMS, CATEGORIES))
      const rows = sessions.flatMap((batch) => {
        const at = batch.at(-1)!.timestamp
        const parsed = readBatch({ site: SITE, key: 'pk_shop_day', sentAt: at, events: batch }, at)
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
        return parsed.value.rows
      })
      let written = 0
      for (let i = 0; i < rows.length; i += FLUSH_MAX_EVENTS) {
        written += (await storeEvents(env.DB, SITE, rows.slice(i, i + FLUSH_MAX_EVENTS))).rowsWritten
      }
      return written
    })
    const measure = async () => {
      const d1 = await openLocalD1(persistTo, SITE)
      try {
        d1.exec('VACUUM')
        return tableBytes(d1)
      } finally {
        d1.close()
      }
    }
    const stored = await measure()
    // Three days later the cron has moved what the archive takes (to the local R2).
    const archived = await withLocalEnv(persistTo, async (env) => {
      let moved = 0
      for (let run = 0; run < 100; run++) {
        const r = await archiveSite(env, env.DB, SITE, day + 3 * 86_400_000 + 86_400_000)
        moved += r.events
        if (r.done) break
      }
      return moved
    })
    const kept = await measure()
    // Once IDLE_BROWSER_DAYS have passed, retention forgets the browsers that never came back, never
    // ordered and never logged in: what is left stays for the whole retention period.
    await withLocalEnv(persistTo, async (env) => {
      const site = (await loadSite(env, SITE))!
      const later = day + (IDLE_BROWSER_DAYS + 2) * 86_400_000
      const sweep = await sweepSite(env.DB, { ...site, settings: { retentionDays: 395 } }, later, 5_000, 1_000)
      if (!sweep.done) throw new Error('the sweep did not finish')
    })
    return { events: events.length, rowsWritten, stored, kept, lasting: await measure(), archived }
  } finally {
    await rm(persistTo, { recursive: true, force: true })
  }
}
