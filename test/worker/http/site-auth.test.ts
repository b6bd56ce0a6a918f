import { describe, expect, it } from 'vitest'
import { D1_MAX_PARAMS, chunkRows } from '../../../worker/d1'
import { hashKey, originAllowed } from '../../../worker/http/site-auth'

describe('originAllowed()', () => {
  const allowed = ['https://shop.example', 'http://127.0.0.1:*']
  it.each([
    ['https://shop.example', true],
    ['https://shop.example.evil.com', false],
    ['http://shop.example', false],
    ['http://127.0.0.1:8787', true],
    ['http://127.0.0.1', true],
    ['http://127.0.0.1:8787.evil.com', false],
    ['http://127.0.0.10:80', false],
    ['', false],
    [undefined, false],
  ])('%s is %s', (origin, expected) => expect(originAllowed(allowed, origin)).toBe(expected))
})

describe('hashKey()', () => {
  it('gives the SHA-256 hex digest', async () => {
    expect(await hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })
})

describe('chunkRows()', () => {
  it('keeps every group within the parameter limit and loses no row', () => {
    const rows = Array.from({ length: 250 }, (_, i) => [i, 'a', 'b', 'c', 'd', 'e', 'f'] as const)
    const groups = chunkRows(rows)
    expect(groups.flat()).toEqual(rows)
    for (const g of groups) expect(g.length * 7).toBeLessThanOrEqual(D1_MAX_PARAMS)
    expect(groups).toHaveLength(Math.ceil(250 / Math.floor(D1_MAX_PARAMS / 7)))
  })

  it('splits by bytes before parameters when values are large', () => {
    const rows = Array.from({ length: 10 }, () => ['x'.repeat(10_000)] as const)
    const groups = chunkRows(rows, 100, 50_000)
    expect(groups.map((g) => g.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
  })

  it('gives an oversized row a group of its own', () => {
    expect(chunkRows([['x'.repeat(100)], ['y']], 100, 10)).toEqual([[['x'.repeat(100)]], [['y']]])
  })
})
