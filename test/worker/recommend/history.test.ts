import { describe, expect, it } from 'vitest'
import type { RecentItem } from '../../../contract'
import { historyLists, mergeHistory } from '../../../worker/recommend/history'
import type { HistoryItem } from '../../../worker/recommend/model'

const T = Date.UTC(2026, 0, 15, 12)
const stored = (item: string, lastTs: number, more: Partial<HistoryItem> = {}): HistoryItem => ({
  item,
  lastTs,
  views: 1,
  adds: 0,
  purchases: 0,
  rating: null,
  dismissed: false,
  ...more,
})
const CATALOG = new Set(['sencha', 'assam', 'kettle', 'teapot', 'cup'])

describe('mergeHistory()', () => {
  it('puts device items not stored yet first, as items of their own', () => {
    const merged = mergeHistory(
      [stored('assam', T - 60_000, { views: 3 })],
      [
        { id: 'sencha', kind: 'view', ts: T - 2_000 },
        { id: 'kettle', kind: 'add', ts: T - 1_000 },
      ],
      CATALOG,
      30,
    )
    expect(merged).toEqual([
      { item: 'kettle', lastTs: T - 1_000, views: 0, adds: 1, purchases: 0, rating: null, dismissed: false },
      { item: 'sencha', lastTs: T - 2_000, views: 1, adds: 0, purchases: 0, rating: null, dismissed: false },
      { item: 'assam', lastTs: T - 60_000, views: 3, adds: 0, purchases: 0, rating: null, dismissed: false },
    ])
  })

  it('keeps stored counts, takes the larger of each count and the latest time for a duplicate', () => {
    const merged = mergeHistory(
      [stored('sencha', T - 5_000, { views: 4, adds: 2, dismissed: true }), stored('cup', T - 9_000)],
      [
        // Already stored (older than the stored time): only its counts' floors, which it does not raise.
        { id: 'sencha', kind: 'view', ts: T - 7_000 },
        // Not stored yet: a cart add and a purchase of the cup, the purchase last.
        { id: 'cup', kind: 'add', ts: T - 3_000 },
        { id: 'cup', kind: 'buy', ts: T - 1_000 },
      ],
      CATALOG,
      30,
    )
    expect(merged).toEqual([
      { item: 'cup', lastTs: T - 1_000, views: 1, adds: 1, purchases: 1, rating: null, dismissed: false },
      { item: 'sencha', lastTs: T - 5_000, views: 4, adds: 2, purchases: 0, rating: null, dismissed: true },
    ])
  })

  it('takes a device rating newer than the stored item, and keeps a stored one that is newer', () => {
    const recent: RecentItem[] = [
      { id: 'sencha', kind: 'rate', rating: 2, ts: T - 8_000 },
      { id: 'sencha', kind: 'rate', rating: 1, ts: T - 1_000 },
      { id: 'assam', kind: 'rate', rating: 5, ts: T - 9_000 },
      { id: 'kettle', kind: 'rate', rating: 4, ts: T - 4_000 },
    ]
    const merged = mergeHistory(
      [stored('sencha', T - 6_000, { rating: 3 }), stored('assam', T - 2_000, { rating: 4 })],
      recent,
      CATALOG,
      30,
    )
    expect(merged.map((h) => [h.item, h.rating, h.lastTs])).toEqual([
      ['sencha', 1, T - 1_000],
      ['assam', 4, T - 2_000],
      ['kettle', 4, T - 4_000],
    ])
  })

  it('ignores device items that are not catalog items', () => {
    const merged = mergeHistory(
      [stored('ghost', T - 9_000)],
      [
        { id: 'not-a-product', kind: 'view', ts: T },
        { id: 'ghost', kind: 'buy', ts: T },
      ],
      CATALOG,
      30,
    )
    // A stored item stays what it was, catalog or not; the device cannot touch it.
    expect(merged).toEqual([stored('ghost', T - 9_000)])
  })

  it('orders newest first with ties by id and cuts to the limit; the inputs are not modified', () => {
    const history = [stored('teapot', T - 5_000), stored('assam', T - 5_000)]
    const recent: RecentItem[] = [{ id: 'cup', kind: 'view', ts: T - 5_000 }]
    const before = JSON.stringify([history, recent])
    expect(mergeHistory(history, recent, CATALOG, 2).map((h) => h.item)).toEqual(['assam', 'cup'])
    expect(JSON.stringify([history, recent])).toBe(before)
    expect(mergeHistory([], [], CATALOG, 30)).toEqual([])
  })
})

describe('historyLists()', () => {
  it('lists the items per kind, dismissals too, newest first', () => {
    const history = [
      stored('cup', T, { views: 0, adds: 1, purchases: 1 }),
      stored('sencha', T - 1, { rating: 4 }),
      stored('kettle', T - 2, { adds: 2 }),
      stored('mug', T - 3, { views: 0, dismissed: true }),
    ]
    expect(historyLists(history)).toEqual({
      viewed: ['sencha', 'kettle'],
      added: ['cup', 'kettle'],
      bought: ['cup'],
      rated: ['sencha'],
      dismissed: ['mug'],
    })
  })
})
