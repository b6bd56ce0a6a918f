// EASE (Steck 2019), the strongest baseline: a closed-form item-item model over every train item, and the
// parallel Cholesky inversion its fit needs.
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { answer, buildIndex, type ItemIndex, profile, type Recency } from './item-index'
import type { Interaction, Ranker } from './protocol'

// Cells of the shared Int32Array that coordinates the inversion's threads; invertShare also uses cells 0
// (threads at the barrier) and 1 (barrier generation), and names cell 2 by number, as its source text
// stands alone in a worker.
const FAILED = 2
const STARTED = 3
const FINISHED = 4

/**
 * Overwrites the symmetric positive-definite n×n row-major `a` (n a multiple of 64) with its inverse, as
 * thread `rank` of `size`, using the zeroed n×n `u` as scratch. Every thread runs this on the same arrays and
 * takes every size-th block of four rows. Self-contained: worker threads run it from its source text.
 */
function invertShare(a: Float64Array, u: Float64Array, sync: Int32Array, n: number, rank: number, size: number) {
  // False once a thread failed (a pivot that is not positive, or a crash): then every thread returns.
  const proceed = () => {
    const generation = Atomics.load(sync, 1)
    if (Atomics.add(sync, 0, 1) === size - 1) {
      Atomics.store(sync, 0, 0)
      Atomics.add(sync, 1, 1)
      Atomics.notify(sync, 1)
    } else {
      // A timed wait, so that a thread that died cannot leave the others waiting for ever.
      while (Atomics.load(sync, 1) === generation && !Atomics.load(sync, 2)) Atomics.wait(sync, 1, generation, 1000)
    }
    return !Atomics.load(sync, 2)
  }
  const mine = (row: number) => (row >> 2) % size === rank
  // s[4r + t] = Σ x[(xi + r)·n + k]·y[(yj + t)·n + k] over k in [from, to): sixteen dot products that use
  // each loaded value four times, as loads are what bound these loops in JavaScript (twice dot4's speed here).
  const s = new Float64Array(16)
  const tile = (x: Float64Array, xi: number, y: Float64Array, yj: number, from: number, to: number) => {
    const x0 = xi * n
    const x1 = x0 + n
    const x2 = x1 + n
    const x3 = x2 + n
    const y0 = yj * n
    const y1 = y0 + n
    const y2 = y1 + n
    const y3 = y2 + n
    let s00 = 0
    let s01 = 0
    let s02 = 0
    let s03 = 0
    let s10 = 0
    let s11 = 0
    let s12 = 0
    let s13 = 0
    let s20 = 0
    let s21 = 0
    let s22 = 0
    let s23 = 0
    let s30 = 0
    let s31 = 0
    let s32 = 0
    let s33 = 0
    for (let k = from; k < to; k++) {
      const a0 = x[x0 + k]!
      const a1 = x[x1 + k]!
      const a2 = x[x2 + k]!
      const a3 = x[x3 + k]!
      const b0 = y[y0 + k]!
      const b1 = y[y1 + k]!
      const b2 = y[y2 + k]!
      const b3 = y[y3 + k]!
      s00 += a0 * b0
      s01 += a0 * b1
      s02 += a0 * b2
      s03 += a0 * b3
      s10 += a1 * b0
      s11 += a1 * b1
      s12 += a1 * b2
      s13 += a1 * b3
      s20 += a2 * b0
      s21 += a2 * b1
      s22 += a2 * b2
      s23 += a2 * b3
      s30 += a3 * b0
      s31 += a3 * b1
      s32 += a3 * b2
      s33 += a3 * b3
    }
    s[0] = s00
    s[1] = s01
    s[2] = s02
    s[3] = s03
    s[4] = s10
    s[5] = s11
    s[6] = s12
    s[7] = s13
    s[8] = s20
    s[9] = s21
    s[10] = s22
    s[11] = s23
    s[12] = s30
    s[13] = s31
    s[14] = s32
    s[15] = s33
  }
  const dot = (x: Float64Array, xFrom: number, y: Float64Array, yFrom: number, length: number) => {
    let sum = 0
    for (let k = 0; k < length; k++) sum += x[xFrom + k]! * y[yFrom + k]!
    return sum
  }

  // 1. Cholesky a = L·Lᵀ into the lower triangle, right-looking in panels of 64 columns: thread 0 factors the
  // panel's diagonal block, every thread solves its rows of the panel, then updates its rows of the rest; each
  // step waits for the one before it on every thread.
  const PANEL = 64
  for (let k0 = 0; k0 < n; k0 += PANEL) {
    const k1 = k0 + PANEL
    if (rank === 0) {
      for (let j = k0; j < k1; j++) {
        for (let i = j; i < k1; i++) {
          const sum = a[i * n + j]! - dot(a, i * n + k0, a, j * n + k0, j - k0)
          if (i > j) a[i * n + j] = sum / a[j * n + j]!
          else if (sum > 0) a[j * n + j] = Math.sqrt(sum)
          else Atomics.store(sync, 2, j + 1)
        }
      }
    }
    if (!proceed()) return
    for (let i = k1; i < n; i++) {
      if (!mine(i)) continue
      for (let j = k0; j < k1; j++)
        a[i * n + j] = (a[i * n + j]! - dot(a, i * n + k0, a, j * n + k0, j - k0)) / a[j * n + j]!
    }
    if (!proceed()) return
    for (let i0 = k1; i0 < n; i0 += 4) {
      if (!mine(i0)) continue
      for (let j0 = k1; j0 <= i0; j0 += 4) {
        tile(a, i0, a, j0, k0, k1)
        for (let r = 0; r < 4; r++) {
          for (let t = 0; t < 4 && j0 + t <= i0 + r; t++) a[(i0 + r) * n + j0 + t]! -= s[4 * r + t]!
        }
      }
    }
    if (!proceed()) return
  }

  // 2. Row j of u is column j of L⁻¹ (forward substitution of L·x = e_j), so u is upper triangular, and its
  // zeros left of the diagonal let the four rows of a block share one start.
  for (let j0 = 0; j0 < n; j0 += 4) {
    if (!mine(j0)) continue
    for (let j = j0; j < j0 + 4; j++) {
      u[j * n + j] = 1 / a[j * n + j]!
      for (let i = j + 1; i < j0 + 4; i++) u[j * n + i] = -dot(a, i * n + j, u, j * n + j, i - j) / a[i * n + i]!
    }
    for (let i0 = j0 + 4; i0 < n; i0 += 4) {
      tile(u, j0, a, i0, j0, i0)
      for (let r = 0; r < 4; r++) {
        const i = i0 + r
        for (let t = 0; t < 4; t++) {
          const j = j0 + t
          u[j * n + i] = -(s[4 * t + r]! + dot(a, i * n + i0, u, j * n + i0, r)) / a[i * n + i]!
        }
      }
    }
  }
  if (!proceed()) return

  // 3. a⁻¹ = L⁻ᵀ·L⁻¹: entry (i, j), i ≤ j, is the dot of rows i and j of u from column j on (from the block's
  // start, as u is zero before its diagonal).
  for (let i0 = 0; i0 < n; i0 += 4) {
    if (!mine(i0)) continue
    for (let j0 = i0; j0 < n; j0 += 4) {
      tile(u, i0, u, j0, j0, n)
      for (let r = 0; r < 4; r++) {
        for (let t = 0; t < 4; t++) {
          a[(i0 + r) * n + j0 + t] = s[4 * r + t]!
          a[(j0 + t) * n + i0 + r] = s[4 * r + t]!
        }
      }
    }
  }
}

