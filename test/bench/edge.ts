// `npm run bench:edge -- [--rounds N] [--rate R]`: what the edge pass costs a page. A shop's origin
// (a plain HTTP server on loopback) serves its product page; the same page is fetched from the
// origin alone, and through the Worker (`wrangler dev`, production config, local D1/KV) for an
// anonymous shopper and for one with the tag's cookie. Requests arrive open-loop at a fixed rate,
// kinds interleaved in rounds; times count from each request's scheduled start. The tag's own path
// is bounded below by the origin's page plus one recommendation answer, measured in the same rounds.
import { Agent, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import products from '../../demo/shop/products.json'
import { demoAdmin, postDemoEvents, startWorker } from '../e2e/server'
import { makeEvent } from '../fixtures/events'
import { shopPage } from '../fixtures/edge-shop'
import { formatTable, machine, ms, parseFlags, percentile } from './load'

import { DEMO_KEY as PUBLIC_KEY } from '../../scripts/demo-keys'
const SHOPPER = 'bench-shopper'
const PAGES = products.slice(0, 20).map((p) => `/p/${p.id}`)

interface Timing {
  /** Response headers in. */
  ttfb: number
  /** Whole body in. */
  done: number
  body: string
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 })

/** GETs `path` from 127.0.0.1:`port` with these headers; times count from `start`. */
function get(port: number, path: string, headers: Record<string, string>, start: number): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      const ttfb = performance.now() - start
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${path} -> ${res.statusCode} ${body.slice(0, 200)}`))
        else resolve({ ttfb, done: performance.now() - start, body })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** Mean of paired differences with a 95% interval (normal approximation, n ≥ 100). */
function pairedInterval(a: number[], b: number[]): string {
  const d = a.map((x, i) => x - b[i]!)
  const mean = d.reduce((s, x) => s + x, 0) / d.length
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (d.length - 1))
  const half = (1.96 * sd) / Math.sqrt(d.length)
  return `${mean >= 0 ? '+' : ''}${ms(mean)} ms [${ms(mean - half)}, ${ms(mean + half)}]`
}

/** Slot ids an HTML text has filled. */
const filledSlots = (html: string) =>
  [...html.matchAll(/<(?:section|div) id="(\w+)"[^>]*data-vista-(?:filled|decision)="/g)].map((m) => m[1]).sort()

async function main() {
  const { rounds, rate } = parseFlags(process.argv.slice(2), { rounds: 300, rate: 10 })
  console.log(machine())
  const origin = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
    res.end(shopPage(req.url ?? '/', PUBLIC_KEY))
  })
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve))
  const originPort = (origin.address() as AddressInfo).port
  const worker = await startWorker({
    prefix: 'vista-bench-edge-',
    config: 'wrangler.toml',
    vars: { RATE_LIMITS: 'off' },
  })
  try {
    const workerPort = Number(new URL(worker.url).port)
    const host = `shop.test:${workerPort}`
    const admin = demoAdmin(worker)
    await admin('PATCH', '/settings', {
      settings: { edge: { hosts: [host], origin: `http://127.0.0.1:${originPort}` } },
    })
    // Fifty shoppers who each viewed five of the pages' products: co-views for also-viewed, a history for the cookie's shopper.
    const events = Array.from({ length: 50 }, (_, s) =>
      Array.from({ length: 5 }, (_, k) => {
        const product = products[(s * 3 + k) % PAGES.length]!
        const anonymousId = s === 0 ? SHOPPER : `bench-${s}`
        return makeEvent('Product Viewed', { product_id: product.id }, { anonymousId, sessionId: anonymousId })
      }),
    ).flat()
    await postDemoEvents(worker, events)
    await worker.settled()

    const KINDS: Array<{ name: string; port: number; headers: Record<string, string>; api?: boolean }> = [
      { name: 'origin alone', port: originPort, headers: {} },
      { name: 'edge, anonymous', port: workerPort, headers: { Host: host } },
      { name: 'edge, with cookie', port: workerPort, headers: { Host: host, Cookie: `vista_aid=${SHOPPER}` } },
      { name: 'one API answer', port: workerPort, api: true, headers: {} },
    ]
    const pathOf = (kind: (typeof KINDS)[number], round: number) => {
      const page = PAGES[round % PAGES.length]!
      if (!kind.api) return page
      const query = new URLSearchParams({ site: 'demo', key: PUBLIC_KEY, strategy: 'also-viewed', limit: '3' })
      return `/v1/recommendations?${query}&item=${page.slice(3)}&anonymousId=${SHOPPER}`
    }
    // Warm-up: isolates, the edge cache's shared parts, the site's KV entry.
    for (let r = 0; r < 40; r++)
      for (const kind of KINDS) await get(kind.port, pathOf(kind, r), kind.headers, performance.now())

    const times = KINDS.map(() => [] as Timing[])
    const started = performance.now()
    const waiting: Promise<void>[] = []
    for (let i = 0; i < rounds * KINDS.length; i++) {
      const due = started + (i * 1000) / (rate * KINDS.length)
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())))
      const round = Math.floor(i / KINDS.length)
      const k = i % KINDS.length
      const kind = KINDS[k]!
      waiting.push(get(kind.port, pathOf(kind, round), kind.headers, due).then((t) => void (times[k]![round] = t)))
    }
    await Promise.all(waiting)
    const seconds = (performance.now() - started) / 1000

    const filled = KINDS.slice(0, 3).map((_, k) => new Set(times[k]!.map((t) => filledSlots(t.body).join(' '))))
    console.log(
      `\n${rounds} rounds at ${rate} rounds/s (${((rounds * KINDS.length) / seconds).toFixed(0)} requests/s), ` +
        `${PAGES.length} product pages of the demo catalog; times from each request's scheduled start`,
    )
    const rows = KINDS.map((kind, k) => {
      const ttfb = times[k]!.map((t) => t.ttfb).sort((a, b) => a - b)
      const done = times[k]!.map((t) => t.done).sort((a, b) => a - b)
      const slots = k < 3 ? [...filled[k]!].map((s) => s || 'none').join(' | ') : 'json'
      return [
        kind.name,
        ms(percentile(ttfb, 50)),
        ms(percentile(ttfb, 99)),
        ms(percentile(done, 50)),
        ms(percentile(done, 99)),
        slots,
      ]
    })
    console.log(
      formatTable(
        ['page', 'TTFB p50', 'TTFB p99', 'whole p50', 'whole p99', 'slots in the first response'],
        rows,
        'lrrrrl',
      ),
    )
    const whole = (k: number) => times[k]!.map((t) => t.done)
    const tagPath = whole(0).map((d, i) => d + times[3]![i]!.done)
    console.log('\npaired differences of the whole page (mean, 95% interval), against the origin alone:')
    console.log(`  edge, anonymous:    ${pairedInterval(whole(1), whole(0))}`)
    console.log(`  edge, with cookie:  ${pairedInterval(whole(2), whole(0))}`)
    console.log(
      `  origin + one API answer (a lower bound of the tag's path to a filled slot): ${pairedInterval(tagPath, whole(0))}`,
    )
    console.log(`  edge with cookie against that bound: ${pairedInterval(whole(2), tagPath)}`)
    const expected = ['also trending', 'also mine offer trending']
    if (
      filled[1]!.size !== 1 ||
      !filled[1]!.has(expected[0]!) ||
      filled[2]!.size !== 1 ||
      !filled[2]!.has(expected[1]!)
    ) {
      console.log(`✗ the edge did not fill the expected slots: ${expected.join(' / ')}`)
      process.exitCode = 1
    }
  } finally {
    await worker.stop()
    origin.close()
    agent.destroy()
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
