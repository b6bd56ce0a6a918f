// `npm run bench:quality -- [--ratings FILE] [--limit N]`: Vista's for-you list against MostPopular,
// ItemKNN and EASE on a leave-last-out split of a MovieLens-style ratings file.
import { readFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { defaultRatingsFile, leaveLastOut, parseRatings, type Rating, type Ranker } from './quality/movielens'
import { itemKnn, mostPopular } from './quality/baselines'
import { ease } from './quality/ease'
import { evaluate, formatTable, type Quality } from './quality/metrics'
import { FOR_YOU } from '../../worker/recommend/model'
import { vistaForYou } from './quality/vista'

const USAGE = 'usage: bench:quality [--ratings FILE] [--limit N (first N ratings)] [--tune]'

interface Options {
  ratings?: string
  limit?: number
  tune?: boolean
}

function parseArgs(args: string[]): Options {
  const options: Options = {}
  for (let a = 0; a < args.length; a++) {
    if (args[a] === '--tune') {
      options.tune = true
      continue
    }
    const [flag = '', inline] = (args[a] ?? '').split(/=(.*)/s)
    const value = inline ?? args[++a] ?? ''
    if (flag === '--ratings' && value !== '') options.ratings = value
    else if (flag === '--limit' && /^[1-9]\d*$/.test(value)) options.limit = Number(value)
    else throw new Error(`bad arguments: ${args.join(' ')}\n${USAGE}`)
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
  const result = row(ranker.name, await evaluate(ranker, train, test), replaySeconds)
  console.error(`${result.model} done in ${elapsed(start).toFixed(1)} s`)
  return result
}

async function vista(train: Rating[], test: Map<string, Rating>, tune = false): Promise<Row> {
  const model = await vistaForYou(train)
  try {
    if (tune) await tuneForYou(model, train, test)
    return row(model.name, await evaluate(model, train, test), model.replaySeconds)
  } finally {
    await model.close()
  }
}

/** Scores a grid of "for you" tunables on one replay (FOR_YOU is read at ranking time), then restores them. */
async function tuneForYou(model: Ranker, train: Rating[], test: Map<string, Rating>): Promise<void> {
  const defaults = structuredClone(FOR_YOU)
  const lines = ['recency  trendBlend   HR@10  NDCG@10']
  for (const recency of [0.7, 0.85, 0.95]) {
    for (const trendBlend of [0.02, 0.05, 0.2, 0.5]) {
      Object.assign(FOR_YOU, { recency, trendBlend })
      const q = await evaluate(model, train, test)
      lines.push(
        `${recency.toFixed(2).padStart(7)}  ${trendBlend.toFixed(2).padStart(10)}  ${q.hr.toFixed(4)}  ${q.ndcg.toFixed(4).padStart(7)}`,
      )
      console.error(lines.at(-1))
    }
  }
  Object.assign(FOR_YOU, defaults)
  console.log(lines.join('\n'))
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
  console.log(`ratings ${ratings.length}, users ${users}, items ${items}`)
  console.log(`evaluated users ${test.size}, train ratings ${train.length}`)
  const popular = await baseline(() => mostPopular(train), train, test)
  const knn = await baseline(() => itemKnn(train), train, test)
  const easeRow = await baseline(() => ease(train), train, test)
  const forYou = await vista(train, test, options.tune)
  console.log(formatTable([forYou, popular, knn, easeRow]))
  const cpu = cpus()
  console.log(`machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores; node ${process.version}`)
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
