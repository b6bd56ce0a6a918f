import { describe, expect, it } from 'vitest'
import { itemKnn, mostPopular } from './baselines'
import { ease, easeFit, easeWeights, invertSpd } from './ease'
import { buildIndex } from './item-index'
import { markov, transitionRows } from './markov'
import type { Interaction, Query, Ranker } from './protocol'
import { meanAndStandardError, pairedBootstrap } from './stats'

/** Interactions from `user item` pairs, one second apart in the given order. */
const interactions = (pairs: string): Interaction[] =>
  pairs
    .trim()
    .split(/\s*;\s*/)
    .map((pair, line) => {
      const [user = '', item = ''] = pair.split(' ')
      return { user, item, kind: 'rate', rating: 1, ts: line * 1000, session: user, tie: 0, line }
    })

/** Every item of `train`, then `extra` (catalog items nobody interacted with). */
const catalogOf = (train: Interaction[], ...extra: string[]) => [...new Set(train.map((r) => r.item)), ...extra]

/** A query whose history is `items`, oldest first, excluding `exclude` (by default the history). */
const ask = (items: string[], k: number, exclude: string[] = items): Query => ({
  user: 'asker',
  history: items.map((item, line) => ({ user: 'asker', item, kind: 'view', ts: line, session: 's', tie: 0, line })),
  exclude: new Set(exclude),
  k,
  now: items.length + 1000,
})

// Two independent pairs: x with p (2 shared users), y with q (2 shared users, y one more of its own), so that
// p is x's strongest neighbour, q y's, and x's tie to p is the stronger one (cosine 1 > 2/√6; EASE with λ = 1:
// B[x][p] = 2/3 > B[y][q] = 1/2). With y the newest of [x, y], halving by position makes q win.
const pairs = interactions('u1 x; u1 p; u2 x; u2 p; u3 y; u3 q; u4 y; u4 q; u5 y')

describe('mostPopular', () => {
  const train = interactions('u1 b; u2 b; u3 b; u1 a; u2 a; u2 c; u3 c; u4 d; u5 10; u6 9; u6 9; u6 9')

  it('ranks by distinct users, ties by item id, then never-interacted catalog items in catalog order', () => {
    // b has 3 users, a and c 2, the rest 1 (u6's three 9s count once); integer ids compare as numbers.
    const ranker = mostPopular(train, catalogOf(train, 'zz', 'new'))
    expect(ranker.rank(ask([], 10))).toEqual(['b', 'a', 'c', '9', '10', 'd', 'zz', 'new'])
    expect(ranker.rank(ask(['b', 'a'], 3))).toEqual(['c', '9', '10'])
  })

  it('answers only catalog items', () => {
    const ranker = mostPopular(train, ['d', 'c', 'a'])
    expect(ranker.rank(ask([], 5))).toEqual(['a', 'c', 'd'])
  })
})

