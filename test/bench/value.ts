// `npm run bench:value -- --transactions FILE [--observed-until YYYY-MM-DD] [--unit days|weeks]`:
// fits the customer-value model (BG/NBD and Gamma-Gamma) to a `customer_id,date,amount` CSV and
// prints one `name value` line per parameter, the log-likelihoods and the fit time.
// `--simulate N` fits N customers simulated from the CDNOW parameters instead, beside the truth.
import { readFile } from 'node:fs/promises'
import {
  bgnbdLogLikelihood,
  fitBgnbd,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  withRepeatSpend,
  type BgnbdParams,
  type Customer,
  type GammaGammaParams,
} from '../../worker/customer/value'
import { mulberry32 } from '../fixtures/random'
import {
  CDNOW_BGNBD,
  CDNOW_GAMMA_GAMMA,
  formatValue,
  parseTransactions,
  parseValueArgs,
  simulateBgnbd,
  simulateSpend,
  summarise,
  type TimeUnit,
} from './value-data'

/** The seed of `--simulate`, as in the recovery tests. */
const SEED = 1

/** What the fits need: every customer's history, and the mean repeat value of the repeaters. */
interface Sample {
  customers: Customer[]
  spenders: { x: number; monetary: number }[]
}

async function fromFile(file: string, observedUntil: string | undefined, unit: TimeUnit): Promise<Sample> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'no such file' : error.message
    throw new Error(`cannot read the transactions file ${file}: ${why}`)
  })
  let parsed: ReturnType<typeof parseTransactions>
  try {
    parsed = parseTransactions(text)
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`)
  }
  const until = observedUntil ?? parsed.lastDate
  const customers = summarise(parsed.transactions, { observedUntil: until, unit })
  if (customers.length === 0) throw new Error(`${file}: no transactions on or before ${until}`)
  console.error(
    `${file}: ${parsed.transactions.length} transactions, ${customers.length} customers, ` +
      `observed until ${until}, in ${unit}`,
  )
  return { customers, spenders: withRepeatSpend(customers) }
}

/** CDNOW-like customers: T ~ U(27, 39) weeks, repeat values from the CDNOW Gamma-Gamma. */
function simulated(n: number): Sample {
  const rng = mulberry32(SEED)
  const customers = simulateBgnbd(CDNOW_BGNBD, n, (g) => 27 + 12 * g(), rng)
  const spenders = customers
    .filter((c) => c.x > 0)
    .map(({ x }) => ({ x, monetary: simulateSpend(CDNOW_GAMMA_GAMMA, x, rng) }))
  console.error(`simulated ${n} customers (seed ${SEED}), in weeks`)
  return { customers, spenders }
}

/** The printed lines: `name value`, followed by `true value` when the truth is known. */
function report(sample: Sample, truth?: { bgnbd: BgnbdParams; gammaGamma: GammaGammaParams }): string[] {
  const start = performance.now()
  const bgnbd = fitBgnbd(sample.customers)
  if (sample.spenders.length === 0) {
    throw new Error('no customer has a repeat purchase of positive value: no spend model to fit')
  }
  const spend = fitGammaGamma(sample.spenders)
  const seconds = (performance.now() - start) / 1000
  console.error(
    `${sample.customers.length} customers, ${sample.spenders.length} with repeat spend; ` +
      `Nelder–Mead iterations ${bgnbd.iterations} (BG/NBD), ${spend.iterations} (Gamma-Gamma)`,
  )
  const line = (name: string, value: string, trueValue?: string) =>
    trueValue === undefined ? `${name} ${value}` : `${name} ${value} true ${trueValue}`
  const parameter = (name: string, value: number, trueValue?: number) =>
    line(name, formatValue(value), trueValue === undefined ? undefined : formatValue(trueValue))
  const logLikelihood = (name: string, value: number, trueValue?: number) =>
    line(name, value.toFixed(4), trueValue?.toFixed(4))
  return [
    ...(['r', 'alpha', 'a', 'b'] as const).map((k) => parameter(k, bgnbd[k], truth?.bgnbd[k])),
    ...(['p', 'q', 'gamma'] as const).map((k) => parameter(k, spend[k], truth?.gammaGamma[k])),
    logLikelihood('loglik_bgnbd', bgnbd.logLikelihood, truth && bgnbdLogLikelihood(truth.bgnbd, sample.customers)),
    logLikelihood(
      'loglik_gammagamma',
      spend.logLikelihood,
      truth && gammaGammaLogLikelihood(truth.gammaGamma, sample.spenders),
    ),
    `fit_seconds ${seconds.toFixed(3)}`,
  ]
}

async function main() {
  const options = parseValueArgs(process.argv.slice(2))
  const lines =
    options.simulate !== undefined
      ? report(simulated(options.simulate), {
          bgnbd: CDNOW_BGNBD,
          gammaGamma: CDNOW_GAMMA_GAMMA,
        })
      : report(await fromFile(options.transactions ?? '', options.observedUntil, options.unit))
  console.log(lines.join('\n'))
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
