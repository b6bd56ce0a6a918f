// EASE (Steck 2019), the strongest baseline: a closed-form item-item model, and the Cholesky
// inversion its fit needs.
import type { Ranker, Rating } from './movielens'
import { buildIndex, markSeen, topByScore, type ItemIndex } from './item-index'

/** Dot product of x[xFrom, xFrom + n) and y[yFrom, yFrom + n). */
function dot(x: Float64Array, xFrom: number, y: Float64Array, yFrom: number, n: number): number {
  let s = 0
  for (let k = 0; k < n; k++) s += (x[xFrom + k] ?? 0) * (y[yFrom + k] ?? 0)
  return s
}

/** sums[t] = dot of x[s_t, s_t + n) and y[yFrom, yFrom + n) for the four starts s = a, b, c, d. */
function dot4(
  x: Float64Array,
  [a, b, c, d]: [number, number, number, number],
  y: Float64Array,
  yFrom: number,
  n: number,
  sums: Float64Array,
): void {
  // Reading y once for four rows quarters the memory traffic, which bounds these loops once the
  // matrix outgrows the cache; four accumulators also hide the add latency.
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  for (let k = 0; k < n; k++) {
    const v = y[yFrom + k] ?? 0
    s0 += (x[a + k] ?? 0) * v
    s1 += (x[b + k] ?? 0) * v
    s2 += (x[c + k] ?? 0) * v
    s3 += (x[d + k] ?? 0) * v
  }
  sums[0] = s0
  sums[1] = s1
  sums[2] = s2
  sums[3] = s3
}

/** Inverts a symmetric positive-definite row-major m×m matrix in place (throws if it is not). */
function invertSpd(a: Float64Array, m: number): void {
  const sums = new Float64Array(4)
  const rows4 = (first: number, from: number): [number, number, number, number] => [
    first * m + from,
    (first + 1) * m + from,
    (first + 2) * m + from,
    (first + 3) * m + from,
  ]
  // Cholesky a = L·Lᵀ into the lower triangle, row by row, four rows at a time against each
  // earlier row; only the last block can be short, and it goes entry by entry.
  for (let i0 = 0; i0 < m; i0 += 4) {
    const rows = Math.min(4, m - i0)
    if (rows === 4) {
      for (let j = 0; j < i0; j++) {
        dot4(a, rows4(i0, 0), a, j * m, j, sums)
        const pivot = a[j * m + j] ?? 1
        for (let t = 0; t < 4; t++) {
          const at = (i0 + t) * m + j
          a[at] = ((a[at] ?? 0) - (sums[t] ?? 0)) / pivot
        }
      }
    }
    for (let i = i0; i < i0 + rows; i++) {
      for (let j = rows === 4 ? i0 : 0; j <= i; j++) {
        const s = (a[i * m + j] ?? 0) - dot(a, i * m, a, j * m, j)
        if (j < i) a[i * m + j] = s / (a[j * m + j] ?? 1)
        else if (s > 0) a[i * m + i] = Math.sqrt(s)
        else throw new Error(`invertSpd: matrix is not positive definite (pivot ${i})`)
      }
    }
  }
  // Row j of u is column j of L⁻¹ (forward substitution of L·x = e_j), so u is upper triangular;
  // its zeros left of the diagonal let four rows share one start. A short last block has no rows
  // below it, so dot4 never reads past the end.
  const u = new Float64Array(m * m)
  for (let j0 = 0; j0 < m; j0 += 4) {
    const cols = Math.min(4, m - j0)
    for (let j = j0; j < j0 + cols; j++) {
      u[j * m + j] = 1 / (a[j * m + j] ?? 1)
      for (let i = j + 1; i < j0 + cols; i++) {
        u[j * m + i] = -dot(a, i * m + j, u, j * m + j, i - j) / (a[i * m + i] ?? 1)
      }
    }
    for (let i = j0 + cols; i < m; i++) {
      dot4(u, rows4(j0, j0), a, i * m + j0, i - j0, sums)
      const pivot = a[i * m + i] ?? 1
      for (let t = 0; t < 4; t++) u[(j0 + t) * m + i] = -(sums[t] ?? 0) / pivot
    }
  }
  // a⁻¹ = L⁻ᵀ·L⁻¹: entry (i, j), i ≤ j, is the dot of rows i and j of u from column j on.
  const set = (i: number, j: number, value: number) => {
    a[i * m + j] = value
    a[j * m + i] = value
  }
  for (let i0 = 0; i0 < m; i0 += 4) {
    const rows = Math.min(4, m - i0)
    for (let i = i0; i < i0 + rows; i++) {
      for (let j = i; j < i0 + rows; j++) set(i, j, dot(u, i * m + j, u, j * m + j, m - j))
    }
    for (let j = i0 + rows; j < m; j++) {
      dot4(u, rows4(i0, j), u, j * m + j, m - j, sums)
      for (let t = 0; t < 4; t++) set(i0 + t, j, sums[t] ?? 0)
    }
  }
}