describe('itemKnn', () => {
  // Binary cosine: sim(a,b) = sim(b,c) = 2/√6, sim(a,c) = 1/√4 = 0.5; d shares no user; e has none.
  const train = interactions('u1 a; u1 b; u2 a; u2 b; u2 c; u3 b; u3 c; u4 d')
  const catalog = catalogOf(train, 'e')

  it('ranks by summed cosine similarity, then fills by popularity and catalog order', () => {
    const ranker = itemKnn(train, catalog)
    expect(ranker.rank(ask(['a'], 3))).toEqual(['b', 'c', 'd'])
    expect(ranker.rank(ask(['c'], 3))).toEqual(['b', 'a', 'd'])
    expect(ranker.rank(ask(['a', 'b'], 3))).toEqual(['c', 'd', 'e'])
    expect(ranker.rank(ask(['a'], 10))).toEqual(['b', 'c', 'd', 'e'])
  })

  it('excludes only the query`s exclude set, so a history item may be answered', () => {
    // c = sim(a,c) + sim(b,c) = 0.5 + 2/√6 leads b = sim(a,b) = 2/√6; a itself is excluded.
    expect(itemKnn(train, catalog).rank(ask(['a', 'b'], 2, ['a']))).toEqual(['c', 'b'])
  })

  it('weights the newest distinct items most when recency < 1', () => {
    const catalog = catalogOf(pairs)
    expect(itemKnn(pairs, catalog).rank(ask(['x', 'y'], 2))).toEqual(['p', 'q'])
    expect(itemKnn(pairs, catalog, { recency: 0.5 }).rank(ask(['x', 'y'], 2))).toEqual(['q', 'p'])
    // A repeated item takes its latest position: x is the newest again.
    expect(itemKnn(pairs, catalog, { recency: 0.5 }).rank(ask(['x', 'y', 'x'], 2, ['x', 'y']))).toEqual(['p', 'q'])
    // Positions count distinct items: x is one back, not three (0.9 · 1 > 2/√6 > 0.9³ · 1).
    expect(itemKnn(pairs, catalog, { recency: 0.9 }).rank(ask(['x', 'y', 'y', 'y'], 1))).toEqual(['p'])
    expect(itemKnn(pairs, catalog, { window: 1 }).rank(ask(['x', 'y'], 1))).toEqual(['q'])
  })

  it('normalises co-occurrence by popularity (cosine)', () => {
    // a and b share 2 users, a and c 1; b has 9 users, c only that one: cos(a,c) = 1/√3 > cos(a,b) = 2/√27.
    const train = interactions('u1 a; u1 b; u2 a; u2 b; u3 a; u3 c; u4 b; u5 b; u6 b; u7 b; u8 b; u9 b; u10 b')
    expect(itemKnn(train, catalogOf(train)).rank(ask(['a'], 2))).toEqual(['c', 'b'])
  })

  it('counts history items unknown to the model in the positions', () => {
    // The visit's newest item has no train row; with a window of 1 nothing scores and popularity answers.
    const ranker = itemKnn(pairs, catalogOf(pairs), { window: 1 })
    expect(ranker.rank(ask(['x', 'fresh'], 2, ['x']))).toEqual(['y', 'p'])
    expect(ranker.rank(ask(['fresh', 'x'], 1, ['x']))).toEqual(['p'])
  })

  it('only scores items among each history item`s top neighbours', () => {
    // sim(x,y) = 2/3 > sim(x,z) = 1/√6 > sim(x,w) = 0, but w is more popular than z.
    const more = interactions('u1 x; u1 y; u2 x; u2 y; u3 x; u3 z; u4 y; u5 w; u6 w; u7 w; u8 z')
    expect(itemKnn(more, catalogOf(more)).rank(ask(['x'], 3))).toEqual(['y', 'z', 'w'])
    expect(itemKnn(more, catalogOf(more), { neighbours: 1 }).rank(ask(['x'], 3))).toEqual(['y', 'w', 'z'])
  })
})

