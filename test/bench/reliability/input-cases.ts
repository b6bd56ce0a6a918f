// 4. Bad input, the table: requests that must be refused, and odd but valid ones that must be stored intact.
import { MAX_BATCH_BYTES, MAX_BATCH_EVENTS, type VistaEvent } from '../../../contract'
import type { LocalWorker } from '../../e2e/server'
import { makeEvent } from '../../fixtures/events'
import { envelope, KEY, OTHER, SITE } from './batches'
import { raw, rawHead, request, type Answer } from './http'
import { int } from './report'

/** One bad (or odd but valid) request and what the Worker must answer. */
export interface Case {
  name: string
  tried: string
  send: () => Promise<Answer>
  status: number
  /** For odd but valid input: events the answer must report accepted (and D1 then holds). */
  accepts?: number
  /** Reads back what was stored; a problem, or null. */
  verify?: () => Promise<string | null>
  /** wrangler dev's ProxyWorker may answer in the Worker's place (a request body cut short breaks its forwarding). */
  proxyMayAnswer?: boolean
}

let fresh = 0
/** A valid event of a shopper of its own, with properties merged in. */
const goodEvent = (properties: object = {}, over: object = {}) =>
  makeEvent('Product Viewed', { product_id: 'p1', category: 'c1', price: 10, ...properties }, {
    id: `in-${Date.now().toString(36)}-${fresh++}`,
    anonymousId: 'bad-input',
    sessionId: 'bad-input-1',
    ...over,
  } as Partial<VistaEvent>)

