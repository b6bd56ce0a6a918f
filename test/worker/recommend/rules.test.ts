import { describe, expect, it } from 'vitest'
import type { CatalogItem, Scored } from '../../../worker/recommend/model'
import { applyRules, diversify, type Rules } from '../../../worker/recommend/rules'

const item = (id: string, category: string, price: number, inStock = true): CatalogItem => ({
  id,
  title: id.toUpperCase(),
  category,
  price,
  image: null,
  inStock,
})
const catalog = new Map(
  [
    item('a', 'tea', 5),
    item('b', 'tea', 15),
    item('c', 'books', 25),
    item('d', 'books', 35, false),
    item('e', 'garden', 45),
  ].map((i) => [i.id, i]),
)
const scored: Scored[] = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ item: id, score: 5 - i, reasons: [`r-${id}`] }))

const cases: Array<{ name: string; rules: Rules; dismissed?: string[]; limit?: number; expected: string[] }> = [
  { name: 'drops sold-out items by default', rules: {}, expected: ['a', 'b', 'c', 'e'] },
  {
    name: 'keeps sold-out items when inStock is false',
    rules: { inStock: false },
    expected: ['a', 'b', 'c', 'd', 'e'],
  },
  { name: 'filters by category', rules: { categories: ['books', 'garden'] }, expected: ['c', 'e'] },
  { name: 'filters by price range', rules: { minPrice: 10, maxPrice: 30 }, expected: ['b', 'c'] },
  { name: 'excludes items', rules: { exclude: ['a', 'c'] }, expected: ['b', 'e'] },
  {
    name: 'never shows dismissed items, pinned or not',
    rules: { pin: ['b'] },
    dismissed: ['b'],
    expected: ['a', 'c', 'e'],
  },
  { name: 'boosts a category', rules: { boost: [{ category: 'garden', factor: 10 }] }, expected: ['e', 'a', 'b', 'c'] },
  { name: 'boosts items', rules: { boost: [{ items: ['c'], factor: 2 }] }, expected: ['c', 'a', 'b', 'e'] },
  {
    name: 'pins first, in order, and only if they pass the filters',
    rules: { pin: ['e', 'd', 'c'] },
    expected: ['e', 'c', 'a', 'b'],
  },
  { name: 'diversifies across categories', rules: { maxPerCategory: 1 }, limit: 3, expected: ['a', 'c', 'e'] },
  { name: 'cuts to the limit', rules: {}, limit: 2, expected: ['a', 'b'] },
  { name: 'skips items missing from the catalog', rules: { pin: ['zzz'] }, expected: ['a', 'b', 'c', 'e'] },
]

describe('applyRules()', () => {
  it.each(cases)('$name', ({ rules, dismissed = [], limit = 10, expected }) => {
    expect(applyRules(scored, catalog, rules, new Set(dismissed), limit).map((s) => s.item)).toEqual(expected)
  })

  it('scores pins just above the best organic item and says why', () => {
    const [pinned, next] = applyRules(scored, catalog, { pin: ['e'] }, new Set(), 2)
    expect(pinned).toEqual({ item: 'e', score: 6, reasons: ['Featured by the shop'] })
    expect(next!.item).toBe('a')
  })
})

describe('diversify()', () => {
  it('keeps overflow items after the first per category, so a short answer still fills', () => {
    expect(diversify(scored, catalog, 1).map((s) => s.item)).toEqual(['a', 'c', 'e', 'b', 'd'])
  })
})
