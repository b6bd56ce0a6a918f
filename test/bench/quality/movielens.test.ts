import { describe, expect, it } from 'vitest'
import { leaveLastOut, parseRatings, type Rating, type Ranker } from './movielens'
import { itemKnn, mostPopular } from './baselines'
import { ease, easeWeights } from './ease'
import { evaluate, formatTable } from './metrics'

/** Ratings from `user item` pairs, one second apart in the given order. */
const interactions = (pairs: string): Rating[] =>
  pairs
    .trim()
    .split(/\s*;\s*/)
    .map((pair, line) => {
      const [user = '', item = ''] = pair.split(' ')
      return { user, item, rating: 1, ts: line, line }
    })

describe('parseRatings', () => {
  it('reads tab-separated u.data without a header', () => {
    expect(parseRatings('196\t242\t3\t881250949\n186\t302\t3\t891717742\n')).toEqual([
      { user: '196', item: '242', rating: 3, ts: 881250949, line: 0 },
      { user: '186', item: '302', rating: 3, ts: 891717742, line: 1 },
    ])
  })

  it('reads comma-separated ratings with a header, CRLF and blank lines', () => {
    const text = 'userId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n\r\n1,1029,3.0,1260759179\r\n'
    expect(parseRatings(text)).toEqual([
      { user: '1', item: '31', rating: 2.5, ts: 1260759144, line: 1 },
      { user: '1', item: '1029', rating: 3, ts: 1260759179, line: 3 },
    ])
  })

  it('throws on a malformed line, naming its 1-based line number', () => {
    expect(() => parseRatings('1,2,3,4\n1,2,x,4\n')).toThrow(/line 2\b/)
    expect(() => parseRatings('1\t2\t3\n')).toThrow(/line 1\b/)
    expect(() => parseRatings('user,item,rating,ts\n1,2,3,4\nuser,item,rating,ts\n')).toThrow(/line 3\b/)
  })
})

describe('leaveLastOut', () => {
  const ratings = parseRatings(
    ['u1,a,5,100', 'u1,b,3,200', 'u1,c,4,200', 'u2,d,1,50', 'u3,e,2,300', 'u3,f,2,100'].join('\n'),
  )

  it('holds out the latest interaction, the later line winning a timestamp tie', () => {
    const { train, test } = leaveLastOut(ratings)
    expect([...test].map(([user, r]) => [user, r.item])).toEqual([
      ['u1', 'c'],
      ['u3', 'e'],
    ])
    expect(train.map((r) => r.item)).toEqual(['a', 'b', 'd', 'f'])
  })

  it('breaks ties by line, not by array order', () => {
    const { test } = leaveLastOut([...ratings].reverse())
    expect(test.get('u1')?.item).toBe('c')
  })

  it('keeps single-interaction users in train only', () => {
    const { train, test } = leaveLastOut(ratings)
    expect(test.has('u2')).toBe(false)
    expect(train.some((r) => r.user === 'u2')).toBe(true)
  })
})

describe('evaluate', () => {
  const lists: Record<string, string[]> = {
    u1: ['x', 'p', 'q'],
    u2: ['p', 'q', 'y'],
    u3: ['p', 'q', 'r', 's', 't', 'v', 'w', 'o', 'n', 'm', 'z'],
    u4: ['p'],
  }
  const received: Record<string, string[]> = {}
  const fixed: Ranker = {
    name: 'fixed',
    rank(user, seen) {
      received[user] = [...seen]
      return lists[user] ?? []
    },
  }
  const train = interactions('u1 a; u1 b; u2 c; u3 d; u4 e')
  const held = (user: string, item: string, line: number) => ({
    user,
    item,
    rating: 1,
    ts: 99,
    line,
  })
  const test = new Map([
    ['u1', held('u1', 'x', 10)],
    ['u2', held('u2', 'y', 11)],
    ['u3', held('u3', 'z', 12)],
    ['u4', held('u4', 'zz', 13)],
  ])

  it('computes HR@10 and NDCG@10 over all evaluated users', async () => {
    // u1 hits at rank 1 (gain 1), u2 at rank 3 (gain 1/log2(4) = 0.5); u3 (rank 11) and u4 miss.
    const quality = await evaluate(fixed, train, test)
    expect(quality.users).toBe(4)
    expect(quality.hr).toBeCloseTo(2 / 4, 12)
    expect(quality.ndcg).toBeCloseTo(1.5 / 4, 12)
    expect(quality.seconds).toBeGreaterThanOrEqual(0)
  })

  it('cuts each list at k and passes the user train items as seen', async () => {
    const quality = await evaluate(fixed, train, test, 2)
    expect(quality.hr).toBeCloseTo(1 / 4, 12)
    expect(quality.ndcg).toBeCloseTo(1 / 4, 12)
    expect(received).toEqual({ u1: ['a', 'b'], u2: ['c'], u3: ['d'], u4: ['e'] })
  })

  it('reports zeros, not NaN, when nobody is evaluated', async () => {
    expect(await evaluate(fixed, train, new Map())).toMatchObject({ hr: 0, ndcg: 0, users: 0 })
  })
})

