import { describe, expect, it } from 'vitest'
import {
  decodeRecent,
  encodeRecent,
  MAX_RECENT,
  MAX_RECENT_CHARS,
  RECENT_TOKEN,
  type RecentItem,
} from '../../contract/recent'

const NOW = Date.UTC(2026, 0, 15, 12)

describe('encodeRecent()', () => {
  it('writes each item as id, kind letter (and grade) and whole seconds ago, newest first', () => {
    const items: RecentItem[] = [
      { id: 'tea-01', kind: 'view', ts: NOW - 1_999 },
      { id: 'cup.v2', kind: 'add', ts: NOW - 42_000 },
      { id: 'sku:7', kind: 'buy', ts: NOW - 86_400_000 },
      { id: 'tea-01', kind: 'rate', ts: NOW - 120_000, rating: 4 },
      // A device clock set back since: the age comes out negative, and counts as now.
      { id: 'kettle', kind: 'view', ts: NOW + 5_000 },
    ]
    expect(encodeRecent(items, NOW)).toBe('tea-01.v1,cup.v2.a42,sku:7.b86400,tea-01.r4120,kettle.v-5')
    expect(encodeRecent([], NOW)).toBe('')
    expect(encodeRecent(undefined, NOW)).toBe('')
  })

  it('skips the bare ids a profile of SDK 0.2 holds', () => {
    const old = ['tea-02', { id: 'tea-01', kind: 'view', ts: NOW }] as unknown as RecentItem[]
    expect(encodeRecent(old, NOW)).toBe('tea-01.v0')
  })

  it('drops the oldest items that do not fit in MAX_RECENT_CHARS, whole', () => {
    const items = Array.from(
      { length: MAX_RECENT },
      (_, i): RecentItem => ({
        id: `${String(i).padStart(2, '0')}-${'x'.repeat(190)}`,
        kind: 'view',
        ts: NOW,
      }),
    )
    const text = encodeRecent(items, NOW)
    expect(text.length).toBeLessThanOrEqual(MAX_RECENT_CHARS)
    const tokens = text.split(',')
    expect(tokens).toHaveLength(Math.floor((MAX_RECENT_CHARS + 1) / (items[0]!.id.length + 4)))
    expect(tokens.every((t) => RECENT_TOKEN.test(t))).toBe(true)
    expect(tokens[0]!.startsWith('00-')).toBe(true)
  })
})

describe('decodeRecent()', () => {
  it("reads back what encodeRecent wrote, on the reader's clock", () => {
    const items: RecentItem[] = [
      { id: 'tea-01', kind: 'view', ts: NOW - 3_000 },
      { id: 'a.b.c', kind: 'rate', ts: NOW - 60_000, rating: 5 },
      { id: 'kettle', kind: 'add', ts: NOW + 9_000 },
    ]
    const later = NOW + 10_000
    expect(decodeRecent(encodeRecent(items, NOW).split(','), later)).toEqual([
      { id: 'tea-01', kind: 'view', ts: later - 3_000 },
      { id: 'a.b.c', kind: 'rate', ts: later - 60_000, rating: 5 },
      { id: 'kettle', kind: 'add', ts: later },
    ])
  })
})
