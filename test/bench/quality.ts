// `npm run bench:quality -- [--ratings FILE] [--limit N]`: Vista's for-you list against MostPopular
// and ItemKNN on a leave-last-out split of a MovieLens-style ratings file.
import { readFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import {
  defaultRatingsFile,
  evaluate,
  formatTable,
  itemKnn,
  leaveLastOut,
  mostPopular,
  parseRatings,
  type Quality,
  type Rating,
  type Ranker,
} from './ratings'
import { vistaForYou } from './vista-model'

const USAGE = 'usage: bench:quality [--ratings FILE] [--limit N]'

interface Options {
  ratings?: string
  limit?: number
}

function parseArgs(args: string[]): Options {
  const options: Options = {}
  for (let a = 0; a < args.length; a++) {
    const [flag = '', inline] = (args[a] ?? '').split(/=(.*)/s)
    if (flag !== '--ratings' && flag !== '--limit') throw new Error(`unknown argument ${flag}\n${USAGE}`)
    const value = inline ?? args[++a] ?? ''
    if (flag === '--ratings' && value !== '') options.ratings = value
    else if (flag === '--limit' && /^[1-9]\d*$/.test(value)) options.limit = Number(value)
    else throw new Error(`${flag} needs a ${flag === '--limit' ? 'positive integer' : 'file'}\n${USAGE}`)
  }
  return options
}

const elapsed = (start: number) => (performance.now() - start) / 1000

interface Row {
  model: string
  hr: number
  ndcg: number
  replaySeconds: number
  scoringSeconds: number
}

const row = (model: string, quality: Quality, replaySeconds: number): Row => ({
  model,
  hr: quality.hr,
  ndcg: quality.ndcg,
  replaySeconds,
  scoringSeconds: quality.seconds,
})

/** A baseline's replay time is its fit time. */
async function baseline(fit: () => Ranker, train: Rating[], test: Map<string, Rating>): Promise<Row> {
  const start = performance.now()
  const ranker = fit()
  const replaySeconds = elapsed(start)
  return row(ranker.name, await evaluate(ranker, train, test), replaySeconds)
}

async function vista(train: Rating[], test: Map<string, Rating>): Promise<Row> {
  const model = await vistaForYou(train)
  try {
    return row(model.name, await evaluate(model, train, test), model.replaySeconds)
  } finally {
    await model.close()
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2))
  const file = options.ratings ?? (await defaultRatingsFile())
  const all = parseRatings(await readFile(file, 'utf8'))
  const ratings = options.limit ? all.slice(0, options.limit) : all
  const { train, test } = leaveLastOut(ratings)
  const users = new Set(ratings.map((r) => r.user)).size
  const items = new Set(ratings.map((r) => r.item)).size
  console.log(`ratings file: ${file}`)
  console.log(
    `ratings ${ratings.length}, users ${users}, items ${items}, evaluated users ${test.size}, train ${train.length}`,
  )
  const popular = await baseline(() => mostPopular(train), train, test)
  console.error(`MostPopular done in ${(popular.replaySeconds + popular.scoringSeconds).toFixed(1)} s`)
  const knn = await baseline(() => itemKnn(train), train, test)
  console.error(`ItemKNN done in ${(knn.replaySeconds + knn.scoringSeconds).toFixed(1)} s`)
  const forYou = await vista(train, test)
  console.log(formatTable([forYou, popular, knn]))
  const cpu = cpus()
  console.log(`machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores; node ${process.version}`)
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
