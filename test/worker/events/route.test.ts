import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { MAX_BATCH_BYTES, MAX_BATCH_EVENTS, type ApiError } from '../../../contract'
import { findVisitor, listEvents, storeEvents } from '../../../worker/events/store'
import { readBatch } from '../../../worker/events/ingest'
import { makeEvent, SITE } from '../../fixtures/events'
import { batch, countEvents, postEvents, seedSite } from '../helpers'

const view = (id = 'tea-01') => makeEvent('Product Viewed', { product_id: id, category: 'tea', price: 9.5 })

beforeAll(() => seedSite())

describe('POST /v1/events', () => {
  it('stores a valid batch and answers how many were accepted', async () => {
    const events = [makeEvent('Page Viewed', { name: 'Home' }), view(), view('tea-02')]
    const before = await countEvents()
    const res = await postEvents(batch(events))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ accepted: 3, duplicates: 0 })
    expect(await countEvents()).toBe(before + 3)
    const stored = await listEvents(env.DB, SITE.id)
    expect(stored.filter((e) => events.some((x) => x.id === e.id)).map((e) => e.item_id)).toEqual([
      null,
      'tea-01',
      'tea-02',
    ])
  })

  it('stores a retried batch once and counts the repeats as duplicates', async () => {
    const events = [view(), view()]
    expect(await (await postEvents(batch(events))).json()).toEqual({ accepted: 2, duplicates: 0 })
    const before = await countEvents()
    const again = await Promise.all([postEvents(batch(events)), postEvents(batch(events))])
    for (const res of again) expect(await res.json()).toEqual({ accepted: 0, duplicates: 2 })
    expect(await countEvents()).toBe(before)
  })

  it('counts an id repeated inside one batch once', async () => {
    const event = view()
    expect(await (await postEvents(batch([event, event, event]))).json()).toEqual({
      accepted: 1,
      duplicates: 2,
    })
  })

  it('stores a full batch of the largest events, chunked to D1 statement limits', async () => {
    // Big enough that an unchunked insert would break both the 100-parameter and 100 KB limits.
    const description = 'x'.repeat(2000)
    const events = Array.from({ length: MAX_BATCH_EVENTS }, (_, i) =>
      makeEvent('Product Viewed', { product_id: `bulk-${i}`, description }),
    )
    expect(JSON.stringify(batch(events)).length).toBeLessThan(MAX_BATCH_BYTES)
    const binds: number[] = []
    const spy = new Proxy(env.DB, {
      get(target, prop) {
        if (prop !== 'prepare') return Reflect.get(target, prop).bind(target)
        return (sql: string) => {
          const statement = target.prepare(sql)
          return new Proxy(statement, {
            get(s, p) {
              if (p !== 'bind') return Reflect.get(s, p)
              return (...values: unknown[]) => {
                binds.push(values.length)
                expect(sql.length + values.reduce<number>((n, v) => n + String(v).length, 0)).toBeLessThan(100_000)
                return s.bind(...values)
              }
            },
          })
        }
      },
    })
    // The buffer's flush stores through storeEvents; it gets the spy here.
    const parsed = readBatch(batch(events), Date.now())
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    expect(await storeEvents(spy, SITE.id, parsed.value.rows)).toMatchObject({ inserted: MAX_BATCH_EVENTS })
    // One JSON parameter per statement: more than one statement, none over D1's limits.
    expect(binds.length).toBeGreaterThan(1)
    expect(Math.max(...binds)).toBeLessThanOrEqual(100)
  })

  it('corrects each timestamp by the client clock skew', async () => {
    const hourAhead = Date.now() + 3600_000
    const event = view()
    event.timestamp = hourAhead - 5000
    await postEvents(batch([event], hourAhead))
    const row = await env.DB.prepare('SELECT ts, client_ts, received_at FROM events WHERE id = ?')
      .bind(event.id)
      .first<{ ts: number; client_ts: number; received_at: number }>()
    expect(row!.client_ts).toBe(hourAhead - 5000)
    expect(row!.ts).toBe(row!.received_at - 5000)
  })

  it("keeps each browser's session its own when another browser sends the same session id", async () => {
    const mine = makeEvent('Page Viewed', {}, { anonymousId: 'owner', sessionId: 'shared-session' })
    // Earlier than the owner's first event: keyed by session id alone, it would take the session over.
    const theirs = makeEvent('Page Viewed', {}, { anonymousId: 'intruder', sessionId: 'shared-session' })
    theirs.timestamp = mine.timestamp - 1000
    theirs.context = { ...theirs.context, locale: 'xx-XX' }
    await postEvents(batch([mine]))
    await postEvents(batch([theirs]))
    const sessions = await env.DB.prepare(
      `SELECT anonymous_id, json_extract(context, '$.locale') AS locale FROM sessions
       WHERE site_id = ? AND session_id = 'shared-session' ORDER BY anonymous_id`,
    )
      .bind(SITE.id)
      .all()
    expect(sessions.results).toEqual([
      { anonymous_id: 'intruder', locale: 'xx-XX' },
      { anonymous_id: 'owner', locale: 'en-GB' },
    ])
  })

  it('keeps the visitor summary exact under retries', async () => {
    const anonymousId = 'anon-summary'
    const events = [
      makeEvent('Page Viewed', {}, { anonymousId }),
      makeEvent('Page Viewed', {}, { anonymousId, sessionId: 'sess-2' }),
      makeEvent(
        'Order Completed',
        { order_id: 'o-1', revenue: 42.5, products: [{ product_id: 'tea-01', quantity: 1 }] },
        { anonymousId },
      ),
    ]
    await postEvents(batch(events))
    await postEvents(batch(events))
    expect(await findVisitor(env.DB, SITE.id, anonymousId)).toMatchObject({
      events: 3,
      sessions: 2,
      page_views: 2,
      orders: 1,
      revenue: 42.5,
    })
  })
})

