// Numerical building blocks of the value model: the Gaussian hypergeometric function and a
// Nelder–Mead minimiser. Pure functions.
import { lgamma } from '../stats'

// ---------------------------------------------------------------------------------------------
// Special functions

/** The sign of Γ(x): 0 at the poles, −1 on (−1, 0), (−3, −2), …, else 1. */
const gammaSign = (x: number) => (x > 0 ? 1 : Number.isInteger(x) ? 0 : Math.floor(x) % 2 === 0 ? 1 : -1)

/** Γ(n1) Γ(n2) / (Γ(d1) Γ(d2)) in log space; 0 when a denominator is at a pole. */
function gammaRatio(n1: number, n2: number, d1: number, d2: number): number {
  const sign = gammaSign(n1) * gammaSign(n2) * gammaSign(d1) * gammaSign(d2)
  if (gammaSign(d1) === 0 || gammaSign(d2) === 0) return 0
  return sign * Math.exp(lgamma(n1) + lgamma(n2) - lgamma(d1) - lgamma(d2))
}

const SERIES_MAX_TERMS = 100_000
const SERIES_EPSILON = 1e-16

/** The Gauss series Σ (a)_k (b)_k / ((c)_k k!) z^k; converges for |z| < 1 (slowly as |z| → 1). */
function hypergeometricSeries(a: number, b: number, c: number, z: number): number {
  let term = 1
  let sum = 1
  for (let k = 0; k < SERIES_MAX_TERMS; k++) {
    term *= (((a + k) * (b + k)) / ((c + k) * (k + 1))) * z
    sum += term
    // Past the largest term the ratio tends to z < 1, so once terms are negligible so is the tail.
    if (Math.abs(term) <= SERIES_EPSILON * Math.abs(sum)) return sum
    if (!Number.isFinite(sum)) break
  }
  throw new RangeError(`2F1(${a}, ${b}; ${c}; ${z}): series did not converge`)
}

/** Beyond this argument the series is traded for the expansion around z = 1. */
const NEAR_ONE = 0.9
/** How far c − a − b must be from an integer for the z → 1 − z formula to be well-conditioned. */
const INTEGER_GAP = 5e-5

/** 2F1 by the z → 1 − z connection formula (Abramowitz and Stegun 15.3.6); c − a − b ∉ ℤ. */
function hypergeometricNearOne(a: number, b: number, c: number, z: number): number {
  const d = c - a - b
  const w = 1 - z
  const first = gammaRatio(c, d, c - a, c - b)
  const second = gammaRatio(c, -d, a, b)
  return (
    (first === 0 ? 0 : first * hypergeometricSeries(a, b, 1 - d, w)) +
    (second === 0 ? 0 : w ** d * second * hypergeometricSeries(c - a, c - b, 1 + d, w))
  )
}

/**
 * The Gaussian hypergeometric function 2F1(a, b; c; z) for real −1 < z < 1 and c not a
 * non-positive integer. Up to z = 0.9, or when a or b is a non-positive integer (a polynomial),
 * it sums the Gauss series (at most 100,000 terms, to a relative 1e-16 per term); above, it uses
 * the expansion in 1 − z, which converges fast there.
 * When c − a − b is (within 5e-5 of) an integer that expansion is degenerate, so c is moved by
 * ±1e-4 and the two values averaged, good to about 1e-7 relative. Throws outside that domain.
 */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  if (!(Math.abs(z) < 1)) throw new RangeError(`2F1 needs |z| < 1, got z = ${z}`)
  if (c <= 0 && Number.isInteger(c)) throw new RangeError(`2F1 needs c ∉ {0, −1, …}, got c = ${c}`)
  if (z === 0 || a === 0 || b === 0) return 1
  const polynomial = [a, b].some((v) => v < 0 && Number.isInteger(v))
  if (z <= NEAR_ONE || polynomial) return hypergeometricSeries(a, b, c, z)
  const d = c - a - b
  if (Math.abs(d - Math.round(d)) >= INTEGER_GAP) return hypergeometricNearOne(a, b, c, z)
  const shift = 2 * INTEGER_GAP
  return (hypergeometricNearOne(a, b, c + shift, z) + hypergeometricNearOne(a, b, c - shift, z)) / 2
}