describe('mostPopular', () => {
  const train = interactions('u1 b; u2 b; u3 b; u1 a; u2 a; u2 c; u3 c; u4 d; u5 10; u6 9')

  it('ranks by interaction count, ties by item id, never returning seen items', () => {
    // b has 3, a and c have 2, the rest 1; integer ids compare as numbers.
    const ranker = mostPopular(train)
    expect(ranker.rank('u9', new Set(), 10)).toEqual(['b', 'a', 'c', '9', '10', 'd'])
    expect(ranker.rank('u1', new Set(['b', 'a']), 3)).toEqual(['c', '9', '10'])
  })
})

describe('itemKnn', () => {
  // Binary cosine: sim(a,b) = sim(b,c) = 2/√6, sim(a,c) = 1/√4 = 0.5; d shares no user.
  const train = interactions('u1 a; u1 b; u2 a; u2 b; u2 c; u3 b; u3 c; u4 d')

  it('ranks unseen items by summed cosine similarity, then fills by popularity', () => {
    const ranker = itemKnn(train)
    expect(ranker.rank('u1', new Set(['a']), 3)).toEqual(['b', 'c', 'd'])
    expect(ranker.rank('u3', new Set(['c']), 3)).toEqual(['b', 'a', 'd'])
    expect(ranker.rank('u1', new Set(['a', 'b']), 3)).toEqual(['c', 'd'])
  })

  it('never recommends seen items and serves unknown users by popularity', () => {
    const ranker = itemKnn(train)
    expect(ranker.rank('new', new Set(), 2)).toEqual(['b', 'a'])
    expect(ranker.rank('new', new Set(['b', 'unknown']), 10)).toEqual(['a', 'c', 'd'])
  })

  it('only scores items among each seen item`s top neighbours', () => {
    // sim(x,y) = 2/3 > sim(x,z) = 1/√6 > sim(x,w) = 0, but w is more popular than z.
    const more = interactions('u1 x; u1 y; u2 x; u2 y; u3 x; u3 z; u4 y; u5 w; u6 w; u7 w; u8 z')
    expect(itemKnn(more).rank('u1', new Set(['x']), 3)).toEqual(['y', 'z', 'w'])
    expect(itemKnn(more, 1).rank('u1', new Set(['x']), 3)).toEqual(['y', 'w', 'z'])
  })
})