// Worker threads run invertShare from its source: a bench bundle has no separate worker file to point at.
const WORKER_SOURCE = `const { workerData: w } = require('node:worker_threads')
const sync = new Int32Array(w.sync)
Atomics.add(sync, ${STARTED}, 1)
Atomics.notify(sync, ${STARTED})
try {
  (${invertShare.toString()})(new Float64Array(w.a), new Float64Array(w.u), sync, w.n, w.rank, w.size)
} catch (error) {
  if (!Atomics.load(sync, ${FAILED})) Atomics.store(sync, ${FAILED}, -1)
  console.error(error)
} finally {
  Atomics.add(sync, ${FINISHED}, 1)
  Atomics.notify(sync, ${FINISHED})
}`

/** Blocks until `sync[cell]` reaches `count`; false if `timeoutMs` passed first. */
function waitFor(sync: Int32Array, cell: number, count: number, timeoutMs = Number.POSITIVE_INFINITY): boolean {
  const deadline = performance.now() + timeoutMs
  for (let seen = Atomics.load(sync, cell); seen < count; seen = Atomics.load(sync, cell)) {
    if (performance.now() > deadline) return false
    Atomics.wait(sync, cell, seen, Math.min(1000, timeoutMs))
  }
  return true
}

/**
 * Inverts a symmetric positive-definite row-major m×m matrix in place (throws if it is not), on `threads`
 * threads (by default every core once m reaches 512); the result does not depend on the thread count.
 */
