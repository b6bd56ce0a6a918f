// The value benchmark's input: a `customer_id,date,amount` CSV read into per-customer summaries, or
// customers simulated from the CDNOW estimates. Only the benchmark and the tests use these.
import {
  historyOf,
  tallyOrders,
  type BgnbdParams,
  type Customer,
  type GammaGammaParams,
} from '../../worker/customer/value'
import { sampleBeta, sampleGamma, type Rng } from '../../worker/stats'

/** The BG/NBD estimates on CDNOW in weeks (Fader, Hardie and Lee 2005), for the self-checks. */
export const CDNOW_BGNBD: BgnbdParams = { r: 0.24, alpha: 4.41, a: 0.79, b: 2.43 }
/** The Gamma-Gamma estimates on CDNOW (Fader, Hardie and Lee 2005), for the self-checks. */
export const CDNOW_GAMMA_GAMMA: GammaGammaParams = { p: 6.25, q: 3.74, gamma: 15.44 }

/** A customer as `summarise` returns it: history plus the mean value of the repeat purchases. */
export interface CustomerSummary extends Customer {
  id: string
  /** Mean value of the repeat transactions (the first purchase excluded); 0 when x = 0. */
  monetary: number
}

// ---------------------------------------------------------------------------------------------
// Transactions to summaries

/** One purchase: customer id, when (epoch ms or an ISO date string), how much. */
export interface Transaction {
  customer: string
  date: number | string
  amount: number
}

/** The unit of x's time axis. */
export type TimeUnit = 'days' | 'weeks'

const DAY_MS = 86_400_000

/** The UTC calendar day of an instant (ms or ISO string), as days since 1970-01-01. */
export function dayNumber(date: number | string): number {
  const ms = typeof date === 'number' ? date : Date.parse(date)
  if (!Number.isFinite(ms)) throw new Error(`not a date: ${JSON.stringify(date)}`)
  return Math.floor(ms / DAY_MS)
}

/**
 * Per-customer (x, tx, T, monetary) from raw transactions, through the Worker's own `tallyOrders` and
 * `historyOf`. Purchases on the same UTC day are one transaction (amounts summed); the first is the
 * customer's birth, outside x and the monetary mean; T runs from it to `observedUntil`.
 * Transactions after `observedUntil` are ignored. Sorted by id.
 */
export function summarise(
  transactions: readonly Transaction[],
  { observedUntil, unit = 'weeks' }: { observedUntil: number | string; unit?: TimeUnit },
): CustomerSummary[] {
  const end = dayNumber(observedUntil)
  const perUnit = unit === 'weeks' ? 7 : 1
  const days = new Map<string, Map<number, number>>()
  for (const { customer, date, amount } of transactions) {
    const day = dayNumber(date)
    if (day > end) continue
    const spend = days.get(customer) ?? new Map<number, number>()
    spend.set(day, (spend.get(day) ?? 0) + amount)
    days.set(customer, spend)
  }
  return [...days]
    .map(([id, spend]) => {
      const ordered = [...spend].sort(([u], [v]) => u - v).map(([day, amount]) => ({ day, amount }))
      const { x, tx, T, monetary } = historyOf(tallyOrders(ordered), end, perUnit)
      return { id, x, tx, T, monetary }
    })
    .sort((u, v) => (u.id < v.id ? -1 : u.id > v.id ? 1 : 0))
}

// ---------------------------------------------------------------------------------------------
// Simulation (for tests and the benchmark's self-check)

/** An exponential draw with the given rate (a draw of 0, whose log is infinite, is drawn again). */
function sampleExponential(rate: number, rng: Rng): number {
  let u = rng()
  while (u === 0) u = rng()
  return -Math.log(u) / rate
}

/**
 * One BG/NBD customer's repeat-purchase times in (0, horizon]: the first purchase is at 0, then
 * Poisson(λ) purchases, each followed by dropout with probability p (none before the first repeat).
 */
export function simulatePurchases({ r, alpha, a, b }: BgnbdParams, horizon: number, rng: Rng): number[] {
  const lambda = sampleGamma(r, rng, alpha)
  const dropout = sampleBeta(a, b, rng)
  const times: number[] = []
  for (let t = sampleExponential(lambda, rng); t <= horizon; t += sampleExponential(lambda, rng)) {
    times.push(t)
    if (rng() < dropout) break
  }
  return times
}

/** n BG/NBD customers observed for T (a number, or drawn per customer by a function). */
export function simulateBgnbd(
  params: BgnbdParams,
  n: number,
  T: number | ((rng: Rng) => number),
  rng: Rng,
): Customer[] {
  return Array.from({ length: n }, () => {
    const age = typeof T === 'number' ? T : T(rng)
    const times = simulatePurchases(params, age, rng)
    return { x: times.length, tx: times.at(-1) ?? 0, T: age }
  })
}

