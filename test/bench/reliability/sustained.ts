// 1. Sustained load: a paced run of outbox batches, then D1 checked to hold exactly what was accepted.
import type { VistaEvent } from '../../../contract'
import type { LocalWorker } from '../../e2e/server'
import { fetchOk, formatTable, load, ms, pace, percentile, type LoadResult } from '../load'
import { countByPrefix, makeBatch, post } from './batches'
import { int, report } from './report'

const WARMUP = 20
/** Share of the target rate the paced load must reach (the pacer's last answers end the window). */
const RATE_TOLERANCE = 0.97
/** The paced load starts nothing after `seconds` × this, so a slow server cannot stretch the run. */
const MAX_OVERRUN = 1.5
const WINDOW_S = 10
const FLOOR_REQUESTS = 1_000
const REPLAYED = 50

const latencyFigure = (r: LoadResult) =>
  `p50 ${ms(percentile(r.latencies, 50))} ms, p99 ${ms(percentile(r.latencies, 99))} ms, max ${ms(r.latencies.at(-1) ?? NaN)} ms`

/** The CLI flags of the paced load. */
export interface Flags {
  seconds: number
  rate: number
  size: number
  inflight: number
}

/** Events accepted and answers received within each WINDOW_S of a paced run. */
interface Window {
  accepted: number
  latencies: number[]
}

const windowRows = (windows: Window[]) =>
  Array.from(windows, (w = { accepted: 0, latencies: [] }, k) => {
    const sorted = [...w.latencies].sort((a, b) => a - b)
    return [
      `${k * WINDOW_S}-${(k + 1) * WINDOW_S} s`,
      String(w.latencies.length),
      (w.accepted / WINDOW_S).toFixed(0),
      ms(percentile(sorted, 50)),
      ms(percentile(sorted, 99)),
    ]
  })

/** Paces `rate` events/s for `seconds`, checks D1 holds exactly what was accepted; returns batches to replay. */
export async function sustainedLoad(
  worker: LocalWorker,
  { seconds, rate, size, inflight }: Flags,
): Promise<VistaEvent[][]> {
  const health = () => fetchOk(`${worker.url}/v1/health`).then(() => {})
  await load(WARMUP, inflight, health)
  const floor = await load(FLOOR_REQUESTS, inflight, health)
  let warmAccepted = 0
  await load(WARMUP, inflight, async (i) => {
    const answer = await post(worker, makeBatch('wu', i, size))
    warmAccepted += answer.accepted
  })

  const batches = Math.ceil((seconds * rate) / size)
  const perSecond = rate / size
  const step = Math.max(1, Math.floor(batches / REPLAYED))
  const kept: VistaEvent[][] = []
  const windows: Window[] = []
  let accepted = 0
  let duplicates = 0
  let failedEvents = 0
  const start = performance.now()
  const run = await pace(
    batches,
    perSecond,
    inflight,
    async (i) => {
      const events = makeBatch('ld', i, size)
      const sent = performance.now()
      const answer = await post(worker, events).catch((error: unknown) => {
        failedEvents += events.length
        throw error
      })
      const done = performance.now()
      const window = (windows[Math.floor((done - start) / 1000 / WINDOW_S)] ??= { accepted: 0, latencies: [] })
      window.accepted += answer.accepted
      window.latencies.push(done - sent)
      accepted += answer.accepted
      duplicates += answer.duplicates
      if (i % step === 0 && kept.length < REPLAYED) kept.push(events)
    },
    seconds * MAX_OVERRUN,
  )
  const achieved = accepted / run.seconds
  const offered = run.requests * size
  console.log(
    formatTable(
      ['route', 'requests', 'events', 'p50 ms', 'p99 ms', 'max ms', 'req/s', 'events/s', 'errors'],
      [
        [
          `POST /v1/events (paced, ≤${inflight} in flight)`,
          String(run.requests),
          int(accepted),
          ms(percentile(run.latencies, 50)),
          ms(percentile(run.latencies, 99)),
          ms(run.latencies.at(-1) ?? NaN),
          (run.requests / run.seconds).toFixed(1),
          achieved.toFixed(0),
          String(run.failures),
        ],
        [
          `GET /v1/health (floor, closed loop of ${inflight})`,
          String(floor.requests),
          '',
          ms(percentile(floor.latencies, 50)),
          ms(percentile(floor.latencies, 99)),
          ms(floor.latencies.at(-1) ?? NaN),
          (floor.requests / floor.seconds).toFixed(0),
          `(${int((floor.requests / floor.seconds) * size)})`,
          String(floor.failures),
        ],
      ],
    ),
  )
  console.log(`(floor events/s: ${size} events per request if storing them were free)`)
  console.log(
    `schedule slipped by at most ${ms(run.behindMs)} ms; ${run.requests} of ${batches} batches started within ${seconds * MAX_OVERRUN} s`,
  )
  console.log(formatTable(['window', 'answers', 'events/s', 'p50 ms', 'p99 ms'], windowRows(windows)))
  if (run.firstFailure) console.log(`first failure: ${run.firstFailure}`)

  const first = windows[0]?.accepted ?? 0
  // The last window the run filled whole.
  const last = windows[Math.floor(run.seconds / WINDOW_S) - 1]?.accepted ?? 0
  report({
    name: `load: ${int(rate)} events/s for ${seconds} s`,
    tried: `${int(batches)} POSTs of ${size} events at ${perSecond}/s, ≤${inflight} in flight`,
    held: run.failures === 0 && run.requests === batches && achieved >= rate * RATE_TOLERANCE,
    figure:
      `${achieved.toFixed(0)} events/s (first ${WINDOW_S} s ${(first / WINDOW_S).toFixed(0)}, last ${(last / WINDOW_S).toFixed(0)}), ` +
      `${latencyFigure(run)}, ${run.failures} errors; floor /v1/health ${(floor.requests / floor.seconds).toFixed(0)} req/s, ` +
      `p50 ${ms(percentile(floor.latencies, 50))} ms`,
  })
  const counts = await countByPrefix(worker)
  const stored = counts.get('ld-') ?? { n: 0, d: 0 }
  const warm = counts.get('wu-') ?? { n: 0, d: 0 }
  // A failed request's batch may or may not be stored (the answer was lost, not the write): at most once.
  const unknown = stored.n - accepted
  report({
    name: 'load: D1 holds exactly the accepted events, none twice',
    tried: 'one COUNT(*), COUNT(DISTINCT id) per id prefix',
    held:
      stored.d === stored.n &&
      unknown >= 0 &&
      unknown <= failedEvents &&
      duplicates === 0 &&
      accepted + failedEvents === offered &&
      warm.n === warmAccepted &&
      warm.d === warm.n,
    figure:
      `${int(stored.n)} rows, ${int(stored.d)} distinct ids; accepted ${int(accepted)} of ${int(offered)} sent (+${int(warm.n)} warm-up)` +
      (failedEvents > 0 ? `; ${int(unknown)} of ${int(failedEvents)} events of failed requests stored anyway` : ''),
  })
  return kept
}