/** The requests that must be refused: 4xx, a JSON `error`, nothing written anywhere. */
export function refusals(url: string): Case[] {
  const events = `${url}/v1/events`
  const json = (body: unknown) => JSON.stringify(body)
  const postText =
    (body: string, headers: Record<string, string> = {}) =>
    () =>
      request(events, { method: 'POST', headers: { 'Content-Type': 'text/plain', Origin: url, ...headers }, body })
  const postBatch = (batch: unknown, headers: Record<string, string> = {}) => postText(json(batch), headers)
  const withEvent = (e: object) => postBatch(envelope([e]))
  const head = (length: number | null) => rawHead(url, length)
  const valid = () => Buffer.from(json(envelope([goodEvent()])))
  const oversized = () => Buffer.from(json(envelope([goodEvent()])) + ' '.repeat(MAX_BATCH_BYTES))
  const huge = () => Buffer.from(json(envelope([goodEvent()])) + ' '.repeat(10 << 20))
  const chunk = (b: Buffer) =>
    Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n0\r\n\r\n')])
  const recs =
    (query: string, headers: Record<string, string> = {}) =>
    () =>
      request(`${url}/v1/recommendations?${query}`, { headers })
  const auth = `site=${SITE}&key=${KEY}`
  const decide =
    (body: unknown, headers: Record<string, string> = {}) =>
    () =>
      request(`${url}/v1/decide`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: url, ...headers },
        body: typeof body === 'string' ? body : json(body),
      })
  const decision = { site: SITE, key: KEY, anonymousId: 'bad-input', placement: 'top' }
  const now = Date.now()
  const year = 365 * 24 * 3600_000
  const c = (name: string, tried: string, status: number, send: () => Promise<Answer>): Case => ({
    name,
    tried,
    status,
    send,
  })
  return [
    c('malformed JSON', 'POST /v1/events \'{"site":\'', 400, postText('{"site":')),
    c('JSON null', 'POST /v1/events null', 400, postText('null')),
    c('JSON array', 'POST /v1/events []', 400, postText('[]')),
    c(
      'form content type',
      'application/x-www-form-urlencoded',
      415,
      postText(`site=${SITE}&key=${KEY}`, { 'Content-Type': 'application/x-www-form-urlencoded' }),
    ),
    c('multipart content type', 'FormData with the batch as a field', 415, () => {
      const form = new FormData()
      form.set('batch', json(envelope([goodEvent()])))
      return request(events, { method: 'POST', headers: { Origin: url }, body: form })
    }),
    c(
      'XML content type',
      'application/xml, a valid batch',
      415,
      postBatch(envelope([goodEvent()]), { 'Content-Type': 'application/xml' }),
    ),
    c('oversized body', `a batch + ${int(MAX_BATCH_BYTES)} B of spaces, honest length`, 413, () =>
      raw(url, head(oversized().length), oversized()),
    ),
    c('oversized body, chunked', `a batch + ${int(MAX_BATCH_BYTES)} B of spaces, chunked`, 413, () =>
      raw(url, head(null), chunk(oversized())),
    ),
    c('10 MB body', '10 MB of JSON whitespace after a valid batch', 413, () => raw(url, head(huge().length), huge())),
    c('Content-Length too short', 'claims 10 B, sends a valid batch', 400, () => raw(url, head(10), valid())),
    {
      ...c('Content-Length too long', 'claims 4 KB, sends a 1 KB batch, then closes', 400, () =>
        raw(url, head(4096), valid(), true),
      ),
      proxyMayAnswer: true,
    },
    c('wrong type: sentAt', 'sentAt "now"', 400, postBatch(envelope([goodEvent()], { sentAt: 'now' }))),
    c('wrong type: events', 'events {} (an object)', 400, postBatch(envelope([], { events: { 0: goodEvent() } }))),
    c('wrong type: timestamp', 'timestamp "2026-11-23"', 400, withEvent({ ...goodEvent(), timestamp: '2026-11-23' })),
    c('wrong type: price', 'price "cheap"', 400, withEvent(goodEvent({ price: 'cheap' }))),
    c(
      'wrong type: quantity',
      'Product Added quantity 1.5',
      400,
      withEvent({ ...goodEvent({ quantity: 1.5 }), type: 'Product Added' }),
    ),
    c('wrong type: properties', 'properties null', 400, withEvent({ ...goodEvent(), properties: null })),
    c('unknown event type', 'type "Hacked"', 400, withEvent({ ...goodEvent(), type: 'Hacked' })),
    c(
      'huge string: product_id',
      'product_id of 10,000 chars',
      400,
      withEvent(goodEvent({ product_id: 'x'.repeat(10_000) })),
    ),
    c('huge string: name', 'name of 100,000 chars', 400, withEvent(goodEvent({ name: 'x'.repeat(100_000) }))),
    c(
      'huge string: custom property',
      'properties of 9 KB (limit 8 KB)',
      400,
      withEvent(goodEvent({ note: 'x'.repeat(9_000) })),
    ),
    c('huge string: key', 'key of 10,000 chars', 400, postBatch(envelope([goodEvent()], { key: 'k'.repeat(10_000) }))),
    c('emoji in an id', 'product_id "🍵"', 400, withEvent(goodEvent({ product_id: '🍵' }))),
    c('lone surrogate in an id', 'event id "\\ud800"', 400, withEvent(goodEvent({}, { id: '\ud800' }))),
    c(
      'SQL injection: event id',
      `id "x'); DROP TABLE events;--"`,
      400,
      withEvent(goodEvent({}, { id: "x'); DROP TABLE events;--" })),
    ),
    c(
      'SQL injection: anonymousId',
      `anonymousId "' OR 1=1 --"`,
      400,
      withEvent(goodEvent({}, { anonymousId: "' OR 1=1 --" })),
    ),
    c(
      'SQL injection: site',
      `site "${SITE}' OR '1'='1"`,
      400,
      postBatch(envelope([goodEvent()], { site: `${SITE}' OR '1'='1` })),
    ),
    c(
      'prototype pollution: __proto__',
      'site and key only under "__proto__"',
      400,
      postText(`{"__proto__":{"site":"${SITE}","key":"${KEY}"},"sentAt":${now},"events":${json([goodEvent()])}}`),
    ),
    c(
      'prototype pollution: constructor.prototype',
      'site and key only under constructor.prototype',
      400,
      postText(
        `{"constructor":{"prototype":{"site":"${SITE}","key":"${KEY}"}},"sentAt":${now},"events":${json([goodEvent()])}}`,
      ),
    ),
    c('forged key', 'key "pk_forged"', 401, postBatch(envelope([goodEvent()], { key: 'pk_forged' }))),
    c(
      "other site's key",
      `site ${SITE} with ${OTHER.id}'s key`,
      401,
      postBatch(envelope([goodEvent()], { key: OTHER.key })),
    ),
    c(
      "other site's origin",
      `${OTHER.id}'s key from ${SITE}'s origin`,
      403,
      postBatch(envelope([goodEvent()], { site: OTHER.id, key: OTHER.key })),
    ),
    c('unknown site', 'site "nope"', 401, postBatch(envelope([goodEvent()], { site: 'nope' }))),
    c('no Origin', 'a valid batch without Origin', 403, () =>
      request(events, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: json(envelope([goodEvent()])),
      }),
    ),
    c('timestamp far past', 'timestamp 1 (1970)', 400, withEvent({ ...goodEvent(), timestamp: 1 })),
    c(
      'timestamp 31 days old',
      'timestamp now - 31 days',
      400,
      withEvent({ ...goodEvent(), timestamp: now - 31 * 24 * 3600_000 }),
    ),
    c(
      'timestamp far future',
      'timestamp now + 10 years, sentAt now',
      400,
      withEvent({ ...goodEvent(), timestamp: now + 10 * year }),
    ),
    c('timestamp zero', 'timestamp 0', 400, withEvent({ ...goodEvent(), timestamp: 0 })),
    c('timestamp 1e21', 'timestamp 1e21', 400, withEvent({ ...goodEvent(), timestamp: 1e21 })),
    c('empty batch', 'events []', 400, postBatch(envelope([]))),
    c(
      'too many events',
      `${MAX_BATCH_EVENTS + 1} events`,
      400,
      postBatch(envelope(Array.from({ length: MAX_BATCH_EVENTS + 1 }, () => goodEvent()))),
    ),
    c(
      'one bad event spoils the batch',
      'a valid event and a rating of 9',
      400,
      postBatch(envelope([goodEvent(), makeEvent('Product Reviewed', { product_id: 'p1', rating: 9 })])),
    ),
    c('GET on POST /v1/events', 'GET /v1/events', 404, () => request(events)),
    c('PUT on POST /v1/events', 'PUT /v1/events with a valid batch', 404, () =>
      request(events, { method: 'PUT', headers: { Origin: url }, body: json(envelope([goodEvent()])) }),
    ),
    c('GET on POST /v1/decide', 'GET /v1/decide?site=…&key=…', 404, () =>
      request(`${url}/v1/decide?${auth}&anonymousId=a&placement=top`),
    ),
    c('GET on POST /v1/identify', 'GET /v1/identify', 404, () => request(`${url}/v1/identify?${auth}`)),
    c('recommendations: no query', 'GET /v1/recommendations', 400, recs('')),
    c('recommendations: no key', `site=${SITE} only`, 400, recs(`site=${SITE}`)),
    c('recommendations: forged key', 'key=pk_forged', 401, recs(`site=${SITE}&key=pk_forged`)),
    c('recommendations: limit 0', 'limit=0', 400, recs(`${auth}&limit=0`)),
    c('recommendations: limit abc', 'limit=abc', 400, recs(`${auth}&limit=abc`)),
    c('recommendations: limit 51', 'limit=51', 400, recs(`${auth}&limit=51`)),
    c('recommendations: limit -1', 'limit=-1', 400, recs(`${auth}&limit=-1`)),
    c('recommendations: strategy', 'strategy=evil', 400, recs(`${auth}&strategy=evil`)),
    c('recommendations: rules not JSON', 'rules={oops', 400, recs(`${auth}&rules=${encodeURIComponent('{oops')}`)),
    c(
      'recommendations: rules wrong type',
      'rules={"minPrice":"cheap"}',
      400,
      recs(`${auth}&rules=${encodeURIComponent('{"minPrice":"cheap"}')}`),
    ),
    c(
      'recommendations: huge cart',
      'cart of 5,000 chars',
      400,
      recs(`${auth}&strategy=cart&cart=${'p1,'.repeat(1_700)}`),
    ),
    c(
      'recommendations: huge anonymousId',
      'anonymousId of 300 chars',
      400,
      recs(`${auth}&anonymousId=${'a'.repeat(300)}`),
    ),
    c(
      'recommendations: bad percent-encoding',
      'site=%E0%A4%A&key=% (kept undecoded: not a site id)',
      400,
      recs('site=%E0%A4%A&key=%'),
    ),
    c(
      'recommendations: foreign Origin',
      `right key, Origin ${OTHER.origin}`,
      403,
      recs(auth, { Origin: OTHER.origin }),
    ),
    c('decide: malformed JSON', "POST /v1/decide '{'", 400, decide('{')),
    c(
      'decide: form content type',
      'application/x-www-form-urlencoded',
      415,
      decide(`site=${SITE}`, { 'Content-Type': 'application/x-www-form-urlencoded' }),
    ),
    c(
      'decide: oversized body',
      '20 KB (limit 16 KB)',
      413,
      decide({ ...decision, context: { referrer: 'x'.repeat(20_000) } }),
    ),
    c('decide: no placement', 'placement missing', 400, decide({ ...decision, placement: undefined })),
    c(
      'decide: SQL injection in anonymousId',
      `anonymousId "' OR 1=1 --"`,
      400,
      decide({ ...decision, anonymousId: "' OR 1=1 --" }),
    ),
    c('decide: wrong type', 'context.device "toaster"', 400, decide({ ...decision, context: { device: 'toaster' } })),
    c('decide: forged key', 'key "pk_forged"', 401, decide({ ...decision, key: 'pk_forged' })),
    c('decide: foreign Origin', `Origin ${OTHER.origin}`, 403, decide(decision, { Origin: OTHER.origin })),
    c('decide: bad query string', '?site=%E0&limit=abc with a body missing its key', 400, () =>
      request(`${url}/v1/decide?site=%E0&limit=abc`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: url },
        body: json({ ...decision, key: undefined }),
      }),
    ),
  ]
}

