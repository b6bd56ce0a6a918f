// The benchmark's input: a `customer_id,date,amount` CSV, read into transactions for `summarise`.
import type { TimeUnit, Transaction } from '../../worker/customer/value'

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
