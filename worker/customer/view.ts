// Loads one customer's 360 view: every browser of their UID, their facts, and their segments
// against the site's population. Used by GET /v1/profile and POST /v1/decide.
import type { DecisionContext } from '../../contract'
import { customerFacts, orderHistories, populationStats, recentVisitors, saveSegmentSizes } from './store'
import { anonymousIdsOf, identitiesOf, uidOf } from '../identity/store'
import { historyLists } from '../recommend/history'
import { HISTORY_LIMIT } from '../recommend/load'
import type { HistoryItem } from '../recommend/model'
import { historyItems, visitorHistory, type HistoryRow } from '../recommend/store'
import type { Bindings, Site } from '../env'
import { CACHE_KEYS } from '../http/cache-keys'
import { shardOf } from '../shards/directory'
import { ACTIVITY_WEEKS, DEFAULT_LIFECYCLE, segmentOne, summarise, type Population } from './segments'
import {
  expectedPurchases,
  expectedSpend,
  fitBgnbd,
  fitGammaGamma,
  historyOf,
  probabilityAlive,
  tallyOrders,
  withRepeatSpend,
  type BgnbdParams,
  type Customer,
  type GammaGammaParams,
} from './value'

/** Seconds the site's population statistics (quintile cuts, tier thresholds) stay cached in KV. */
export const POPULATION_TTL = 600
/** Seconds a site's fitted value model stays cached in KV: refitting reads every order. */
export const VALUE_MODEL_TTL = 3600
/** Horizon of the predicted value, in weeks. */
export const VALUE_HORIZON_WEEKS = 26
/** Fewest buyers, and repeat buyers, before the value model is fitted at all. */
export const VALUE_MIN_BUYERS = 20
export const VALUE_MIN_REPEAT_BUYERS = 5
/** Most customers read for one fit. */
export const VALUE_MAX_CUSTOMERS = 50_000

/** A site's fitted BG/NBD and Gamma-Gamma, and the medians the current-vs-predicted 2x2 splits at. */
export interface ValueModel {
  bgnbd: BgnbdParams
  spend: GammaGammaParams | null
  averageOrder: number
  medians: { current: number; future: number }
}

/** Predicted value over the horizon: expected purchases × expected spend per purchase. */
const predict = (m: ValueModel, c: Customer, monetary: number) =>
  expectedPurchases(m.bgnbd, c, VALUE_HORIZON_WEEKS) *
  (m.spend && c.x > 0 && monetary > 0 && m.spend.q > 1 ? expectedSpend(m.spend, c.x, monetary) : m.averageOrder)

// A fit that ran off (a, b near 1e6 on odd order histories, which any shopper can send) gives NaN
// predictions, and JSON turns NaN into null in KV: such a model is no model, never a 500.
const usable = (m: ValueModel | null) =>
  m !== null &&
  [m.bgnbd.r, m.bgnbd.alpha, m.bgnbd.a, m.bgnbd.b, m.averageOrder, m.medians?.current, m.medians?.future].every((v) =>
    Number.isFinite(v),
  )

