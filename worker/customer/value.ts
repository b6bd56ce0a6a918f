// Customer value: BG/NBD for how many purchases a customer will make (Fader, Hardie and Lee 2005,
// "Counting Your Customers the Easy Way") and Gamma-Gamma for how much each is worth (Fader, Hardie
// and Lee 2005, "RFM and CLV: Using Iso-Value Curves"). Pure functions over plain data.
import { lgamma } from '../stats'
import { hyp2f1, logSumExp, minimise } from './numerics'

/** One customer's repeat-purchase history: x repeats, the last at tx, observed for T (one unit). */
export interface Customer {
  x: number
  tx: number
  T: number
}

/** BG/NBD parameters: purchase rates ~ Gamma(r, alpha), dropout probabilities ~ Beta(a, b). */
export interface BgnbdParams {
  r: number
  alpha: number
  a: number
  b: number
}

/** Gamma-Gamma parameters: values ~ Gamma(p, nu) per customer, nu ~ Gamma(q, gamma). */
export interface GammaGammaParams {
  p: number
  q: number
  gamma: number
}

/** A customer's orders as the store tallies them, by UTC day (days since 1970; same-day orders are one). */
export interface OrderTally {
  firstDay: number
  lastDay: number
  /** Repeat purchases: order days after the first. */
  x: number
  /** Spend on the repeat purchases (the first excluded). */
  repeatRevenue: number
}

/** The tally of one customer's spend by order day, oldest first (at least one day). */
export const tallyOrders = (days: ReadonlyArray<{ day: number; amount: number }>): OrderTally => ({
  firstDay: days[0]!.day,
  lastDay: days.at(-1)!.day,
  x: days.length - 1,
  repeatRevenue: days.slice(1).reduce((n, d) => n + d.amount, 0),
})

/**
 * A customer's BG/NBD history, plus the mean value of their repeat purchases, observed until day
 * `today`, in units of `unitDays` (weeks by default). The first purchase is their birth.
 */
export const historyOf = ({ firstDay, lastDay, x, repeatRevenue }: OrderTally, today: number, unitDays = 7) => ({
  x,
  tx: (lastDay - firstDay) / unitDays,
  T: Math.max(today - firstDay, lastDay - firstDay) / unitDays,
  monetary: x > 0 ? repeatRevenue / x : 0,
})

// ---------------------------------------------------------------------------------------------
// BG/NBD

/** The BG/NBD log-likelihood of the customers (Fader, Hardie and Lee 2005, Eq. 6, in log space). */
export function bgnbdLogLikelihood({ r, alpha, a, b }: BgnbdParams, customers: readonly Customer[]): number {
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return NaN
  // The gamma-function terms depend on x alone, and customers share few distinct x.
  const byCount = new Map<number, number>()
  const shared = (x: number) => {
    let value = byCount.get(x)
    if (value === undefined) {
      value = lgamma(r + x) - lgamma(r) + lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x)
      byCount.set(x, value)
    }
    return value
  }
  const logAlpha = Math.log(alpha)
  let sum = 0
  for (const { x, tx, T } of customers) {
    const lnA3 = -(r + x) * Math.log(alpha + T)
    const lnA4 = x > 0 ? Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx) : -Infinity
    sum += shared(x) + r * logAlpha + logSumExp(lnA3, lnA4)
  }
  return sum
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length

/** BG/NBD parameters by maximum likelihood, with the log-likelihood and Nelder–Mead iterations. */
export function fitBgnbd(customers: readonly Customer[]): BgnbdParams & { logLikelihood: number; iterations: number } {
  if (customers.length === 0) throw new Error('fitBgnbd: no customers')
  const meanT = mean(customers.map((c) => c.T))
  const start = [1, meanT > 0 ? meanT : 1, 1, 1].map(Math.log)
  const unpack = ([r = 0, alpha = 0, a = 0, b = 0]: number[]) => ({
    r: Math.exp(r),
    alpha: Math.exp(alpha),
    a: Math.exp(a),
    b: Math.exp(b),
  })
  const found = minimise((point) => -bgnbdLogLikelihood(unpack(point), customers), start)
  return { ...unpack(found.point), logLikelihood: -found.value, iterations: found.iterations }
}

/** ((α + T) / (α + tx))^(r + x) · a / (b + x − 1): the odds of having dropped out, 0 when x = 0. */
const dropoutOdds = ({ r, alpha, a, b }: BgnbdParams, { x, tx, T }: Customer) =>
  x === 0 ? 0 : Math.exp((r + x) * Math.log((alpha + T) / (alpha + tx)) + Math.log(a / (b + x - 1)))

