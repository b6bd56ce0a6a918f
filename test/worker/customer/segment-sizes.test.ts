import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertSite } from '../../../worker/admin/store'
import { segmentSizes } from '../../../worker/customer/store'
import app from '../../../worker/app'
import { hashKey } from '../../../worker/http/site-auth'
import { makeEvent, SITE } from '../../fixtures/events'
import { batch, postEvents } from '../helpers'

const ADMIN = 'sk_segments_0123456789'
const TODAY = new Date().toISOString().slice(0, 10)

beforeAll(async () => {
  await upsertSite(env.DB, {
    id: SITE.id,
    name: 'T',
    keyHash: await hashKey(SITE.key),
    adminKeyHash: await hashKey(ADMIN),
    origins: [SITE.origin],
  })
  await postEvents(
    batch([
      makeEvent('Page Viewed', {}, { anonymousId: 's1' }),
      makeEvent('Page Viewed', {}, { anonymousId: 's2' }),
      makeEvent(
        'Order Completed',
        { order_id: 'ss-1', revenue: 20, products: [{ product_id: 'x' }] },
        { anonymousId: 's3' },
      ),
    ]),
  )
})

describe('segment sizes', () => {
  it('are snapshotted daily by the cron for every site', async () => {
    const ctx = createExecutionContext()
    await app.scheduled(createScheduledController({ cron: '30 3 * * *' }), env, ctx)
    await waitOnExecutionContext(ctx)
    const rows = await segmentSizes(env.DB, SITE.id, TODAY)
    expect(rows.find((r) => r.segment === 'new')).toMatchObject({ day: TODAY, shoppers: 3, sampled: 3 })
    expect(rows.find((r) => r.segment === 'prospect')).toMatchObject({ shoppers: 2 })
  })

  it('are served by day to the admin, counted on demand when today has none', async () => {
    await env.DB.prepare('DELETE FROM segment_sizes').run()
    const res = await app.request(
      `/v1/admin/${SITE.id}/segments?days=7`,
      { headers: { Authorization: `Bearer ${ADMIN}` } },
      env,
    )
    const body = (await res.json()) as {
      days: Array<{ day: string; sizes: Array<{ segment: string; shoppers: number }> }>
      sampled: number
    }
    expect(body.sampled).toBe(3)
    expect(body.days.map((d) => d.day)).toEqual([TODAY])
    expect(body.days[0]!.sizes).toEqual(
      expect.arrayContaining([
        { segment: 'new', shoppers: 3 },
        { segment: 'prospect', shoppers: 2 },
      ]),
    )
  })
})