describe('ease', () => {
  /** G = XᵀX + λI over `items`, straight from the (user, item) pairs. */
  const gram = (train: Interaction[], items: string[], lambda: number) => {
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
  const at = (g: number[][], i: number, j: number) => g[i]![j]!

  it('computes B = −P / diag(P), zero diagonal, with P = (XᵀX + λI)⁻¹', () => {
    // Items by popularity b, a, c; with λ = 1, G = [[4,2,2],[2,3,1],[2,1,3]] and det G = 16, so
    // P = [[8,−4,−4],[−4,8,0],[−4,0,8]] / 16 and B = [[0,½,½],[½,0,0],[½,0,0]].
    const train = interactions('u1 a; u1 b; u2 a; u2 b; u2 c; u3 b; u3 c')
    const { items, weights } = easeWeights(train, catalogOf(train, 'never'), { lambda: 1 })
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
      for (let j = 0; j < 3; j++) expect(weights[i * 3 + j]).toBeCloseTo(i === j ? 0 : -p(i, j) / p(j, j), 12)
    }
    expect(Array.from(weights)).toEqual([0, 0.5, 0.5, 0.5, 0, 0, 0.5, 0, 0].map((w) => expect.closeTo(w, 12)))
  })

  it('is not symmetric: with two items, B[i][j] = c / (n_i + λ)', () => {
    // a has 4 users, b 2, both shared: B[a][b] = 2/5, B[b][a] = 2/3 (a ridge regression of j on i).
    const train = interactions('u1 a; u1 b; u2 a; u2 b; u3 a; u4 a')
    const { items, weights } = easeWeights(train, catalogOf(train), { lambda: 1 })
    expect(items).toEqual(['a', 'b'])
    expect(Array.from(weights)).toEqual([0, 2 / 5, 2 / 3, 0].map((w) => expect.closeTo(w, 14)))
  })

  it('inverts larger G exactly: G·(I − B) = diag(P)⁻¹ is diagonal', () => {
    // 11 items are one padded panel; see invertSpd below for several.
    let seed = 7
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647
    const list: string[] = []
    for (let u = 0; u < 40; u++) {
      for (let i = 0; i < 11; i++) if (random() < 0.6 - i / 25) list.push(`u${u} i${i}`)
    }
    const train = interactions(list.join('; '))
    const { items, weights } = easeWeights(train, catalogOf(train), { lambda: 3 })
    const m = items.length
    expect(m).toBe(11)
    const g = gram(train, items, 3)
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0
        for (let k = 0; k < m; k++) s += at(g, i, k) * ((k === j ? 1 : 0) - weights[k * m + j]!)
        if (i === j) expect(s).toBeGreaterThan(0)
        else expect(s).toBeCloseTo(0, 10)
      }
    }
  })

  // c is the most popular item but never co-occurs with a and b: with λ = 1, B[a][b] = 2/3; e has no users.
  const train = interactions('u1 a; u1 b; u2 a; u2 b; u3 c; u4 c; u5 c; u6 d')
  const catalog = catalogOf(train, 'e')

  it('ranks by summed B rows over every train item, items without users only filling', () => {
    const ranker = ease(train, catalog, { lambda: 1 })
    expect(ranker.name).toBe('EASE (λ = 1)')
    expect(ranker.rank(ask(['a'], 3))).toEqual(['b', 'c', 'd'])
    expect(ranker.rank(ask(['a'], 10))).toEqual(['b', 'c', 'd', 'e'])
    expect(ranker.rank(ask(['a', 'b', 'unknown'], 10))).toEqual(['c', 'd', 'e'])
    expect(ranker.rank(ask(['a', 'b', 'c', 'd'], 10))).toEqual(['e'])
    expect(ranker.rank(ask([], 2))).toEqual(['c', 'a'])
  })

  it('weights the newest distinct items most when recency < 1', () => {
    const catalog = catalogOf(pairs)
    expect(ease(pairs, catalog, { lambda: 1 }).rank(ask(['x', 'y'], 2))).toEqual(['p', 'q'])
    expect(ease(pairs, catalog, { lambda: 1, recency: 0.5 }).rank(ask(['x', 'y'], 2))).toEqual(['q', 'p'])
    expect(ease(pairs, catalog, { lambda: 1, window: 1 }).rank(ask(['x', 'y'], 1))).toEqual(['q'])
  })

  it('fits once per λ and ranks as ease would under any position weighting', () => {
    // x has 1 user, who also had p; y has 5, of whom 3 had q. B[x][p] = 1/(1 + λ) and B[y][q] = 3/(5 + λ), so
    // p leads below λ = 1 and q above it.
    const train = interactions('u1 x; u1 p; u2 y; u2 q; u3 y; u3 q; u4 y; u4 q; u5 y; u6 y')
    const catalog = catalogOf(train)
    const fits = [0.5, 10].map((lambda) => easeFit(train, catalog, { lambda }))
    const rankers = fits.map((fit) => fit({}))
    expect(rankers.map((r) => r.name)).toEqual(['EASE (λ = 0.5)', 'EASE (λ = 10)'])
    expect(rankers.map((r) => r.rank(ask(['x', 'y'], 1)))).toEqual([['p'], ['q']])
    for (const [t, lambda] of [0.5, 10].entries()) {
      for (const recency of [{}, { recency: 0.5, window: 1 }]) {
        const single = ease(train, catalog, { lambda, ...recency })
        for (const history of [['x'], ['x', 'y'], ['q', 'y'], []]) {
          expect(fits[t]!(recency).rank(ask(history, 6, []))).toEqual(single.rank(ask(history, 6, [])))
        }
      }
    }
  })
})

