// 5. Many sites of Zipf-distributed sizes through the buffers and the fold: each site's loss and lag,
// for the small sites first alone and then beside the big ones, in the same run.
import type { DatabaseSync } from 'node:sqlite'
import type { VistaEvent } from '../../../contract'
import { upsertSite } from '../../../worker/admin/store'
import type { Bindings } from '../../../worker/env'
import { hashKey } from '../../../worker/http/site-auth'
import type { LocalWorker } from '../../e2e/server'
import { makeEvent } from '../../fixtures/events'
import { fetchOk, formatTable, ms, pace, percentile, random } from '../load'
import { watchFolds } from '../local-d1'

/** Sites in the simulation; site k sends a share proportional to 1 / (k + 1). */
export const SIM_SITES = 12
const SMALL = 6
const siteId = (k: number) => `zipf-${k}`
const keyOf = (k: number) => `pk_zipf_${k}_0123456789`

/** Registers the simulated sites (before the Worker starts). */
export async function seedSites(env: Bindings): Promise<void> {
  for (let k = 0; k < SIM_SITES; k++) {
    const keyHash = await hashKey(keyOf(k))
    await upsertSite(env.DB, { id: siteId(k), name: siteId(k), keyHash, origins: ['http://127.0.0.1:*'] })
  }
}

const shares = (() => {
  const raw = Array.from({ length: SIM_SITES }, (_, k) => 1 / (k + 1))
  const total = raw.reduce((a, b) => a + b, 0)
  return raw.map((w) => w / total)
})()

interface SiteLag {
  sent: number
  stored: number
  lags: number[]
}

/** Sends `rate` events/s for `seconds`, 20-event batches, spread over `sites` by their Zipf shares. */
async function drive(worker: LocalWorker, d1: DatabaseSync, sites: number[], rate: number, seconds: number) {
  const rand = random(sites.length * 7919)
  const weight = sites.map((k) => shares[k]!)
  const total = weight.reduce((a, b) => a + b, 0)
  const pick = () => {
    let x = rand() * total
    for (let i = 0; i < sites.length; i++) if ((x -= weight[i]!) < 0) return sites[i]!
    return sites.at(-1)!
  }
  const size = 20
  const perSite = new Map(sites.map((k) => [k, { sent: 0, stored: 0, lags: [] } as SiteLag]))
  const folds = watchFolds<number>(d1, (k, lag) => perSite.get(k)!.lags.push(lag))
  const run = await pace(Math.round((rate * seconds) / size), rate / size, 64, async (i) => {
    const k = pick()
    const who = { anonymousId: `z${k}-s${i % 97}`, sessionId: `z${k}-s${i % 97}-1` }
    const events: VistaEvent[] = Array.from({ length: size }, (_, e) =>
      makeEvent('Product Viewed', { product_id: `p${(i * 31 + e * 7) % 500}` }, who),
    )
    folds.watch(events.at(-1)!.id, k)
    perSite.get(k)!.sent += size
    await fetchOk(`${worker.url}/v1/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: worker.url },
      body: JSON.stringify({ site: siteId(k), key: keyOf(k), sentAt: Date.now(), events }),
    })
  })
  await folds.stop()
  const count = d1.prepare('SELECT COUNT(*) AS n FROM events WHERE site_id = ?')
  for (const [k, s] of perSite) {
    s.stored = (count.get(siteId(k)) as { n: number }).n
    s.lags.sort((a, b) => a - b)
  }
  return { run, perSite }
}

/** Runs the small sites alone, then every site, and prints each site's share, loss and lag; answers whether all held. */
export async function simulateSites(worker: LocalWorker, d1: DatabaseSync, rate: number, seconds: number) {
  const small = Array.from({ length: SIM_SITES - SMALL }, (_, i) => SMALL + i)
  const smallShare = small.reduce((n, k) => n + shares[k]!, 0)
  const alone = await drive(worker, d1, small, rate * smallShare, seconds)
  const before = new Map([...alone.perSite].map(([k, s]) => [k, s.stored]))
  const all = await drive(
    worker,
    d1,
    Array.from({ length: SIM_SITES }, (_, k) => k),
    rate,
    seconds,
  )
  const rows = [...all.perSite].map(([k, s]) => {
    const solo = alone.perSite.get(k)
    const stored = s.stored - (before.get(k) ?? 0)
    return [
      siteId(k),
      `${(100 * shares[k]!).toFixed(1)}%`,
      String(s.sent),
      String(stored),
      ms(percentile(s.lags, 50)),
      ms(percentile(s.lags, 99)),
      solo ? ms(percentile(solo.lags, 99)) : '',
    ]
  })
  console.log(
    formatTable(['site', 'share', 'sent', 'stored', 'lag p50 ms', 'lag p99 ms', 'p99 alone'], rows, 'lrrrrrr'),
  )
  const lost = [...all.perSite].filter(([k, s]) => s.stored - (before.get(k) ?? 0) !== s.sent)
  const lostAlone = [...alone.perSite].filter(([, s]) => s.stored !== s.sent)
  const worst = Math.max(...[...all.perSite.values()].map((s) => percentile(s.lags, 99)))
  return {
    lost: lost.length + lostAlone.length,
    worstP99: worst,
    failures: all.run.failures + alone.run.failures,
    requests: all.run.requests + alone.run.requests,
  }
}