describe('ease', () => {
  /** G = XᵀX + λI over `items`, straight from the (user, item) pairs. */
  const gram = (train: Rating[], items: string[], lambda: number) => {
    const users = new Map<string, Set<string>>()
    for (const r of train) users.set(r.user, (users.get(r.user) ?? new Set()).add(r.item))
    return items.map((i, a) =>
      items.map((j, b) => {
        let count = a === b ? lambda : 0
        for (const seen of users.values()) if (seen.has(i) && seen.has(j)) count += 1
        return count
      }),
    )
  }
  const at = (g: number[][], i: number, j: number) => g[i]?.[j] ?? 0

  it('computes B = −P / diag(P), zero diagonal, with P = (XᵀX + λI)⁻¹', () => {
    // Items by popularity b, a, c; with λ = 1, G = [[4,2,2],[2,3,1],[2,1,3]] and det G = 16, so
    // P = [[8,−4,−4],[−4,8,0],[−4,0,8]] / 16 and B = [[0,½,½],[½,0,0],[½,0,0]].
    const train = interactions('u1 a; u1 b; u2 a; u2 b; u2 c; u3 b; u3 c')
    const { items, weights } = easeWeights(train, { lambda: 1 })
    expect(items).toEqual(['b', 'a', 'c'])
    const g = gram(train, items, 1)
    // The inverse by cofactors: P[i][j] = C[j][i] / det, and G is symmetric.
    const cofactor = (i: number, j: number) => {
      const [r0 = 0, r1 = 0] = [0, 1, 2].filter((r) => r !== i)
      const [c0 = 0, c1 = 0] = [0, 1, 2].filter((c) => c !== j)
      const minor = at(g, r0, c0) * at(g, r1, c1) - at(g, r0, c1) * at(g, r1, c0)
      return (i + j) % 2 ? -minor : minor
    }
    const det = [0, 1, 2].reduce((sum, j) => sum + at(g, 0, j) * cofactor(0, j), 0)
    expect(det).toBe(16)
    const p = (i: number, j: number) => cofactor(j, i) / det
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const expected = i === j ? 0 : -p(i, j) / p(j, j)
        expect(weights[i * 3 + j]).toBeCloseTo(expected, 12)
      }
    }
    expect(Array.from(weights)).toEqual([0, 0.5, 0.5, 0.5, 0, 0, 0.5, 0, 0].map((w) => expect.closeTo(w, 12)))
  })

  it('inverts larger G exactly: G·(I − B) = diag(P)⁻¹ is diagonal', () => {
    // 11 items exercise both the four-row blocks and the short last block of the inverse.
    let seed = 7
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647
    const pairs: string[] = []
    for (let u = 0; u < 40; u++) {
      for (let i = 0; i < 11; i++) if (random() < 0.6 - i / 25) pairs.push(`u${u} i${i}`)
    }
    const train = interactions(pairs.join('; '))
    const { items, weights } = easeWeights(train, { lambda: 3 })
    const m = items.length
    expect(m).toBe(11)
    const g = gram(train, items, 3)
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0
        for (let k = 0; k < m; k++) {
          s += at(g, i, k) * ((k === j ? 1 : 0) - (weights[k * m + j] ?? 0))
        }
        if (i === j) expect(s).toBeGreaterThan(0)
        else expect(s).toBeCloseTo(0, 10)
      }
    }
  })

  // c is the most popular item but never co-occurs with a and b: with λ = 1, B[a][b] = 2/3.
  const train = interactions('u1 a; u1 b; u2 a; u2 b; u3 c; u4 c; u5 c; u6 d')

  it('ranks unseen items by summed B rows, never returning seen ones', () => {
    const ranker = ease(train, { lambda: 1 })
    expect(ranker.name).toBe('EASE (top 4 items)')
    expect(ranker.rank('u1', new Set(['a']), 3)).toEqual(['b', 'c', 'd'])
    expect(ranker.rank('u1', new Set(['a', 'b', 'unknown']), 10)).toEqual(['c', 'd'])
    expect(ranker.rank('u9', new Set(['a', 'b', 'c', 'd']), 10)).toEqual([])
    expect(ranker.rank('new', new Set(), 2)).toEqual(['c', 'a'])
  })

  it('scores only the maxItems most popular items, filling the rest by popularity', () => {
    const ranker = ease(train, { lambda: 1, maxItems: 2 })
    expect(ranker.name).toBe('EASE (top 2 items)')
    expect(easeWeights(train, { lambda: 1, maxItems: 2 }).items).toEqual(['c', 'a'])
    expect(easeWeights(train, { lambda: 1, maxItems: 2 }).weights).toHaveLength(4)
    // b is outside the EASE set: c (B[a][c] = 0) outranks it though only b co-occurs with a.
    expect(ranker.rank('u1', new Set(['a']), 3)).toEqual(['c', 'b', 'd'])
    expect(ranker.rank('u1', new Set(['c', 'a']), 1)).toEqual(['b'])
  })
})

describe('formatTable', () => {
  it('aligns columns with 4 decimals for quality and 1 for seconds', () => {
    const table = formatTable([
      {
        model: 'vista for-you',
        hr: 0.123456,
        ndcg: 0.05,
        replaySeconds: 612.34,
        scoringSeconds: 3.06,
      },
      { model: 'ItemKNN', hr: 0.1, ndcg: 0.0456789, replaySeconds: 1, scoringSeconds: 0.04 },
    ])
    const lines = table.split('\n')
    expect(lines[0]).toMatch(/^model\s+HR@10\s+NDCG@10\s+replay s\s+scoring s$/)
    expect(lines[2]).toMatch(/^vista for-you\s+0\.1235\s+0\.0500\s+612\.3\s+3\.1$/)
    expect(lines[3]).toMatch(/^ItemKNN\s+0\.1000\s+0\.0457\s+1\.0\s+0\.0$/)
    expect(new Set(lines.map((l) => l.length)).size).toBe(1)
  })
})