/** ln(e^u + e^v) without overflow. */
export const logSumExp = (u: number, v: number) => {
  const top = Math.max(u, v)
  return top === -Infinity ? -Infinity : top + Math.log(Math.exp(u - top) + Math.exp(v - top))
}

// ---------------------------------------------------------------------------------------------
// Optimiser

/** Where a minimiser stopped. */
export interface Minimum {
  point: number[]
  value: number
  iterations: number
}

/** Options of `nelderMead`: initial step per coordinate, relative tolerance, iteration cap. */
export interface MinimiseOptions {
  step?: number
  tolerance?: number
  maxIterations?: number
}

/** The point at t along the segment from `from` (t = 0) to `to` (t = 1); t < 0 reflects. */
const along = (from: number[], to: number[], t: number) => from.map((v, i) => v + t * ((to[i] ?? v) - v))

/** How close the simplex's points must come to the best one, in the optimiser's coordinates. */
const POINT_TOLERANCE = 1e-6

/**
 * Nelder–Mead simplex minimisation (standard coefficients 1, 2, ½, ½). Non-finite values count as
 * +Infinity, so the objective may refuse a point by returning NaN. Stops when the values agree to
 * `tolerance` relative to the best and the points to 1e-6, or after `maxIterations`.
 */
export function nelderMead(
  f: (point: number[]) => number,
  start: number[],
  { step = 0.5, tolerance = 1e-10, maxIterations = 5_000 }: MinimiseOptions = {},
): Minimum {
  const vertex = (point: number[]) => {
    const value = f(point)
    return { point, value: Number.isFinite(value) ? value : Infinity }
  }
  const n = start.length
  const corners = start.map((_, i) => start.map((v, j) => (i === j ? v + step : v)))
  let simplex = [start, ...corners].map(vertex)
  let iterations = 0
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((u, v) => u.value - v.value)
    const best = simplex[0]!
    const worst = simplex[n]!
    const flat = worst.value - best.value <= tolerance * (1 + Math.abs(best.value))
    const small = simplex.every((s) => s.point.every((v, i) => Math.abs(v - best.point[i]!) <= POINT_TOLERANCE))
    if (flat && small) break
    const centroid = start.map((_, i) => simplex.slice(0, n).reduce((sum, s) => sum + s.point[i]!, 0) / n)
    const reflected = vertex(along(centroid, worst.point, -1))
    if (reflected.value < best.value) {
      const expanded = vertex(along(centroid, worst.point, -2))
      simplex[n] = expanded.value < reflected.value ? expanded : reflected
    } else if (reflected.value < simplex[n - 1]!.value) {
      simplex[n] = reflected
    } else {
      const outside = reflected.value < worst.value
      const contracted = vertex(along(centroid, (outside ? reflected : worst).point, 0.5))
      if (contracted.value < (outside ? reflected : worst).value) simplex[n] = contracted
      else simplex = simplex.map((s, i) => (i === 0 ? s : vertex(along(best.point, s.point, 0.5))))
    }
  }
  simplex.sort((u, v) => u.value - v.value)
  return { point: simplex[0]!.point, value: simplex[0]!.value, iterations }
}

/** Nelder–Mead restarted around its own best point until a restart gains nothing. */
export function minimise(f: (point: number[]) => number, start: number[], options: MinimiseOptions = {}): Minimum {
  const tolerance = options.tolerance ?? 1e-10
  let found = nelderMead(f, start, options)
  let iterations = found.iterations
  // A collapsed simplex can stall short of the optimum; a fresh one around the best point cannot.
  for (let restart = 0; restart < 5; restart++) {
    const next = nelderMead(f, found.point, { ...options, step: 0.1 })
    iterations += next.iterations
    const gain = found.value - next.value
    if (next.value < found.value) found = next
    if (gain <= tolerance * (1 + Math.abs(found.value))) break
  }
  return { ...found, iterations }
}