export function invertSpd(g: Float64Array, m: number, threads = m < 512 ? 1 : availableParallelism()): void {
  // Padding with the identity to a multiple of the panel width leaves G⁻¹ in the top-left corner and the
  // kernel without ragged edges.
  const n = Math.ceil(m / 64) * 64
  const shared = (length: number) =>
    threads > 1 ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float64Array(length)
  const a = shared(n * n)
  for (let i = 0; i < n; i++) {
    if (i < m) a.set(g.subarray(i * m, (i + 1) * m), i * n)
    else a[i * n + i] = 1
  }
  const sync = new Int32Array(new SharedArrayBuffer(5 * 4))
  if (threads === 1) {
    invertShare(a, shared(n * n), sync, n, 0, 1)
  } else {
    const workerData = { a: a.buffer, u: shared(n * n).buffer, sync: sync.buffer, n, size: threads }
    const workers = Array.from(
      { length: threads },
      (_, rank) => new Worker(WORKER_SOURCE, { eval: true, workerData: { ...workerData, rank } }),
    )
    // This thread blocks rather than awaits, so that a fit stays synchronous; the workers need nothing from it.
    const started = waitFor(sync, STARTED, threads, 60_000)
    if (!started) Atomics.store(sync, FAILED, -1)
    waitFor(sync, FINISHED, Atomics.load(sync, STARTED))
    if (!started) {
      for (const worker of workers) void worker.terminate()
      throw new Error('invertSpd: the inversion threads did not start')
    }
  }
  const failed = Atomics.load(sync, FAILED)
  if (failed > 0) throw new Error(`invertSpd: matrix is not positive definite (pivot ${failed - 1})`)
  if (failed < 0) throw new Error('invertSpd: an inversion thread failed')
  for (let i = 0; i < m; i++) g.set(a.subarray(i * n, i * n + m), i * m)
}

/** G = XᵀX over the index's train items: co-occurrence counts of each user's distinct items. */
function gram(index: ItemIndex): Float64Array {
  const m = index.trained
  const g = new Float64Array(m * m)
  for (const list of index.userItems) {
    for (const i of list) for (const j of list) g[i * m + j]! += 1
  }
  return g
}

/** EASE's B = I − P·diag(P)⁻¹ with P = (G + λI)⁻¹, leaving G as it was for the next λ. */
function easeMatrix(g: Float64Array, m: number, lambda: number, threads?: number): Float64Array {
  const b = g.slice()
  for (let i = 0; i < m; i++) b[i * m + i]! += lambda
  invertSpd(b, m, threads)
  const inverseDiagonal = Float64Array.from({ length: m }, (_, j) => 1 / b[j * m + j]!)
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) b[i * m + j] = -b[i * m + j]! * inverseDiagonal[j]!
    b[i * m + i] = 0
  }
  return b
}

/** EASE options: L2 weight λ, the history's position weighting, and threads for the fit. */
export interface EaseParams extends Recency {
  lambda?: number
  threads?: number
}

/** EASE weights B (row-major m×m, zero diagonal) over the m train items, most popular first. */
export function easeWeights(train: Interaction[], catalog: readonly string[], params: EaseParams = {}) {
  const index = buildIndex(train, catalog)
  const weights = easeMatrix(gram(index), index.trained, params.lambda ?? 100, params.threads)
  return { items: index.items.slice(0, index.trained), weights }
}

/** A ranker over B: score(j) = Σ recency^p · B[i][j] over the history's weighted items i. */
function easeRanker(index: ItemIndex, weights: Float64Array, params: EaseParams): Ranker {
  const m = index.trained
  // Only train items get a score; the others score −∞ and only fill the list.
  const scored = Int32Array.from({ length: m }, (_, j) => j)
  const scores = new Float64Array(m)
  return {
    name: `EASE (λ = ${params.lambda ?? 100})`,
    rank(query) {
      const { items, weights: decay } = profile(index, query.history, params)
      scores.fill(0)
      items.forEach((i, p) => {
        if (i >= m) return
        for (let j = 0; j < m; j++) scores[j]! += decay[p]! * weights[i * m + j]!
      })
      return answer(index, query, scored, scores)
    },
  }
}

/** EASE (Steck 2019) over every train item, λ = 100 unless given. */
export function ease(train: Interaction[], catalog: readonly string[], params: EaseParams = {}): Ranker {
  return easeFit(train, catalog, params)(params)
}

/** One EASE fit (one inversion) and the rankers over it for any position weighting. */
export function easeFit(
  train: Interaction[],
  catalog: readonly string[],
  { lambda = 100, threads }: Pick<EaseParams, 'lambda' | 'threads'> = {},
): (recency: Recency) => Ranker {
  const index = buildIndex(train, catalog)
  const weights = easeMatrix(gram(index), index.trained, lambda, threads)
  return (recency) => easeRanker(index, weights, { ...recency, lambda })
}