/** The site's value model: from KV, else fitted on every customer's orders in `db`, its shard (null with too few buyers or a fit that ran off). */
async function siteValueModel(env: Bindings, db: D1Database, siteId: string, now: number): Promise<ValueModel | null> {
  const key = CACHE_KEYS.valueModel(siteId)
  const cached = await env.CACHE.get<{ model: ValueModel | null }>(key, 'json')
  if (cached) return usable(cached.model) ? cached.model : null
  const today = Math.floor(now / 86_400_000)
  const rows = await orderHistories(db, siteId, VALUE_MAX_CUSTOMERS)
  const customers = rows.map((r) => ({
    ...historyOf({ firstDay: r.first_day, lastDay: r.last_day, x: r.x, repeatRevenue: r.repeat_revenue }, today),
    revenue: r.revenue,
  }))
  let model: ValueModel | null = null
  const repeaters = withRepeatSpend(customers)
  if (customers.length >= VALUE_MIN_BUYERS && repeaters.length >= VALUE_MIN_REPEAT_BUYERS) {
    const bgnbd = fitBgnbd(customers)
    let spend: GammaGammaParams | null = null
    try {
      spend = fitGammaGamma(repeaters)
    } catch {
      // Too little spread in spend to fit; the average order stands in.
    }
    const orders = rows.reduce((n, r) => n + r.x + 1, 0)
    const averageOrder = rows.reduce((n, r) => n + r.revenue, 0) / Math.max(1, orders)
    const partial = { bgnbd, spend, averageOrder, medians: { current: 0, future: 0 } }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
    partial.medians = {
      current: median(customers.map((c) => c.revenue)),
      future: median(customers.map((c) => predict(partial, c, c.monetary))),
    }
    model = usable(partial) ? partial : null
  }
  await env.CACHE.put(key, JSON.stringify({ model }), { expirationTtl: VALUE_MODEL_TTL })
  return model
}
/** The site's population statistics, from KV when fresh, else computed in `db`, its shard, and cached. */
async function sitePopulation(env: Bindings, db: D1Database, siteId: string): Promise<Population> {
  const key = CACHE_KEYS.population(siteId)
  let stats = await env.CACHE.get<Omit<Population, 'medians'>>(key, 'json')
  if (!stats) {
    stats = await populationStats(db, siteId)
    await env.CACHE.put(key, JSON.stringify(stats), { expirationTtl: POPULATION_TTL })
  }
  // JSON has no Infinity: an empty tier comes back from KV as null.
  const { A, B, C } = stats.tiers
  return { ...stats, tiers: { A: A ?? Infinity, B: B ?? Infinity, C: C ?? Infinity }, medians: null }
}

/** The customer behind a browser: UID, browsers, identities, summary, segmentation and latest items. */
export async function customerView(env: Bindings, site: Site, anonymousId: string, now: number) {
  const db = shardOf(env, site)
  const uid = await uidOf(db, site.id, anonymousId)
  // History from before login joins in: every browser linked to the UID counts.
  const browsers = uid ? await anonymousIdsOf(db, site.id, uid) : [anonymousId]
  const [facts, population, identities, valueModel, historyRows] = await Promise.all([
    customerFacts(db, site.id, browsers, now, ACTIVITY_WEEKS),
    sitePopulation(env, db, site.id),
    uid ? identitiesOf(db, site.id, uid) : Promise.resolve([]),
    siteValueModel(env, db, site.id, now),
    visitorHistory(db, site.id, anonymousId, HISTORY_LIMIT).all<HistoryRow>(),
  ])
  const history = historyItems(historyRows.results)
  const summary = summarise(uid ?? anonymousId, facts, now)
  let value: { pAlive: number; expectedPurchases: number; predictedValue: number } | null = null
  const days = facts.orderDays
  if (valueModel && days.length > 0) {
    const c = historyOf(tallyOrders(days), Math.floor(now / 86_400_000))
    value = {
      pAlive: probabilityAlive(valueModel.bgnbd, c),
      expectedPurchases: expectedPurchases(valueModel.bgnbd, c, VALUE_HORIZON_WEEKS),
      predictedValue: predict(valueModel, c, c.monetary),
    }
    if (Object.values(value).every(Number.isFinite)) summary.predictedValue = value.predictedValue
    else value = null
  }
  const view = segmentOne(summary, { ...population, medians: valueModel?.medians ?? null }, now, {
    ...DEFAULT_LIFECYCLE,
    ...site.settings?.lifecycle,
  })
  return { uid, browsers, identities, facts, summary, view, value, history }
}

/**
 * What a decision may look at: the customer's segments, scores and items (the stored ones, or
 * `history` with the device's merged in), plus what only the page knows.
 */