/** P(alive | x, tx, T) (Fader, Hardie and Lee 2005, Eq. 11); 1 when x = 0. */
export function probabilityAlive(params: BgnbdParams, customer: Customer): number {
  return 1 / (1 + dropoutOdds(params, customer))
}

/** Within this distance of a = 1, a removable singularity of Eq. 10, it is averaged around a. */
const A_NEAR_ONE = 1e-4

/**
 * E[purchases in (T, T + t] | x, tx, T] (Fader, Hardie and Lee 2005, Eq. 10). The 2F1 in it is
 * taken through Euler's transformation, (1 − z)^(r+x) 2F1(r + x, b + x; a + b + x − 1; z) =
 * (1 − z)^(a−1) 2F1(a + b − 1 − r, a − 1; a + b + x − 1; z), whose upper parameters do not grow
 * with x, with z = t / (α + T + t) < 1. Undefined when a + b + x − 1 is a non-positive integer.
 */
export function expectedPurchases(params: BgnbdParams, customer: Customer, t: number): number {
  if (t <= 0) return 0
  const { a } = params
  if (Math.abs(a - 1) < A_NEAR_ONE) {
    // Both a ± 2·1e-4 are more than 1e-4 from 1; their mean is good to about 1e-7 relative.
    const below = expectedPurchases({ ...params, a: a - 2 * A_NEAR_ONE }, customer, t)
    return (below + expectedPurchases({ ...params, a: a + 2 * A_NEAR_ONE }, customer, t)) / 2
  }
  const { r, alpha, b } = params
  const { x, T } = customer
  const z = t / (alpha + T + t)
  const c = a + b + x - 1
  const bracket = 1 - (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
  return ((c / (a - 1)) * bracket) / (1 + dropoutOdds(params, customer))
}

// ---------------------------------------------------------------------------------------------
// Gamma-Gamma

/** The customers the spend model can use: at least one repeat purchase, of positive mean value. */
export const withRepeatSpend = <C extends { x: number; monetary: number }>(customers: readonly C[]) =>
  customers.filter((c) => c.x >= 1 && c.monetary > 0)

/**
 * The Gamma-Gamma log-likelihood of customers' mean repeat values: the mean of x values
 * ~ Gamma(px, νx) given ν, so its marginal density is Γ(px + q) / (Γ(px) Γ(q)) ·
 * γ^q x^(px) m^(px−1) / (γ + x m)^(px+q). Customers with x = 0 or m ≤ 0 must be left out first.
 */
export function gammaGammaLogLikelihood(
  { p, q, gamma }: GammaGammaParams,
  customers: readonly { x: number; monetary: number }[],
): number {
  if (!(p > 0 && q > 0 && gamma > 0)) return NaN
  // As in the BG/NBD, the gamma-function terms depend on x alone.
  const byCount = new Map<number, number>()
  const shared = (x: number) => {
    let value = byCount.get(x)
    if (value === undefined) {
      value = lgamma(p * x + q) - lgamma(p * x) - lgamma(q) + p * x * Math.log(x)
      byCount.set(x, value)
    }
    return value
  }
  const logGamma = Math.log(gamma)
  let sum = 0
  for (const { x, monetary: m } of customers) {
    const px = p * x
    sum += shared(x) + q * logGamma + (px - 1) * Math.log(m) - (px + q) * Math.log(gamma + x * m)
  }
  return sum
}

/** Gamma-Gamma parameters by maximum likelihood over the customers with repeat spend. */
export function fitGammaGamma(
  customers: readonly { x: number; monetary: number }[],
): GammaGammaParams & { logLikelihood: number; iterations: number } {
  const eligible = withRepeatSpend(customers)
  if (eligible.length === 0) throw new Error('fitGammaGamma: no customers with repeat spend')
  // Start where the model's mean value, pγ / (q − 1), is the observed mean.
  const start = [1, 2, mean(eligible.map((c) => c.monetary))].map(Math.log)
  const unpack = ([p = 0, q = 0, gamma = 0]: number[]) => ({
    p: Math.exp(p),
    q: Math.exp(q),
    gamma: Math.exp(gamma),
  })
  const found = minimise((point) => -gammaGammaLogLikelihood(unpack(point), eligible), start)
  return { ...unpack(found.point), logLikelihood: -found.value, iterations: found.iterations }
}

/** E[value of a transaction | x, mean mx] = (γ + mx·x) p / (px + q − 1); NaN unless q > 1. */
export function expectedSpend({ p, q, gamma }: GammaGammaParams, x: number, mx: number): number {
  if (!(q > 1)) return NaN
  return ((gamma + mx * x) * p) / (p * x + q - 1)
}
