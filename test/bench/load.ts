// What the load benchmarks share: a bounded closed-loop load generator, an open-loop pacer, percentiles, a plain
// table, flags, a seeded random source, the machine they ran on, a synthetic catalog and local state.
import { cpus } from 'node:os'
import type { Bindings } from '../../worker/env'
import { mulberry32 } from '../fixtures/random'

/** Latencies in ms (sorted) and throughput of one bounded run. */
export interface LoadResult {
  requests: number
  failures: number
  firstFailure?: string
  latencies: number[]
  seconds: number
}

/**
 * Sends `requests` requests, `concurrency` at a time, each as soon as one ends (a closed loop, so
 * the server is never asked for more than it can answer). `send(i)` throws if the answer is bad.
 */
export async function load(
  requests: number,
  concurrency: number,
  send: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const latencies: number[] = []
  const result: LoadResult = { requests, failures: 0, latencies, seconds: 0 }
  let next = 0
  const worker = async () => {
    for (let i = next++; i < requests; i = next++) {
      const start = performance.now()
      try {
        await send(i)
      } catch (error) {
        result.failures++
        result.firstFailure ??= error instanceof Error ? error.message : String(error)
      }
      latencies.push(performance.now() - start)
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, worker))
  result.seconds = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  return result
}

/**
 * A paced run: as `LoadResult`, where `latencies` run from each request's scheduled start (so time
 * spent waiting to be sent counts, as it would for a shopper whose page asked then), plus the same
 * requests timed from their actual send (`sentLatencies`, the server's view), how late the latest
 * request was sent against its schedule (`behindMs`), and how many scheduled requests were never
 * sent because `maxSeconds` passed first (`unsent`).
 */
export interface PacedResult extends LoadResult {
  sentLatencies: number[]
  behindMs: number
  unsent: number
}

/**
 * Sends request `i` at `i / perSecond` seconds after the start (an open loop, as traffic arrives
 * whether or not the server keeps up), with at most `maxInFlight` waiting for an answer: when all
 * are busy the next send waits, and `behindMs` tells how far the schedule slipped. Each latency is
 * measured from the request's scheduled start, not its send: a closed or slipping loop would
 * otherwise leave out the queueing an overloaded server causes (coordinated omission). No request
 * is sent after `maxSeconds`; `requests` in the result counts those that were, `unsent` the rest.
 */
export async function pace(
  requests: number,
  perSecond: number,
  maxInFlight: number,
  send: (i: number) => Promise<void>,
  maxSeconds = Number.POSITIVE_INFINITY,
): Promise<PacedResult> {
  const latencies: number[] = []
  const sentLatencies: number[] = []
  const result: PacedResult = {
    requests: 0,
    failures: 0,
    latencies,
    sentLatencies,
    seconds: 0,
    behindMs: 0,
    unsent: 0,
  }
  const inFlight = new Set<Promise<void>>()
  const start = performance.now()
  for (let i = 0; i < requests; i++) {
    const due = start + (i * 1000) / perSecond
    // Behind schedule, the next request goes at once: a timer of 0 ms still waits 1 ms, which
    // would cap the rate near 1,000/s.
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight)
    if (performance.now() - start > maxSeconds * 1000) {
      result.unsent = requests - i
      break
    }
    result.requests++
    const sent = performance.now()
    result.behindMs = Math.max(result.behindMs, sent - due)
    const request: Promise<void> = send(i)
      .catch((error: unknown) => {
        result.failures++
        result.firstFailure ??= error instanceof Error ? error.message : String(error)
      })
      .then(() => {
        const end = performance.now()
        latencies.push(end - due)
        sentLatencies.push(end - sent)
        inFlight.delete(request)
      })
    inFlight.add(request)
  }
  await Promise.all(inFlight)
  result.seconds = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  sentLatencies.sort((a, b) => a - b)
  return result
}

/** The answer's body, after checking its status. */
export async function fetchOk(url: string, init?: RequestInit): Promise<string> {
  const res = await fetch(url, init)
  const body = await res.text()
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url} -> ${res.status} ${body.slice(0, 300)}`)
  return body
}

/** Nearest-rank percentile of sorted values. */
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN

/** Aligned columns: by default the first left-aligned, the others right-aligned; `align` ('l'/'r' per column) overrides. */
export function formatTable(header: string[], rows: string[][], align = `l${'r'.repeat(header.length - 1)}`): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]?.length ?? 0)))
  const line = (row: string[]) =>
    row
      .map((cell, c) => (align[c] === 'r' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

/** Milliseconds with one decimal. */
export const ms = (n: number) => n.toFixed(1)

/** Positive integer flags (`--name N` or `--name=N`) over their defaults. */
export function parseFlags<T extends Record<string, number>>(args: string[], defaults: T): T {
  const flags: Record<string, number> = { ...defaults }
  const usage = Object.entries(defaults)
    .map(([name, n]) => `[--${name} N (default ${n})]`)
    .join(' ')
  for (let a = 0; a < args.length; a++) {
    const [flag = '', inline] = (args[a] ?? '').split(/=(.*)/s)
    const value = inline ?? args[++a] ?? ''
    const name = flag.replace(/^--/, '')
    if (!flag.startsWith('--') || !(name in defaults) || !/^[1-9]\d*$/.test(value)) {
      throw new Error(`bad arguments: ${args.join(' ')}\nusage: ${usage}`)
    }
    flags[name] = Number(value)
  }
  return flags as T
}

/** A reproducible random source in [0, 1) (mulberry32). */
export const random = mulberry32

/** Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1)^s. */
export function zipf(n: number, s: number, rand: () => number): () => number {
  const cumulative = new Float64Array(n)
  let total = 0
  for (let r = 0; r < n; r++) cumulative[r] = total += 1 / (r + 1) ** s
  return () => {
    const x = rand() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** CPU model, cores and Node version, for the record. */
export function machine(): string {
  const cpu = cpus()
  return `machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores; node ${process.version}`
}

/** The synthetic product of a rank: ranks interleave the categories, so each has a head of popular items; prices 5-204. */
export const benchItem = (rank: number, categories: number) => ({
  id: `p${rank}`,
  title: `Product ${rank}`,
  category: `c${rank % categories}`,
  price: 5 + ((rank * 37) % 200),
  image: null,
  description: null,
  in_stock: 1,
})

/** A synthetic catalog: the products of ranks 0 to `count` - 1. */
export const benchCatalog = (count: number, categories: number) =>
  Array.from({ length: count }, (_, rank) => benchItem(rank, categories))

/** Runs `fn` with the Worker's bindings over the local state in `persistTo` (wrangler's platform proxy), then lets go of them. */
export async function withLocalEnv<T>(persistTo: string, fn: (env: Bindings) => Promise<T>): Promise<T> {
  // Imported on use: benchmarks that never open local state (decide) need not load wrangler.
  const { getPlatformProxy } = await import('wrangler')
  const { env, dispose } = await getPlatformProxy<Bindings>({
    configPath: 'wrangler.toml',
    persist: { path: `${persistTo}/v3` },
    remoteBindings: false,
  })
  try {
    return await fn(env)
  } finally {
    await dispose()
  }
}