/** Odd but valid requests: answered 2xx, stored once and intact. */
export function oddButValid(worker: LocalWorker, replay: VistaEvent[]): Case[] {
  const url = worker.url
  const events = `${url}/v1/events`
  const postBody = (body: string) => () =>
    request(events, { method: 'POST', headers: { 'Content-Type': 'text/plain', Origin: url }, body })
  const storedProperties = async (id: string) =>
    JSON.parse(
      (
        await worker.query<{ properties: string }>(
          `SELECT properties FROM events WHERE site_id = '${SITE}' AND id = '${id}'`,
        )
      )[0]?.properties ?? 'null',
    ) as Record<string, unknown> | null
  /** One new event whose stored properties must give back `expected` under `field`. */
  const roundTrip = (
    name: string,
    tried: string,
    field: string,
    value: string,
    expected = value,
    body?: (e: VistaEvent) => Buffer,
  ): Case => {
    const event = goodEvent({ [field]: value })
    const bytes = body?.(event) ?? Buffer.from(JSON.stringify(envelope([event])))
    return {
      name,
      tried,
      status: 200,
      accepts: 1,
      send: body ? () => raw(url, rawHead(url, bytes.length), bytes) : postBody(bytes.toString()),
      verify: async () => {
        const got = (await storedProperties(event.id))?.[field]
        return got === expected ? null : `stored ${JSON.stringify(got)}`
      },
    }
  }
  const protoEvent = goodEvent()
  const ctorEvent = goodEvent()
  const noType = goodEvent()
  const skewed = goodEvent()
  const ahead = Date.now() + 10 * 365 * 24 * 3600_000
  const withRawProperties = (e: VistaEvent, extra: string) =>
    JSON.stringify(envelope([e])).replace('"properties":{', `"properties":{${extra},`)
  return [
    {
      name: 'replay of an accepted batch',
      tried: `${replay.length} events already stored, posted again`,
      status: 200,
      accepts: 0,
      send: postBody(JSON.stringify(envelope(replay))),
    },
    roundTrip('unicode: emoji and CJK', 'name "🍵 Sencha – 抹茶 ✓"', 'name', '🍵 Sencha – 抹茶 ✓'),
    roundTrip('unicode: lone surrogate (JSON escape)', 'name "\\ud800x"', 'name', '\ud800x'),
    roundTrip(
      'unicode: invalid UTF-8 bytes',
      'name with bytes ED A0 80',
      'name',
      'PLACEHOLDER',
      '\ufffd\ufffd\ufffdx',
      (e) => {
        const [before, after] = JSON.stringify(envelope([e])).split('PLACEHOLDER')
        return Buffer.concat([Buffer.from(before!), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`x${after!}`)])
      },
    ),
    roundTrip('SQL injection in a property', `name "'); DROP TABLE events; --"`, 'name', "'); DROP TABLE events; --"),
    {
      name: 'prototype pollution: __proto__ in properties',
      tried: 'properties {"__proto__":{"polluted":"yes"}, …}',
      status: 200,
      accepts: 1,
      send: postBody(withRawProperties(protoEvent, '"__proto__":{"polluted":"yes"}')),
      verify: async () => {
        const p = await storedProperties(protoEvent.id)
        return p && Object.getPrototypeOf(p) === Object.prototype && p.product_id === 'p1'
          ? null
          : `stored ${JSON.stringify(p)}`
      },
    },
    {
      name: 'prototype pollution: constructor.prototype in properties',
      tried: 'properties {"constructor":{"prototype":{"polluted":"yes"}}, …}',
      status: 200,
      accepts: 1,
      send: postBody(withRawProperties(ctorEvent, '"constructor":{"prototype":{"polluted":"yes"}}')),
      verify: async () => ((await storedProperties(ctorEvent.id))?.product_id === 'p1' ? null : 'not stored'),
    },
    {
      name: 'no Content-Type',
      tried: 'a valid batch without Content-Type (read as text/plain)',
      status: 200,
      accepts: 1,
      send: () => {
        const bytes = Buffer.from(JSON.stringify(envelope([noType])))
        return raw(url, rawHead(url, bytes.length, null), bytes)
      },
    },
    {
      name: 'device clock 10 years ahead',
      tried: 'timestamp and sentAt both now + 10 years',
      status: 200,
      accepts: 1,
      send: postBody(JSON.stringify(envelope([{ ...skewed, timestamp: ahead - 1000 }], { sentAt: ahead }))),
      verify: async () => {
        const [row] = await worker.query<{ ts: number }>(
          `SELECT ts FROM events WHERE site_id = '${SITE}' AND id = '${skewed.id}'`,
        )
        return row && Math.abs(row.ts - Date.now()) < 10 * 60_000 ? null : `stored ts ${row?.ts}`
      },
    },
    {
      name: 'recommendations: SQL injection in anonymousId',
      tried: `anonymousId "' OR 1=1 --"`,
      status: 200,
      accepts: 0,
      send: () =>
        request(`${url}/v1/recommendations?site=${SITE}&key=${KEY}&anonymousId=${encodeURIComponent("' OR 1=1 --")}`),
    },
    {
      name: 'recommendations: __proto__ in rules',
      tried: 'rules={"__proto__":{"inStock":false}}',
      status: 200,
      accepts: 0,
      send: () =>
        request(
          `${url}/v1/recommendations?site=${SITE}&key=${KEY}&rules=${encodeURIComponent('{"__proto__":{"inStock":false}}')}`,
        ),
    },
  ]
}
