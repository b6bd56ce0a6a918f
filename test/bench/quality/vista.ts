// Vista's "for you" as a benchmark ranker: the ratings are replayed as events through the real
// ingestion code (readBatch -> storeEvents, which indexes in the same transaction) into local D1,
// and each user is ranked by the real loader and recommender the route uses.
import { rm } from 'node:fs/promises'
import { getPlatformProxy } from 'wrangler'
import type { VistaEvent } from '../../../contract'
import { upsertItems, upsertSite } from '../../../worker/admin/store'
import { storeEvents } from '../../../worker/events/store'
import type { Bindings } from '../../../worker/env'
import { MAX_EVENT_AGE_MS, readBatch } from '../../../worker/events/ingest'
import { loadModelData, uncached } from '../../../worker/recommend/load'
import { recommend } from '../../../worker/recommend/rank'
import { migratedState } from '../../e2e/server'
import type { Ranker, Rating } from './movielens'

const SITE = 'bench'
const BATCH = 100
const CONTEXT: VistaEvent['context'] = {
  page: { url: 'https://bench.example/', path: '/' },
  device: 'desktop',
  viewport: { width: 1280, height: 800 },
}

/** One rating as the SDK would send it: a Product Reviewed event (half stars rounded, 1-5). */
const toEvent = (r: Rating): VistaEvent => ({
  id: `r${r.line}`,
  type: 'Product Reviewed',
  timestamp: r.ts * 1000,
  anonymousId: `u${r.user}`,
  sessionId: `u${r.user}-${Math.floor(r.ts / 86400)}`,
  context: CONTEXT,
  properties: { product_id: `m${r.item}`, rating: Math.min(5, Math.max(1, Math.round(r.rating))) },
})

/** Chronological batches of at most BATCH events that never span more than the accepted event age. */
function batches(train: Rating[]): VistaEvent[][] {
  const sorted = [...train].sort((a, b) => a.ts - b.ts || a.line - b.line)
  const out: VistaEvent[][] = []
  for (const r of sorted) {
    const last = out.at(-1)
    const first = last?.[0]
    if (!last || last.length >= BATCH || r.ts * 1000 - first!.timestamp > MAX_EVENT_AGE_MS / 2) out.push([toEvent(r)])
    else last.push(toEvent(r))
  }
  return out
}

/** Replays `train` into a fresh local D1 and returns a ranker over it. */
export async function vistaForYou(
  train: Rating[],
): Promise<Ranker & { replaySeconds: number; close(): Promise<void> }> {
  const persistTo = await migratedState('vista-bench-')
  const { env, dispose } = await getPlatformProxy<Bindings>({
    configPath: 'wrangler.toml',
    persist: { path: `${persistTo}/v3` },
    remoteBindings: false,
  })
  const db = env.DB
  const items = [...new Set(train.map((r) => `m${r.item}`))]
  await upsertSite(db, { id: SITE, name: 'bench', keyHash: '0'.repeat(64), origins: [] })
  await upsertItems(
    db,
    SITE,
    items.map((id) => ({ id, title: id, category: 'movie', price: 0, image: null, description: null, in_stock: 1 })),
  )

  const start = performance.now()
  const all = batches(train)
  let replayed = 0
  for (const [i, events] of all.entries()) {
    const sentAt = events.at(-1)!.timestamp
    // Each batch arrives as it was sent, so no clock skew is applied.
    const batch = readBatch({ site: SITE, key: 'k', sentAt, events }, sentAt)
    if (!batch.ok) throw new Error(`replay batch ${i} rejected: ${JSON.stringify(batch.issues.slice(0, 3))}`)
    await storeEvents(db, SITE, batch.value.rows)
    replayed += events.length
    if (i % 50 === 0) process.stderr.write(`\rreplayed ${replayed} / ${train.length} ratings`)
  }
  const replaySeconds = (performance.now() - start) / 1000
  process.stderr.write(`\rreplayed ${train.length} ratings in ${replaySeconds.toFixed(1)} s\n`)

  const lastSeen = new Map<string, number>()
  for (const r of train) lastSeen.set(r.user, Math.max(lastSeen.get(r.user) ?? 0, r.ts * 1000))
  return {
    name: 'vista for-you',
    replaySeconds,
    async rank(user, seen, k) {
      const now = (lastSeen.get(user) ?? 0) + 1000
      const data = await loadModelData(uncached(db, SITE), { strategy: 'for-you', anonymousId: `u${user}`, now })
      const exclude = [...seen].map((item) => `m${item}`)
      return recommend(data, 'for-you', { exclude, inStock: false }, data.dismissed, k).map((s) => s.item.slice(1))
    },
    async close() {
      await dispose()
      await rm(persistTo, { recursive: true, force: true })
    },
  }
}
