// `npm run bench:reliability -- [--seconds N] [--rate N] [--size S] [--inflight C]`: the delivery
// promises tried against the real Worker under `wrangler dev` (local D1/KV): a sustained paced load,
// concurrent replays, a kill -9 mid-load while a Chromium page and a loader keep sending, and a
// table of bad requests. Prints what was tried and what held; exits 1 if any promise broke.
// This file runs the sections in order; each lives in reliability/.
import { MAX_BATCH_EVENTS } from '../../contract'
import { startWorker } from '../e2e/server'
import { machine, parseFlags } from './load'
import { badInput } from './reliability/bad-input'
import { seed } from './reliability/batches'
import { crash } from './reliability/crash'
import { replays } from './reliability/replays'
import { printSummary, report } from './reliability/report'
import { sustainedLoad } from './reliability/sustained'

async function main() {
  const flags = parseFlags(process.argv.slice(2), { seconds: 60, rate: 1000, size: 100, inflight: 4 })
  if (flags.size > MAX_BATCH_EVENTS) throw new Error(`--size must be at most ${MAX_BATCH_EVENTS}`)
  console.log(machine())
  const started = performance.now()
  const worker = await startWorker({ prefix: 'vista-reliability-', vars: { RATE_LIMITS: 'off' }, seed })
  console.log(`wrangler dev on ${worker.url} (RATE_LIMITS=off), state in ${worker.persistTo}`)
  try {
    const section = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
      console.log(`\n## ${name}`)
      try {
        return await run()
      } catch (error) {
        report({
          name,
          tried: 'the section',
          held: false,
          figure: `threw: ${error instanceof Error ? error.message : error}`,
        })
        return undefined
      }
    }
    const kept = (await section('1. sustained load', () => sustainedLoad(worker, flags))) ?? []
    await section('2. concurrent replays', () => replays(worker, kept))
    await section('3. kill -9 mid-load', () => crash(worker))
    await section('4. bad input over HTTP', () => badInput(worker, kept[0] ?? []))
  } finally {
    await worker.stop()
  }
  const broken = printSummary((performance.now() - started) / 1000)
  if (broken > 0) process.exitCode = 1
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error)
  process.exitCode = 1
})
