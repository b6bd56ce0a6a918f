// The race's uncertainty: paired bootstrap intervals over users, and a mean with its standard error.
import { seeded } from './protocol'

/** A figure with its percentile 95% interval. */
export interface Estimate {
  value: number
  low: number
  high: number
}

/** Model a against model b on the same users: mean(a − b) and mean(a)/mean(b) − 1 (±∞ or NaN if b's is 0), with intervals. */
export interface PairedDifference {
  difference: number
  low: number
  high: number
  relative: Estimate
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length

/** The q-quantile of ascending `sorted`, interpolating between neighbours (R's type 7). */
function quantile(sorted: Float64Array, q: number): number {
  const at = (sorted.length - 1) * q
  const below = Math.floor(at)
  const above = Math.min(below + 1, sorted.length - 1)
  return sorted[below]! + (at - below) * (sorted[above]! - sorted[below]!)
}

/**
 * Paired bootstrap of a − b, per-user scores of two models in the same order: every resample draws users with
 * replacement and keeps each user's pair together, so what the users share (how hard they are) cancels out.
 */
export function pairedBootstrap(
  a: readonly number[],
  b: readonly number[],
  { samples = 2000, seed = 1 }: { samples?: number; seed?: number } = {},
): PairedDifference {
  if (a.length !== b.length || a.length === 0)
    throw new Error('pairedBootstrap: needs two equally long, non-empty lists')
  const n = a.length
  const random = seeded(seed)
  const differences = new Float64Array(samples)
  const ratios = new Float64Array(samples)
  for (let s = 0; s < samples; s++) {
    let sumA = 0
    let sumB = 0
    let sumDifference = 0
    for (let t = 0; t < n; t++) {
      const i = Math.floor(random() * n)
      sumA += a[i]!
      sumB += b[i]!
      sumDifference += a[i]! - b[i]!
    }
    differences[s] = sumDifference / n
    ratios[s] = sumA / sumB - 1
  }
  differences.sort()
  ratios.sort()
  return {
    difference: mean(a.map((x, i) => x - b[i]!)),
    low: quantile(differences, 0.025),
    high: quantile(differences, 0.975),
    relative: { value: mean(a) / mean(b) - 1, low: quantile(ratios, 0.025), high: quantile(ratios, 0.975) },
  }
}

/** The mean and its standard error (sample standard deviation / √n; NaN below two values). */
export function meanAndStandardError(xs: readonly number[]): { mean: number; standardError: number } {
  const m = mean(xs)
  const squares = xs.reduce((s, x) => s + (x - m) ** 2, 0)
  return { mean: m, standardError: Math.sqrt(squares / (xs.length - 1) / xs.length) }
}
