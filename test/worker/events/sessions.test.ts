// A browser's session count: each session counted once, on the day it began, however its events
// arrive, and still counted once its row has left D1 with its raw events.
import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { makeEvent } from '../../fixtures/events'
import { seedTestSite, storeAsReceived, testSite } from '../helpers'

const site = testSite('sessions')
const DAY = 86_400_000
const midnight = (Math.floor(Date.now() / DAY) - 3) * DAY

const view = (anonymousId: string, sessionId: string, ts: number) =>
  makeEvent('Product Viewed', { product_id: 'tea-1' }, { anonymousId, sessionId, timestamp: ts })
const counts = async (anonymousId: string) => {
  const days = await env.DB.prepare(
    'SELECT day, sessions FROM visitor_days WHERE site_id = ? AND anonymous_id = ? ORDER BY day',
  )
    .bind(site.id, anonymousId)
    .all<{ day: number; sessions: number }>()
  const visitor = await env.DB.prepare('SELECT sessions FROM visitors WHERE site_id = ? AND anonymous_id = ?')
    .bind(site.id, anonymousId)
    .first<{ sessions: number }>()
  return { days: days.results.map((d) => [d.day - midnight / DAY, d.sessions]), sessions: visitor?.sessions }
}

beforeAll(() => seedTestSite(site))

describe('session counts', () => {
  it('counts a session once across batches, and moves it when an earlier event arrives later', async () => {
    // Five past midnight first, then five to midnight the day before: the session began the day before.
    await storeAsReceived([view('night-owl', 's1', midnight + 5 * 60_000)], site)
    await storeAsReceived([view('night-owl', 's1', midnight + 6 * 60_000)], site)
    expect(await counts('night-owl')).toEqual({ days: [[0, 1]], sessions: 1 })
    await storeAsReceived([view('night-owl', 's1', midnight - 5 * 60_000)], site)
    expect(await counts('night-owl')).toEqual({
      days: [
        [-1, 1],
        [0, 0],
      ],
      sessions: 1,
    })
    await storeAsReceived([view('night-owl', 's2', midnight + 3_600_000)], site)
    expect(await counts('night-owl')).toEqual({
      days: [
        [-1, 1],
        [0, 1],
      ],
      sessions: 2,
    })
  })

  it('keeps the count once the session rows have left D1', async () => {
    await storeAsReceived([view('archived', 'a1', midnight + 1000), view('archived', 'a2', midnight + 2000)], site)
    await env.DB.prepare('DELETE FROM sessions WHERE site_id = ? AND anonymous_id = ?').bind(site.id, 'archived').run()
    await storeAsReceived([view('archived', 'a3', midnight + DAY)], site)
    expect(await counts('archived')).toEqual({
      days: [
        [0, 2],
        [1, 1],
      ],
      sessions: 3,
    })
  })
})