/** The mean of x Gamma-Gamma transaction values of one new customer (ν ~ Gamma(q, γ)). */
export function simulateSpend({ p, q, gamma }: GammaGammaParams, x: number, rng: Rng): number {
  const nu = sampleGamma(q, rng, gamma)
  let total = 0
  for (let i = 0; i < x; i++) total += sampleGamma(p, rng, nu)
  return x === 0 ? 0 : total / x
}

// ---------------------------------------------------------------------------------------------
// The CSV file

/** The only header the transactions file may have. */
export const HEADER = ['customer_id', 'date', 'amount']

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/
/** A plain non-negative decimal (no sign, hex or Infinity), optionally with an exponent. */
const DECIMAL = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i

/** Whether `text` is a real calendar date written YYYY-MM-DD (so 2024-02-30 is not). */
export function isDate(text: string): boolean {
  if (!ISO_DATE.test(text)) return false
  const ms = Date.parse(text)
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === text
}

/** Transactions of a CSV file and its last date. */
export interface TransactionsFile {
  transactions: Transaction[]
  lastDate: string
}

/** Parses `customer_id,date,amount` text (plain CSV, no quoting); throws with the line at fault. */
export function parseTransactions(text: string): TransactionsFile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  const header = (lines[0] ?? '').split(',').map((f) => f.trim().toLowerCase())
  if (header.join(',') !== HEADER.join(',')) {
    const shown = JSON.stringify((lines[0] ?? '').slice(0, 80))
    throw new Error(`line 1: expected the header ${HEADER.join(',')}, got ${shown}`)
  }
  const transactions: Transaction[] = []
  let lastDate = ''
  lines.slice(1).forEach((raw, index) => {
    if (raw.trim() === '') return
    const line = index + 2
    const fields = raw.split(',').map((f) => f.trim())
    const [customer = '', date = '', amount = ''] = fields
    if (fields.length !== 3) {
      const shown = JSON.stringify(raw.slice(0, 80))
      throw new Error(`line ${line}: expected 3 fields (${HEADER.join(',')}), got ${shown}`)
    }
    if (customer === '') throw new Error(`line ${line}: empty customer_id`)
    if (!isDate(date)) {
      throw new Error(`line ${line}: bad date ${JSON.stringify(date)}, expected YYYY-MM-DD`)
    }
    const value = Number(amount)
    if (!DECIMAL.test(amount) || !Number.isFinite(value)) {
      throw new Error(`line ${line}: bad amount ${JSON.stringify(amount)}, expected a number ≥ 0`)
    }
    transactions.push({ customer, date, amount: value })
    if (date > lastDate) lastDate = date
  })
  if (transactions.length === 0) throw new Error('no transactions after the header')
  return { transactions, lastDate }
}

/** The benchmark's command line. */
export interface ValueOptions {
  transactions?: string
  observedUntil?: string
  unit: TimeUnit
  simulate?: number
}

/** The usage line printed with argument errors. */
export const USAGE =
  'usage: bench:value -- --transactions FILE [--observed-until YYYY-MM-DD] [--unit days|weeks]\n' +
  '       bench:value -- --simulate N'

/** Parses the benchmark's flags (`--flag value` or `--flag=value`); throws on anything else. */
export function parseValueArgs(args: readonly string[]): ValueOptions {
  const options: ValueOptions = { unit: 'weeks' }
  let unitGiven = false
  const fail = (why: string): never => {
    throw new Error(`${why}\n${USAGE}`)
  }
  for (let i = 0; i < args.length; i++) {
    const [flag = '', inline] = (args[i] ?? '').split(/=(.*)/s)
    const value = inline ?? args[++i] ?? ''
    if (flag === '--transactions' && value !== '') options.transactions = value
    else if (flag === '--observed-until') {
      if (!isDate(value)) fail(`bad --observed-until ${JSON.stringify(value)}, expected YYYY-MM-DD`)
      options.observedUntil = value
    } else if (flag === '--unit') {
      if (value !== 'days' && value !== 'weeks') fail(`bad --unit ${JSON.stringify(value)}`)
      options.unit = value as TimeUnit
      unitGiven = true
    } else if (flag === '--simulate') {
      if (!/^[1-9]\d*$/.test(value)) fail(`bad --simulate ${JSON.stringify(value)}, expected N ≥ 1`)
      options.simulate = Number(value)
    } else fail(`bad arguments: ${args.join(' ')}`)
  }
  if (options.simulate !== undefined) {
    if (options.transactions || options.observedUntil || unitGiven) {
      fail('--simulate takes no --transactions, --observed-until or --unit')
    }
  } else if (!options.transactions) fail('missing --transactions FILE (or --simulate N)')
  return options
}

/** A parameter or statistic as the benchmark prints it: six significant digits. */
export const formatValue = (value: number) => String(Number(value.toPrecision(6)))
