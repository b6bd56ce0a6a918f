import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { EventBatch, VistaEvent } from '../../contract'
import { makeEvent } from '../fixtures/events'

type Send = typeof import('../../sdk/send')
type Store = typeof import('../../sdk/store')
let send: Send
let store: Store
// The sender's functions by name (createOutbox returns them as a tuple, to keep names out of the bundle).
const named = ([enqueue, flush, retryNow, flushOnExit, dropWaiting, stats]: ReturnType<Send['createOutbox']>) => ({
  enqueue,
  flush,
  retryNow,
  flushOnExit,
  dropWaiting,
  stats,
})
let sender: ReturnType<typeof named>
let fetchMock: ReturnType<typeof vi.fn>
const posted: EventBatch[] = []

const reply = (status: number, body: unknown = {}, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers })

// A fresh store module (it holds the IndexedDB connection), a fresh IndexedDB and fresh timers per test.
// IndexedDB (fake-indexeddb) runs on setImmediate, which stays real.
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  vi.resetModules()
  globalThis.indexedDB = new IDBFactory()
  posted.length = 0
  fetchMock = vi.fn(async (_url: string, init: RequestInit) => {
    posted.push(JSON.parse(init.body as string))
    return reply(200, { accepted: 1, duplicates: 0 })
  })
  vi.stubGlobal('fetch', fetchMock)
  store = await import('../../sdk/store')
  send = await import('../../sdk/send')
  sender = named(send.createOutbox({ endpoint: '/v1', site: 'demo', key: 'pk', flushAt: 3, flushInterval: 50 }))
})
afterEach(() => {
  vi.clearAllTimers()
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

const view = (id = 'a') => makeEvent('Product Viewed', { product_id: id })
const outbox = () => store.read<VistaEvent[]>('outbox').then((o) => o ?? [])

describe('outbox', () => {
  it('stores each event before anything is sent', async () => {
    await sender.enqueue(view())
    expect(fetchMock).not.toHaveBeenCalled()
    expect(await outbox()).toHaveLength(1)
  })

  it('sends after the interval and empties the outbox once confirmed', async () => {
    const events = [view('a'), view('b')]
    for (const e of events) await sender.enqueue(e)
    await vi.waitFor(async () => expect(await outbox()).toEqual([]))
    expect(posted).toHaveLength(1)
    expect(posted[0]).toMatchObject({ site: 'demo', key: 'pk', events })
    // A plain string body: browsers send it as text/plain, a CORS-safelisted type (no preflight).
    expect(fetchMock.mock.calls[0]![1]).toEqual({
      method: 'POST',
      body: expect.any(String),
      signal: expect.any(AbortSignal),
    })
  })

  it('sends at once when flushAt events wait', async () => {
    sender = named(send.createOutbox({ endpoint: '/v1', site: 'demo', key: 'pk', flushAt: 2, flushInterval: 60_000 }))
    await sender.enqueue(view('a'))
    await sender.enqueue(view('b'))
    await vi.waitFor(() => expect(posted).toHaveLength(1))
  })

  it('keeps events through a server error and retries with backoff', { timeout: 30_000 }, async () => {
    fetchMock.mockResolvedValueOnce(reply(503))
    await sender.enqueue(view())
    await sender.flush()
    expect(sender.stats.retries).toBe(1)
    expect(await outbox()).toHaveLength(1)
    // The retry is scheduled half to all of BACKOFF_BASE later: move the fake clock past it at once
    // (waitFor alone moves it 50 ms per check, too slowly on a loaded CI machine). The timer fires on a
    // whole millisecond; a retry due a fraction later once found itself early and was never rescheduled.
    await vi.advanceTimersByTimeAsync(send.BACKOFF_BASE)
    await vi.waitFor(async () => expect(await outbox()).toEqual([]), { timeout: 20_000 })
    expect(fetchMock).toHaveBeenCalledTimes(2)
  })

  it('makes a flush called during a send wait for that send', async () => {
    let answer!: (res: Response) => void
    fetchMock.mockImplementationOnce((_url: string, init: RequestInit) => {
      posted.push(JSON.parse(init.body as string))
      return new Promise<Response>((resolve) => (answer = resolve))
    })
    await sender.enqueue(view())
    const first = sender.flush()
    await vi.waitFor(() => expect(posted).toHaveLength(1))
    let second = false
    const done = sender.flush().then(() => (second = true))
    await new Promise((r) => setImmediate(r))
    expect(second).toBe(false) // the send is still waiting for its answer
    answer(reply(200, { accepted: 1, duplicates: 0 }))
    await Promise.all([first, done])
    expect(await outbox()).toEqual([])
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('keeps events when offline', async () => {
    fetchMock.mockRejectedValueOnce(new TypeError('Failed to fetch'))
    await sender.enqueue(view())
    await sender.flush()
    expect(await outbox()).toHaveLength(1)
    expect(sender.stats.retries).toBe(1)
  })

  it('waits as long as Retry-After asks before trying again', { timeout: 30_000 }, async () => {
    fetchMock.mockResolvedValueOnce(reply(429, {}, { 'Retry-After': '2' }))
    await sender.enqueue(view())
    const start = Date.now()
    await sender.flush()
    await sender.flush() // too early: must not send
    expect(fetchMock).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1900)
    expect(fetchMock).toHaveBeenCalledTimes(1) // still waiting
    await vi.advanceTimersByTimeAsync(200)
    await vi.waitFor(async () => expect(await outbox()).toEqual([]), { timeout: 20_000 })
    expect(fetchMock).toHaveBeenCalledTimes(2)
    expect(Date.now() - start).toBeGreaterThanOrEqual(2000)
  })

  it('drops only the events a 400 names and sends the rest', async () => {
    const [good, bad, good2] = [view('a'), view('b'), view('c')]
    fetchMock.mockResolvedValueOnce(
      reply(400, { error: 'invalid event batch', issues: [{ path: 'events.1.x', message: 'bad', event: 1 }] }),
    )
    for (const e of [good, bad, good2]) await sender.enqueue(e)
    await vi.waitFor(async () => expect(await outbox()).toEqual([]))
    // The mocked 400 records nothing, so the first recorded post is the resend.
    expect(fetchMock).toHaveBeenCalledTimes(2)
    expect(posted[0]!.events.map((e) => e.id)).toEqual([good.id, good2.id])
    expect(sender.stats.dropped).toBe(1)
  })

  it('drops the oldest events beyond MAX_OUTBOX and counts them', async () => {
    fetchMock.mockRejectedValue(new TypeError('offline'))
    const many = Array.from({ length: send.MAX_OUTBOX }, (_, i) => view(`p${i}`))
    await store.change('outbox', () => many)
    await sender.enqueue(view('newest'))
    const kept = await outbox()
    expect(kept).toHaveLength(send.MAX_OUTBOX)
    expect(kept[0]!.id).toBe(many[1]!.id)
    expect(kept.at(-1)!.properties).toEqual({ product_id: 'newest' })
    expect(sender.stats.dropped).toBe(1)
  })

  it('beacons waiting events on exit and keeps them until confirmed', async () => {
    const beacon = vi.fn(() => true)
    vi.stubGlobal('navigator', { ...navigator, sendBeacon: beacon })
    await sender.enqueue(view())
    sender.flushOnExit()
    expect(beacon).toHaveBeenCalledWith('/v1/events', expect.stringContaining('"product_id":"a"'))
    expect(await outbox()).toHaveLength(1)
  })

  it('works on memory when IndexedDB is missing', async () => {
    vi.resetModules()
    vi.stubGlobal('indexedDB', undefined)
    store = await import('../../sdk/store')
    send = await import('../../sdk/send')
    sender = named(send.createOutbox({ endpoint: '/v1', site: 'demo', key: 'pk', flushAt: 1, flushInterval: 50 }))
    await sender.enqueue(view())
    await vi.waitFor(() => expect(posted).toHaveLength(1))
    expect(store.persistent()).toBe(false)
  })

  it('still sends what IndexedDB holds when IndexedDB starts failing mid-page', async () => {
    const stored = view('a')
    await sender.enqueue(stored)
    // A full disk: from now on every write is refused.
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    })
    try {
      const next = view('b')
      await sender.enqueue(next)
      await vi.waitFor(() => expect(posted).toHaveLength(1))
      expect(posted[0]!.events.map((e) => e.id)).toEqual([stored.id, next.id])
      expect(store.persistent()).toBe(false)
    } finally {
      put.mockRestore()
    }
  })
})

describe('takeBatch()', () => {
  it('takes the oldest events that fit the byte budget, at least one', () => {
    const events = Array.from({ length: 10 }, (_, i) => view(`p${i}`))
    const size = JSON.stringify(events[0]).length
    expect(send.takeBatch(events, 200 + 3 * (size + 1))).toEqual(events.slice(0, 3))
    expect(send.takeBatch(events, 10)).toEqual(events.slice(0, 1))
    expect(send.takeBatch(events, 1e6, 4)).toHaveLength(4)
  })
})

describe('retryAfter()', () => {
  it.each([
    ['3', 3000],
    ['0', 0],
    ['soon', undefined],
    [null, undefined],
  ])('reads %s as %s ms', (value, ms) => {
    const res = new Response(null, { headers: value === null ? {} : { 'Retry-After': value } })
    expect(send.retryAfter(res)).toBe(ms)
  })

  it('reads an HTTP date', () => {
    const res = new Response(null, { headers: { 'Retry-After': new Date(Date.now() + 10_000).toUTCString() } })
    expect(send.retryAfter(res)).toBeGreaterThan(8000)
  })
})
