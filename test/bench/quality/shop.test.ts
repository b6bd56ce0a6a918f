import { describe, expect, it } from 'vitest'
import type { Interaction } from './protocol'
import { generateShop, SHOP } from './shop'

const small = { users: 150, items: 120, categories: 6 }
const shop = generateShop(small)

/** Each session's events in log order. */
function sessions(log: Interaction[]): Interaction[][] {
  const by = new Map<string, Interaction[]>()
  for (const e of log) by.set(e.session, [...(by.get(e.session) ?? []), e])
  return [...by.values()]
}

/** Counts of consecutive views `from>to` within visits, re-views left out. */
function transitions(log: Interaction[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const visit of sessions(log)) {
    const views = visit.filter((e) => e.kind === 'view').map((e) => e.item)
    views.forEach((item, i) => {
      if (i === 0 || views.indexOf(item) < i) return
      const key = `${views[i - 1]}>${item}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    })
  }
  return counts
}

describe('generateShop', () => {
  it('gives the same log for the same seed and another for another seed', () => {
    const again = generateShop(small)
    expect(again.interactions).toEqual(shop.interactions)
    expect(again.catalog).toEqual(shop.catalog)
    expect(again.description).toBe(shop.description)
    const other = generateShop({ ...small, seed: 2 })
    expect(other.interactions.slice(0, 20)).not.toEqual(shop.interactions.slice(0, 20))
    expect(other.description).not.toBe(shop.description)
  })

  it('names users, items, sessions and categories as documented', () => {
    const first = shop.interactions[0]!
    expect(first.user).toMatch(/^s\d{4}$/)
    expect(first.item).toMatch(/^p\d{4}$/)
    expect(first.session).toMatch(new RegExp(`^${first.user}-\\d+$`))
    expect([...shop.catalog.keys()].slice(0, 2)).toEqual(['p0001', 'p0002'])
    expect(new Set([...shop.catalog.values()].map((p) => p.category))).toEqual(
      new Set(['c01', 'c02', 'c03', 'c04', 'c05', 'c06']),
    )
    for (const { price } of shop.catalog.values()) expect(price).toBeGreaterThanOrEqual(1)
  })

  it('orders the log by time, numbers it by position and leaves ratings out', () => {
    shop.interactions.forEach((e, i) => {
      expect(e.line).toBe(i)
      expect(e.rating).toBeUndefined()
      expect(e.tie >= 0 && e.tie < 1).toBe(true)
      if (i > 0) expect(e.ts).toBeGreaterThanOrEqual(shop.interactions[i - 1]!.ts)
    })
    expect(new Set(shop.interactions.map((e) => e.tie)).size).toBe(shop.interactions.length)
  })

  it('has every user and only catalog items, in visits of 3 to 15 events', () => {
    expect(new Set(shop.interactions.map((e) => e.user)).size).toBe(small.users)
    expect(shop.catalog.size).toBe(small.items)
    for (const e of shop.interactions) expect(shop.catalog.has(e.item)).toBe(true)
    for (const visit of sessions(shop.interactions)) {
      expect(visit.length).toBeGreaterThanOrEqual(3)
      expect(visit.length).toBeLessThanOrEqual(15)
      expect(new Set(visit.map((e) => e.user)).size).toBe(1)
    }
  })

  it('moves time forward within a visit, the lines of one order sharing its checkout time', () => {
    for (const visit of sessions(shop.interactions)) {
      visit.forEach((e, i) => {
        if (i === 0) return
        const before = visit[i - 1]!
        if (e.kind === 'buy' && before.kind === 'buy') expect(e.ts).toBe(before.ts)
        else expect(e.ts).toBeGreaterThan(before.ts)
      })
    }
  })

  it('keeps visits of one user apart, at least 10 minutes', () => {
    const last = new Map<string, Interaction>()
    for (const e of shop.interactions) {
      const before = last.get(e.user)
      if (before && before.session !== e.session) expect(e.ts - before.ts).toBeGreaterThanOrEqual(600_000)
      last.set(e.user, e)
    }
  })

  it('adds only viewed items and buys only added ones, at the end of the visit', () => {
    let buys = 0
    for (const visit of sessions(shop.interactions)) {
      visit.forEach((e, i) => {
        const earlier = visit.slice(0, i)
        if (e.kind === 'add') expect(earlier.some((x) => x.kind === 'view' && x.item === e.item)).toBe(true)
        if (e.kind === 'buy') {
          buys++
          expect(earlier.some((x) => x.kind === 'add' && x.item === e.item)).toBe(true)
          expect(visit.slice(i).every((x) => x.kind === 'buy')).toBe(true)
        }
      })
      const added = visit.filter((e) => e.kind === 'add').map((e) => e.item)
      expect(new Set(added).size).toBe(added.length)
    }
    expect(buys).toBeGreaterThan(0)
  })

  it('follows the directed graph, so an edge is walked far more often than its reverse', () => {
    const counts = transitions(shop.interactions)
    let [forward, backward, walked, oneWay] = [0, 0, 0, 0]
    for (const [from, next] of shop.truth.next) {
      expect(next.length).toBeGreaterThanOrEqual(SHOP.minNext)
      for (const to of next) {
        expect(shop.truth.next.get(to)).not.toContain(from)
        const [there, back] = [counts.get(`${from}>${to}`) ?? 0, counts.get(`${to}>${from}`) ?? 0]
        forward += there
        backward += back
        if (there + back >= 5) walked++, there > back && oneWay++
      }
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0)
    expect(forward / total).toBeGreaterThan(0.4)
    expect(forward).toBeGreaterThan(10 * backward)
    expect(oneWay / walked).toBeGreaterThan(0.95)
  })

  it('loses the graph when views never follow it', () => {
    const random = generateShop({ ...small, pFollow: 0 })
    const counts = transitions(random.interactions)
    let forward = 0
    for (const [from, next] of random.truth.next) for (const to of next) forward += counts.get(`${from}>${to}`) ?? 0
    expect(forward / [...counts.values()].reduce((a, b) => a + b, 0)).toBeLessThan(0.2)
  })

  it('adds complements after the item they complement', () => {
    let after = 0
    let adds = 0
    for (const visit of sessions(shop.interactions)) {
      const added = visit.filter((e) => e.kind === 'add').map((e) => e.item)
      added.forEach((item, i) => {
        adds++
        if (added.slice(0, i).some((a) => shop.truth.complements.get(a)?.includes(item))) after++
      })
    }
    expect(after / adds).toBeGreaterThan(0.1)
  })

  it('skews popularity: the top 5% of items draw over three times their share of views', () => {
    const views = new Map<string, number>()
    for (const e of shop.interactions) if (e.kind === 'view') views.set(e.item, (views.get(e.item) ?? 0) + 1)
    const sorted = [...views.values()].sort((a, b) => b - a)
    const top = sorted.slice(0, small.items / 20).reduce((a, b) => a + b, 0)
    expect(top / sorted.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.15)
  })

  it('builds the benchmark set with the documented totals', () => {
    const started = performance.now()
    const { interactions, catalog, description } = generateShop()
    const ms = performance.now() - started
    const kinds = (kind: Interaction['kind']) => interactions.filter((e) => e.kind === kind).length
    const totals = {
      users: new Set(interactions.map((e) => e.user)).size,
      items: catalog.size,
      sessions: new Set(interactions.map((e) => e.session)).size,
      events: interactions.length,
      view: kinds('view'),
      add: kinds('add'),
      buy: kinds('buy'),
    }
    console.log(`shop defaults in ${ms.toFixed(0)} ms:`, totals)
    expect(totals).toEqual({
      users: 3000,
      items: 2000,
      sessions: 10488,
      events: 106583,
      view: 91637,
      add: 11454,
      buy: 3492,
    })
    expect(totals.events).toBeGreaterThanOrEqual(100_000)
    expect(totals.events).toBeLessThanOrEqual(150_000)
    expect(description).toContain('3000 shoppers, 2000 products in 40 categories, 10488 visits and 106583 events')
    const end = SHOP.start + (SHOP.days + 1) * 86_400_000
    expect(interactions[0]!.ts).toBeGreaterThanOrEqual(SHOP.start)
    expect(interactions.at(-1)!.ts).toBeLessThan(end)
  })
})