describe('POST /v1/events with bad input', () => {
  const rejects = async (res: Response, status: number, error: RegExp) => {
    expect(res.status).toBe(status)
    expect(res.headers.get('Content-Type')).toMatch(/application\/json/)
    const body = (await res.json()) as ApiError
    expect(body.error).toMatch(error)
    return body
  }

  it.each([
    ['malformed JSON', '{"site":', 400, /malformed JSON/],
    ['an array', '[]', 400, /invalid event batch/],
    ['no events', JSON.stringify(batch([])), 400, /invalid event batch/],
    ['too many events', JSON.stringify(batch(Array(MAX_BATCH_EVENTS + 1).fill(view()))), 400, /invalid/],
  ])('answers 4xx JSON for %s and stores nothing', async (_, body, status, error) => {
    const before = await countEvents()
    await rejects(await postEvents(body), status, error)
    expect(await countEvents()).toBe(before)
  })

  it('names the offending event and field, and stores none of the batch', async () => {
    const good = view()
    const bad = makeEvent('Product Reviewed', { product_id: 'tea-01', rating: 9 })
    const before = await countEvents()
    const body = await rejects(await postEvents(batch([good, bad])), 400, /invalid event batch/)
    expect(body.issues).toEqual([expect.objectContaining({ path: 'events.1.properties.rating', event: 1 })])
    expect(await countEvents()).toBe(before)
  })

  it('rejects an unknown event type by its path', async () => {
    const body = await rejects(await postEvents(batch([{ ...view(), type: 'Hacked' }])), 400, /invalid/)
    expect(body.issues?.[0]?.path).toBe('events.0.type')
  })

  it('rejects events older than 30 days after skew correction', async () => {
    const old = view()
    old.timestamp = Date.now() - 31 * 24 * 3600_000
    await rejects(await postEvents(batch([old])), 400, /invalid/)
  })

  it('rejects an event stamped after its batch was sent', async () => {
    const future = view()
    future.timestamp = Date.now() + 3600_000
    await rejects(await postEvents(batch([future])), 400, /invalid/)
  })

  it.each([
    ['an unknown site', { site: 'nope' }, {}, 401, /unknown site/],
    ['a wrong key', { key: 'pk_wrong' }, {}, 401, /invalid key/],
    ['a foreign origin', {}, { Origin: 'https://evil.example' }, 403, /origin https:\/\/evil.example is not allowed/],
    ['no origin', {}, { Origin: '' }, 403, /not allowed/],
  ])('refuses %s before any write', async (_, envelope, headers, status, error) => {
    const before = await countEvents()
    await rejects(await postEvents({ ...batch([view()]), ...envelope }, headers), status, error)
    expect(await countEvents()).toBe(before)
  })

  it('accepts any port of an origin allowed with ":*"', async () => {
    const res = await postEvents(batch([view()]), { Origin: 'http://localhost:5173' })
    expect(res.status).toBe(200)
  })

  it('refuses content types other than JSON and text with 415', async () => {
    await rejects(
      await postEvents(JSON.stringify(batch([view()])), { 'Content-Type': 'application/xml' }),
      415,
      /not supported/,
    )
  })

  it('refuses a body over the limit with 413, whatever Content-Length claims', async () => {
    const huge = JSON.stringify(batch([view()])) + ' '.repeat(MAX_BATCH_BYTES)
    await rejects(await postEvents(huge), 413, /exceeds/)
    await rejects(await postEvents(huge, { 'Content-Length': '10' }), 413, /exceeds/)
  })

  it('answers 400, not 500, when the client hangs up before its body ends', async () => {
    const app = (await import('../../../worker/app')).default
    const cutShort = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"site":"test","events":['))
        controller.error(new Error('Network connection lost.'))
      },
    })
    const before = await countEvents()
    const req = new Request('http://x/v1/events', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: SITE.origin },
      body: cutShort,
    })
    await rejects(await app.request(req, undefined, env), 400, /could not be read/)
    expect(await countEvents()).toBe(before)
  })

  it('answers 404 JSON for unknown API routes', async () => {
    const app = (await import('../../../worker/app')).default
    const res = await app.request('/v1/nope', {}, env)
    await rejects(res, 404, /no route/)
  })
})