describe('invertSpd', () => {
  /** A random symmetric positive-definite m×m matrix: co-occurrence counts of random baskets plus λI. */
  const spd = (m: number, seed: number) => {
    let state = seed
    const random = () => (state = (state * 48271) % 2147483647) / 2147483647
    const g = new Float64Array(m * m)
    for (let u = 0; u < 3 * m; u++) {
      const basket = Array.from({ length: m }, (_, i) => i).filter(() => random() < 0.1)
      for (const i of basket) for (const j of basket) g[i * m + j]! += 1
    }
    for (let i = 0; i < m; i++) g[i * m + i]! += 2
    return g
  }

  it('inverts across several panels and a padded edge: G·P = I', () => {
    const m = 150
    const g = spd(m, 11)
    const p = g.slice()
    invertSpd(p, m, 1)
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0
        for (let k = 0; k < m; k++) s += g[i * m + k]! * p[k * m + j]!
        expect(s).toBeCloseTo(i === j ? 1 : 0, 10)
      }
      expect(p[i * m + ((i + 1) % m)]).toBe(p[((i + 1) % m) * m + i])
    }
  })

  it('gives the same bits on worker threads as on this one', () => {
    const m = 150
    const [one, two] = [spd(m, 5), spd(m, 5)]
    invertSpd(one, m, 1)
    invertSpd(two, m, 2)
    expect(two).toEqual(one)
  })

  it('throws on a matrix that is not positive definite, on any thread count', () => {
    const g = new Float64Array(70 * 70)
    for (let i = 0; i < 70; i++) g[i * 70 + i] = 1
    g[66 * 70 + 66] = -1
    expect(() => invertSpd(g.slice(), 70, 1)).toThrow(/not positive definite \(pivot 66\)/)
    expect(() => invertSpd(g.slice(), 70, 2)).toThrow(/not positive definite \(pivot 66\)/)
  })
})

describe('markov', () => {
  it('counts directed transitions between consecutive distinct items, once per user', () => {
    // u1: a→b, b→c; u2: a→c; u3: b→a; u4's a a b a b merges to a b a b: a→b and b→a, each once.
    const train = interactions('u1 a; u1 b; u1 c; u2 a; u2 c; u3 b; u3 a; u4 a; u4 a; u4 b; u4 a; u4 b')
    const index = buildIndex(train, catalogOf(train))
    const rows = transitionRows(train, index.indexOf, index.items.length)
    const row = (item: string) => {
      const { ids, weights } = rows[index.indexOf.get(item)!]!
      return Object.fromEntries(Array.from(ids, (j, t) => [index.items[j], weights[t]]))
    }
    expect(row('a')).toEqual({ b: 2 / 3, c: 1 / 3 })
    expect(row('b')).toEqual({ c: 1 / 3, a: 2 / 3 })
    expect(row('c')).toEqual({})
  })

  it('follows time, not input order, and never counts j→i for i→j', () => {
    // u1 did a, then b; listed in reverse. Nothing follows b, so a query on b falls back to popularity.
    const train = [...interactions('u1 a; u1 b; u2 c; u3 c')].reverse()
    const ranker = markov(train, catalogOf(train))
    expect(ranker.rank(ask(['a'], 1))).toEqual(['b'])
    expect(ranker.rank(ask(['b'], 2))).toEqual(['c', 'a'])
  })

  // x→p always; y→q for 3 of 5 users, y→s for 2.
  const train = interactions('u1 x; u1 p; u2 y; u2 q; u3 y; u3 q; u4 y; u4 q; u5 y; u5 s; u6 y; u6 s')
  const catalog = catalogOf(train, 'new')

  it('halves by position over the 5 newest items by default', () => {
    // Newest y: q = 0.6, s = 0.4; x one older: p = 0.5.
    expect(markov(train, catalog).rank(ask(['x', 'y'], 3))).toEqual(['q', 'p', 's'])
    expect(markov(train, catalog, { recency: 1 }).rank(ask(['x', 'y'], 3))).toEqual(['p', 'q', 's'])
    expect(markov(train, catalog, { window: 1 }).rank(ask(['x', 'y'], 3))).toEqual(['q', 's', 'p'])
    expect(markov(train, catalog).rank(ask(['x', 'y', 'a', 'b', 'c', 'd'], 1))).toEqual(['q'])
    expect(markov(train, catalog).rank(ask(['y', 'x', 'a', 'b', 'c', 'd'], 1))).toEqual(['p'])
  })
})