export function decisionContext(
  customer: Pick<Awaited<ReturnType<typeof customerView>>, 'view' | 'summary' | 'value' | 'history'>,
  page: Omit<DecisionContext, 'history' | 'segments' | 'lifecycle' | 'scores' | 'profile'> = {},
  history: HistoryItem[] = customer.history,
): DecisionContext {
  const { view, summary, value } = customer
  return {
    ...page,
    history: historyLists(history),
    segments: view.segments,
    lifecycle: view.lifecycle,
    scores: {
      ...(view.rfm ? { r: view.rfm.r, f: view.rfm.f, m: view.rfm.m, rfm: view.rfm.group } : {}),
      ...(view.churnRisk !== null ? { churnRisk: view.churnRisk } : {}),
      tier: view.tier,
      ...(value ? { pAlive: value.pAlive, predictedValue: value.predictedValue } : {}),
      ...(view.quadrant ? { value: view.quadrant } : {}),
    },
    profile: { orders: summary.orders, revenue: summary.revenue },
  }
}

/** How many recent browsers a segment-size snapshot counts (bounded work per site and day). */
export const SEGMENT_SAMPLE = 500

/** Counts today's segment sizes among the site's most recent shoppers (one per UID) and stores them. */
export async function snapshotSegments(env: Bindings, site: Site, now: number) {
  const seen = new Set<string>()
  const counts = new Map<string, number>()
  const db = shardOf(env, site)
  for (const anonymousId of await recentVisitors(db, site.id, SEGMENT_SAMPLE)) {
    const customer = await customerView(env, site, anonymousId, now)
    const who = customer.uid ?? anonymousId
    if (seen.has(who)) continue
    seen.add(who)
    for (const segment of customer.view.segments) counts.set(segment, (counts.get(segment) ?? 0) + 1)
  }
  const day = new Date(now).toISOString().slice(0, 10)
  const sizes = [...counts]
    .map(([segment, shoppers]) => ({ segment, shoppers }))
    .sort((a, b) => b.shoppers - a.shoppers)
  await saveSegmentSizes(db, site.id, day, sizes, seen.size)
  return { day, sizes, sampled: seen.size }
}

/** Segments with their reasons, as answers show them. */
export const explainedSegments = ({ view }: Pick<Customer360, 'view'>) =>
  view.segments.map((id) => ({ id, reason: view.reasons[id] }))

type Customer360 = Awaited<ReturnType<typeof customerView>>

/** The 360 view as GET /v1/profile and the admin lookup answer it. */
export function profileAnswer(customer: Customer360) {
  const { uid, browsers, identities, facts, summary, view, value } = customer
  return {
    uid,
    browsers,
    identities,
    summary: {
      firstSeen: summary.firstSeen,
      lastSeen: summary.lastSeen,
      events: facts.totals?.events ?? 0,
      orders: summary.orders,
      revenue: summary.revenue,
      lastOrderAt: summary.lastOrderAt,
      weeklyActivity: summary.weeklyActivity,
      categories: summary.categories,
    },
    scores: {
      rfm: view.rfm,
      lifecycle: view.lifecycle,
      churnRisk: view.churnRisk,
      tier: view.tier,
      quadrant: view.quadrant,
    },
    // Next 26 weeks, from the site's BG/NBD and Gamma-Gamma fit (null until the site has enough buyers).
    value,
    segments: explainedSegments(customer),
  }
}

/**
 * What a shopper's own browser may be shown of the customer's browsers: another browser's anonymous
 * id is that browser's credential, so only the asking browser's appears in full (others as their
 * first characters); the admin lookup shows them whole.
 */
export function forBrowser<T extends { browsers: string[]; identities: Array<{ kind: string; value: string }> }>(
  answer: T,
  self: string,
): T {
  return {
    ...answer,
    browsers: answer.browsers.map(maskedFor(self)),
    identities: identitiesFor(answer.identities, self),
  }
}

/** A browser id as `self` may see it: whole if it is `self`'s own, else its first characters. */
export const maskedFor = (self: string) => (id: string) => (id === self ? id : `${id.slice(0, 6)}…`)

/** Identities as `self` may see them: other browsers' ids masked. */
export const identitiesFor = <I extends { kind: string; value: string }>(identities: I[], self: string) =>
  identities.map((i) => (i.kind === 'anonymous' ? { ...i, value: maskedFor(self)(i.value) } : i))
