// Numerical building blocks shared by the value model and the decision engine: ln Γ, a seeded
// random source, and the samplers their simulations and Thompson sampling draw from.

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI)

/** ln|Γ(x)| (Lanczos, g = 7, n = 9; about 15 significant digits); Infinity at 0, −1, −2, … */
export function lgamma(x: number): number {
  if (x < 0.5) {
    if (Number.isInteger(x)) return Infinity
    // Reflection: Γ(x) Γ(1 − x) = π / sin(πx); the series below is only accurate for x ≥ 0.5.
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x)
  }
  const z = x - 1
  let sum = LANCZOS[0] ?? 1
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] ?? 0) / (z + i)
  const t = z + 7.5
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum)
}

/** A random source in [0, 1). */
export type Rng = () => number

/** A draw in (0, 1): logs of it stay finite. */
const open = (rng: Rng) => {
  let u = rng()
  while (u === 0) u = rng()
  return u
}

/** A standard normal draw (Box–Muller). */
const sampleNormal = (rng: Rng) => Math.sqrt(-2 * Math.log(open(rng))) * Math.cos(2 * Math.PI * rng())

/** A Gamma(shape, rate) draw (Marsaglia and Tsang 2000; shape < 1 boosted by U^(1/shape)). */
export function sampleGamma(shape: number, rng: Rng, rate = 1): number {
  if (shape < 1) return sampleGamma(shape + 1, rng, rate) * open(rng) ** (1 / shape)
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    const z = sampleNormal(rng)
    const v = (1 + c * z) ** 3
    if (v > 0 && Math.log(open(rng)) < 0.5 * z * z + d - d * v + d * Math.log(v)) return (d * v) / rate
  }
}

/** A Beta(a, b) draw, from two gamma draws. */
export function sampleBeta(a: number, b: number, rng: Rng): number {
  const u = sampleGamma(a, rng)
  return u / (u + sampleGamma(b, rng))
}