describe('every model', () => {
  const train = interactions(
    'u1 a; u1 b; u1 c; u2 b; u2 c; u2 d; u3 a; u3 d; u3 e; u4 e; u4 f; u5 b; u5 f; u5 a; u6 g; u6 g; u7 c',
  )
  const catalog = [...catalogOf(train), 'h', 'i', 'j']
  const models: Ranker[] = [
    mostPopular(train, catalog),
    itemKnn(train, catalog, { recency: 0.7, window: 30 }),
    ease(train, catalog, { lambda: 2, recency: 0.7 }),
    markov(train, catalog),
  ]

  const cases: Array<[history: string[], exclude: string[]]> = [
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
    [['c', 'out-of-catalog', 'e'], ['c']],
    [[], ['a', 'h']],
    [
      ['g', 'g', 'f'],
      ['g', 'f', 'b', 'c', 'd'],
    ],
  ]

  it.each(models.map((model) => [model.name, model] as const))(
    '%s answers exactly k distinct catalog items, none excluded',
    async (_, model) => {
      for (const [history, exclude] of cases) {
        const allowed = catalog.filter((item) => !exclude.includes(item))
        for (const k of [0, 1, 4, 9]) {
          const top = await model.rank(ask(history, k, exclude))
          expect(top).toHaveLength(Math.min(k, allowed.length))
          expect(new Set(top).size).toBe(top.length)
          for (const item of top) expect(allowed).toContain(item)
        }
        // Asked for everything, it fills with the never-interacted catalog items too.
        expect((await model.rank(ask(history, 100, exclude))).sort()).toEqual(allowed.sort())
      }
    },
  )
})

describe('pairedBootstrap', () => {
  const noisy = [0.3, 0, 1, 0.5, 0, 0, 0.63, 1, 0.2, 0]
  const other = [0, 0, 1, 0.43, 0.5, 0, 0, 1, 0, 0.1]

  it('finds no difference between identical lists', () => {
    expect(pairedBootstrap(noisy, noisy)).toEqual({
      difference: 0,
      low: 0,
      high: 0,
      relative: { value: 0, low: 0, high: 0 },
    })
  })

  it('gives a constant shift exactly, and a constant factor as its relative figure', () => {
    const base = [0, 0.5, 1, 0.25, 0.75, 2]
    const shifted = pairedBootstrap(
      base.map((x) => x + 0.25),
      base,
    )
    expect([shifted.difference, shifted.low, shifted.high]).toEqual([0.25, 0.25, 0.25])
    const doubled = pairedBootstrap(
      base.map((x) => 2 * x),
      base,
    )
    expect(doubled.relative).toEqual({ value: 1, low: 1, high: 1 })
  })

  it('takes the percentile interval of the resampled mean difference', () => {
    // Resampled means of differences [1, 0] are 0, ½ and 1 with odds ¼, ½, ¼: the tails hold 0 and 1.
    expect(pairedBootstrap([1, 0], [0, 0])).toMatchObject({ difference: 0.5, low: 0, high: 1 })
    const r = pairedBootstrap(noisy, other)
    expect(r.difference).toBeCloseTo(0.06, 12)
    expect(r.low).toBeLessThan(r.difference)
    expect(r.high).toBeGreaterThan(r.difference)
    expect(r.relative.value).toBeCloseTo(3.63 / 3.03 - 1, 12)
    expect(r.relative.low).toBeLessThan(r.relative.value)
    expect(r.relative.high).toBeGreaterThan(r.relative.value)
  })

  it('covers 95% of the resampled means', () => {
    // 50 ones and 50 zeros: the mean difference resamples as Binomial(100, ½)/100, sd 0.05, so the interval is
    // close to 0.5 ± 1.96 · 0.05 (a 90% one would be ± 1.64 · 0.05).
    const half = Array.from({ length: 100 }, (_, i) => i % 2)
    const r = pairedBootstrap(half, new Array(100).fill(0), { samples: 20_000 })
    expect(r.low).toBeCloseTo(0.5 - 1.96 * 0.05, 2)
    expect(r.high).toBeCloseTo(0.5 + 1.96 * 0.05, 2)
  })

  it('is deterministic under its seed', () => {
    expect(pairedBootstrap(noisy, other, { seed: 3 })).toEqual(pairedBootstrap(noisy, other, { seed: 3 }))
    expect(pairedBootstrap(noisy, other, { seed: 3 }).low).not.toBe(pairedBootstrap(noisy, other, { seed: 4 }).low)
  })

  it('rejects unpaired lists', () => {
    expect(() => pairedBootstrap([1, 2], [1])).toThrow(/equally long/)
    expect(() => pairedBootstrap([], [])).toThrow(/non-empty/)
  })
})

describe('meanAndStandardError', () => {
  it('divides the sample standard deviation by √n', () => {
    const { mean, standardError } = meanAndStandardError([1, 2, 3, 4])
    expect(mean).toBe(2.5)
    expect(standardError).toBeCloseTo(Math.sqrt(5 / 3) / 2, 14)
    expect(meanAndStandardError([5]).standardError).toBeNaN()
  })
})
