// Starts the real thing for end-to-end tests and benchmarks: `wrangler dev -c wrangler.demo.toml` (the demo shop,
// console and API, as `npm start` serves them; `npm run build` first) on a free loopback port,
// with its own local D1/KV under a temporary folder, migrated and seeded like `npm start`.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { unstable_readConfig } from 'wrangler'
import { DEMO_ADMIN_KEY, DEMO_KEY } from '../../scripts/demo-keys'

const run = promisify(execFile)
const WRANGLER = join(process.cwd(), 'node_modules/wrangler/bin/wrangler.js')
const ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' }

/** A running local Worker. */
export interface LocalWorker {
  url: string
  persistTo: string
  /** Runs SQL against one of the Worker's local D1 databases (default DB) through wrangler, once the event buffers have flushed. */
  query<T>(sql: string, database?: string): Promise<T[]>
  /** Waits until every site's event buffer has folded what it holds into D1. */
  settled(): Promise<void>
  /** Simulates a crash: SIGKILLs `wrangler dev` and every process under it (workerd too); the state stays on disk. */
  crash(): Promise<void>
  /** Starts `wrangler dev` again on the same port and state (after `crash`), and waits until it answers. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/** A port nobody listens on right now. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

const wrangler = (args: string[]) => run(process.execPath, [WRANGLER, ...args], { env: ENV, maxBuffer: 64 << 20 })

/** Where the e2e global setup left one migrated state, copied for each test instead of migrating again. */
export const MIGRATED_TEMPLATE = 'VISTA_MIGRATED_TEMPLATE'

/** A fresh local D1/KV state folder with the real migrations applied to every shard (each D1 binding). */
export async function migratedState(prefix = 'vista-e2e-'): Promise<string> {
  const persistTo = await mkdtemp(join(tmpdir(), prefix))
  const template = process.env[MIGRATED_TEMPLATE]
  if (template) {
    await cp(template, persistTo, { recursive: true })
    return persistTo
  }
  for (const { binding } of unstable_readConfig({ config: 'wrangler.toml' }).d1_databases)
    await wrangler(['d1', 'migrations', 'apply', binding, '--local', '--persist-to', persistTo])
  return persistTo
}

/** How to prepare the state `startWorker` serves. */
export interface StartOptions {
  /** Writes the state instead of the demo seed; the Worker starts once it resolves. */
  seed?: (persistTo: string) => Promise<void>
  /** Prefix of the temporary state folder. */
  prefix?: string
  /** Worker variables for this run (`wrangler dev --var NAME:value`), e.g. `{ RATE_LIMITS: 'off' }` for load tests. */
  vars?: Record<string, string>
  /** The wrangler config: `wrangler.demo.toml` (default: shop, console and API) or `wrangler.toml` (production: API and SDK files). */
  config?: string
}

/** Migrates and seeds a fresh local state, then starts `wrangler dev` and waits until it answers. */
export async function startWorker(options: StartOptions = {}): Promise<LocalWorker> {
  const persistTo = await migratedState(options.prefix)
  const removeState = () => rm(persistTo, { recursive: true, force: true })
  try {
    const demo = ['run', '--silent', 'seed', '--', '--persist-to', persistTo]
    await (options.seed ? options.seed(persistTo) : run('npm', demo, { env: ENV }))
  } catch (error) {
    await removeState()
    throw error
  }
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const args = [
    WRANGLER,
    'dev',
    '--config',
    options.config ?? 'wrangler.demo.toml',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--persist-to',
    persistTo,
    '--show-interactive-dev-session=false',
    ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ]
  const serve = async () => {
    const child = spawn(process.execPath, args, { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout!.on('data', (d) => (output += d))
    child.stderr!.on('data', (d) => (output += d))
    await waitUntilUp(url, child, () => output)
    return child
  }
  let child = await serve().catch(async (error: unknown) => {
    await removeState()
    throw error
  })
  return {
    url,
    persistTo,
    settled: () => buffersSettled(persistTo),
    async query<T>(sql: string, database = 'DB') {
      await buffersSettled(persistTo)
      const { stdout } = await wrangler([
        'd1',
        'execute',
        database,
        '--local',
        '--persist-to',
        persistTo,
        '--json',
        '--command',
        sql,
      ])
      return (JSON.parse(stdout) as Array<{ results: T[] }>)[0]!.results
    },
    crash: () => killTree(child),
    async restart() {
      child = await serve()
    },
    async stop() {
      await stopProcess(child)
      await removeState()
    },
  }
}

async function waitUntilUp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output()}`)
    const ok = await fetch(`${url}/v1/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return
    await new Promise((r) => setTimeout(r, 250))
  }
  await stopProcess(child)
  throw new Error(`wrangler dev did not answer within 60 s:\n${output()}`)
}

/** Ends a process we started, by its pid, and waits for it. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

/** `pid` and every process under it, parents first (from /proc: Linux only). */
async function processTree(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [])
  const lists = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')))
  const children = lists.join(' ').split(/\s+/).filter(Boolean).map(Number)
  return [pid, ...(await Promise.all(children.map(processTree))).flat()]
}

// A zombie has stopped running; only its parent (or init) can reap it.
const running = (pid: number) =>
  readFile(`/proc/${pid}/stat`, 'utf8').then(
    (stat) => !/^\d+ \(.*\) Z/s.test(stat),
    () => false,
  )

/** SIGKILLs a process we started and all its descendants, deepest first, and waits until none runs. */
export async function killTree(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const pids = await processTree(child.pid)
  const exited = new Promise((r) => child.once('exit', r))
  for (const pid of pids.reverse()) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {} // already gone
  }
  await exited
  const deadline = Date.now() + 10_000
  for (const pid of pids) {
    while ((await running(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Waits until no event buffer under `persistTo` holds an unflushed batch, reading each Durable
 * Object's own SQLite file (a flush deletes its batches only after D1 committed them); 60 s at most.
 */
export async function buffersSettled(persistTo: string): Promise<void> {
  const { DatabaseSync } = await import('node:sqlite')
  const root = join(persistTo, 'v3/do')
  const files = async () => {
    const found: string[] = []
    for (const dir of await readdir(root).catch(() => [] as string[])) {
      if (!dir.endsWith('EventBuffer')) continue
      for (const f of await readdir(join(root, dir))) if (f.endsWith('.sqlite')) found.push(join(root, dir, f))
    }
    return found
  }
  const waiting = (file: string) => {
    const db = new DatabaseSync(file)
    try {
      const table = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'waiting'").get()
      return table ? (db.prepare('SELECT COUNT(*) AS n FROM waiting').get() as { n: number }).n : 0
    } finally {
      db.close()
    }
  }
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if ((await files()).every((f) => waiting(f) === 0)) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('event buffers did not flush within 60 s')
}

/** The demo site's admin API on a running Worker: the parsed answer, or an error naming the call and status. */
export const demoAdmin =
  (worker: Pick<LocalWorker, 'url'>) =>
  async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${worker.url}/v1/admin/demo${path}`, {
      method,
      headers: { Authorization: `Bearer ${DEMO_ADMIN_KEY}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return res.json()
  }

/** Posts events to the demo site, 100 (the API's limit) a batch, as its own page would; throws unless each is accepted. */
export async function postDemoEvents(worker: Pick<LocalWorker, 'url'>, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 100) {
    const res = await fetch(`${worker.url}/v1/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: worker.url },
      body: JSON.stringify({ site: 'demo', key: DEMO_KEY, sentAt: Date.now(), events: events.slice(i, i + 100) }),
    })
    if (res.status !== 200) throw new Error(`events: ${res.status} ${await res.text()}`)
  }
}