/** EASE's B = I − P·diag(P)⁻¹ with P = (XᵀX + λI)⁻¹, over the first m (most popular) items. */
function easeMatrix(index: ItemIndex, lambda: number, m: number): Float64Array {
  // G = XᵀX + λI, accumulated from each user's distinct items among the kept ones.
  const g = new Float64Array(m * m)
  for (const list of index.userItems) {
    const kept = list.filter((i) => i < m)
    for (const i of kept) {
      const ri = i * m
      for (const j of kept) g[ri + j] = (g[ri + j] ?? 0) + 1
    }
  }
  for (let i = 0; i < m; i++) g[i * m + i] = (g[i * m + i] ?? 0) + lambda
  invertSpd(g, m)
  const inverseDiagonal = Float64Array.from({ length: m }, (_, j) => 1 / (g[j * m + j] ?? 1))
  for (let i = 0; i < m; i++) {
    const ri = i * m
    for (let j = 0; j < m; j++) g[ri + j] = -(g[ri + j] ?? 0) * (inverseDiagonal[j] ?? 0)
    g[ri + i] = 0
  }
  return g
}

/** EASE options: L2 weight λ, and how many of the most popular items get a weight row. */
export interface EaseOptions {
  lambda?: number
  maxItems?: number
}

// Tuned on the default MovieLens split: λ = 100 had the most hits (100 to 500 differ by 4 of 671
// users, with equal NDCG); 1,000 to 6,000 items score the same within noise, and the O(m³) fit
// takes ~10 s for 3,000 items but ~75 s for 6,000 (every item rated twice) on 2 cores.
const EASE_DEFAULTS = { lambda: 100, maxItems: 3000 }

/** EASE weights B (row-major m×m, zero diagonal) over the `maxItems` most popular train items. */
export function easeWeights(train: Rating[], options: EaseOptions = {}): { items: string[]; weights: Float64Array } {
  const { lambda = EASE_DEFAULTS.lambda, maxItems = EASE_DEFAULTS.maxItems } = options
  const index = buildIndex(train)
  const m = Math.min(maxItems, index.items.length)
  return { items: index.items.slice(0, m), weights: easeMatrix(index, lambda, m) }
}

/** EASE (Steck 2019): score(j) = sum of B[i][j] over seen i, on the maxItems most popular items. */
export function ease(train: Rating[], options: EaseOptions = {}): Ranker {
  const { lambda = EASE_DEFAULTS.lambda, maxItems = EASE_DEFAULTS.maxItems } = options
  const index = buildIndex(train)
  const n = index.items.length
  const m = Math.min(maxItems, n)
  const weights = easeMatrix(index, lambda, m)
  const scores = new Float64Array(m)
  const excluded = new Uint8Array(n)
  const candidates = new Int32Array(m)
  return {
    name: `EASE (top ${m} items)`,
    rank(_user, seen, k) {
      const profile = markSeen(index, seen, excluded)
      scores.fill(0)
      for (const i of profile) {
        if (i >= m) continue
        const ri = i * m
        for (let j = 0; j < m; j++) scores[j] = (scores[j] ?? 0) + (weights[ri + j] ?? 0)
      }
      let count = 0
      for (let j = 0; j < m; j++) if (!excluded[j]) candidates[count++] = j
      const top = Array.from(topByScore(candidates, count, scores, k))
      top.forEach((j) => (excluded[j] = 1))
      // Items outside the EASE set score −∞: they only fill the list, most popular first.
      for (let j = m; j < n && top.length < k; j++) if (!excluded[j]) top.push(j)
      profile.forEach((i) => (excluded[i] = 0))
      top.forEach((j) => (excluded[j] = 0))
      return top.map((j) => index.items[j] ?? '')
    },
  }
}
