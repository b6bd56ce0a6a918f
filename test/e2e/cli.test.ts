// The marketer's command line against a real `wrangler dev`: catalog import with progress and
// per-row reasons, the report as CSV, a new site's keys printed once, and the operator's move of a
// site to another shard.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import products from '../../demo/shop/products.json'
import { SITE_TABLES } from '../../worker/shards/tables'
import { migratedState, startWorker, type LocalWorker } from './server'

const run = promisify(execFile)
const admin = (...args: string[]) =>
  run('npm', ['run', '--silent', 'admin', '--', ...args], { env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } })
let worker: LocalWorker
let dir: string
const OPERATOR_KEY = 'op_cli_test_0123456789abcdef'

beforeAll(async () => {
  ;[worker, dir] = await Promise.all([
    // No wait for the KV site cache in a one-isolate local run.
    startWorker({ vars: { OPERATOR_KEY, MOVE_WAIT_SECONDS: '0' } }),
    mkdtemp(join(tmpdir(), 'vista-cli-')),
  ])
})
afterAll(async () => {
  await worker?.stop()
  await rm(dir, { recursive: true, force: true })
})

describe('npm run admin', () => {
  it('imports a CSV catalog in chunks, with a progress bar and the reason per rejected row', async () => {
    const lines = ['id,title,category,price,in_stock']
    for (let i = 0; i < 2500; i++)
      lines.push(`cli-${i},"Item ${i}, boxed",cli,${(i % 50) + 0.5},${i % 3 === 0 ? 'false' : 'true'}`)
    lines.push('bad id,Broken,cli,3,true', 'cli-neg,Negative,cli,-2,true')
    await writeFile(join(dir, 'catalog.csv'), lines.join('\n'))
    const { stdout, stderr } = await admin(
      'import',
      join(dir, 'catalog.csv'),
      '--site',
      'demo',
      '--key',
      'sk_demo_vista_local_only',
      '--url',
      worker.url,
    )
    expect(stderr).toContain('[##############################] 2502/2502')
    expect(stdout).toContain('created 2500, updated 0, rejected 2')
    expect(stdout).toContain('row 2501 (bad id): id: must be 1-200 characters')
    expect(stdout).toContain('row 2502 (cli-neg): price: Too small')
    const [row] = await worker.query<{ n: number; out: number }>(
      "SELECT COUNT(*) AS n, SUM(in_stock = 0) AS out FROM items WHERE site_id = 'demo' AND category = 'cli'",
    )
    expect(row).toEqual({ n: 2500, out: 834 })
    const title = await worker.query<{ title: string }>(
      "SELECT title FROM items WHERE site_id = 'demo' AND id = 'cli-7'",
    )
    expect(title).toEqual([{ title: 'Item 7, boxed' }])
  })

  it('takes a CSV body straight at the admin API too (parsed inside workerd)', async () => {
    const csv = 'id,title,category,price,in_stock\napi-1,"Mug, large",api,12.5,no\napi-2,Bad,api,abc,yes\n'
    const res = await fetch(`${worker.url}/v1/admin/demo/catalog`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sk_demo_vista_local_only', 'Content-Type': 'text/csv' },
      body: csv,
    })
    const body = (await res.json()) as { created: number; rejected: Array<{ row: number; errors: string[] }> }
    expect(body.created).toBe(1)
    expect(body.rejected).toEqual([{ row: 1, id: 'api-2', errors: [expect.stringMatching(/^price: /)] }])
    expect(await worker.query("SELECT title, in_stock FROM items WHERE site_id = 'demo' AND id = 'api-1'")).toEqual([
      { title: 'Mug, large', in_stock: 0 },
    ])
  })

  it('exports the report as CSV', async () => {
    const today = new Date().toISOString().slice(0, 10)
    const { stdout } = await admin(
      'report',
      '--site',
      'demo',
      '--key',
      'sk_demo_vista_local_only',
      '--from',
      today,
      '--to',
      today,
      '--url',
      worker.url,
    )
    expect(stdout.split('\n')[0]).toBe('kind,day,key,impressions,clicks,acceptances,dismissals,ctr,orders,revenue')
  })

  it('refuses a wrong admin key with the API message', async () => {
    await expect(
      admin(
        'report',
        '--site',
        'demo',
        '--key',
        'sk_wrong',
        '--from',
        '2026-01-01',
        '--to',
        '2026-01-02',
        '--url',
        worker.url,
      ),
    ).rejects.toThrow(/401 missing or invalid admin key/)
  })

  it('creates a site on the shard it is given and prints its keys once; only their digests are stored', async () => {
    const state = await migratedState('vista-cli-site-')
    try {
      const { stdout } = await admin(
        'create-site',
        'acme',
        '--origin',
        'https://acme.example',
        '--shard',
        'SHARD_1',
        '--persist-to',
        state,
      )
      const publicKey = stdout.match(/public key \(script tag\): (pk_acme_[0-9a-f]{48})/)?.[1]
      const adminKey = stdout.match(/admin key \(keep secret\): (sk_acme_[0-9a-f]{48})/)?.[1]
      expect(publicKey).toBeDefined()
      expect(adminKey).toBeDefined()
      const { stdout: rows } = await run(
        process.execPath,
        [
          'node_modules/wrangler/bin/wrangler.js',
          'd1',
          'execute',
          'DB',
          '--local',
          '--persist-to',
          state,
          '--json',
          '--command',
          "SELECT key_hash, admin_key_hash, origins, shard FROM sites WHERE id = 'acme'",
        ],
        { env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
      )
      const site = (JSON.parse(rows) as Array<{ results: Array<Record<string, string>> }>)[0]!.results[0]!
      expect(site.origins).toBe('["https://acme.example"]')
      expect(site.shard).toBe('SHARD_1')
      expect(site.key_hash).toMatch(/^[0-9a-f]{64}$/)
      expect(JSON.stringify(site)).not.toContain(publicKey!)
      expect(JSON.stringify(site)).not.toContain(adminKey!)
    } finally {
      await rm(state, { recursive: true, force: true })
    }
  })

  it("moves the demo site's data to SHARD_1 with the operator key, every row of every table", async () => {
    /** The demo site's rows per site-scoped table on one local database. */
    const counts = async (database: string) => {
      // D1 allows few terms in a compound SELECT: one row of subqueries instead.
      const sql = SITE_TABLES.map((t) => `(SELECT COUNT(*) FROM ${t.name} WHERE site_id = 'demo') AS ${t.name}`)
      const [row] = await worker.query<Record<string, number>>(`SELECT ${sql.join(', ')}`, database)
      return row!
    }
    const before = await counts('DB')
    // The seeded catalog and actions at least, and whatever the tests above added.
    expect(before.items).toBeGreaterThanOrEqual(products.length)
    const move = (key: string) => admin('move-site', 'demo', 'SHARD_1', '--key', key, '--url', worker.url)
    await expect(move('op_wrong')).rejects.toThrow(/401 missing or invalid operator key/)

    const { stdout, stderr } = await move(OPERATOR_KEY)
    const total = Object.values(before).reduce((n, c) => n + c, 0)
    expect(stderr).toContain(`done: ${total} rows copied, ${total} deleted`)
    expect(stdout.trim()).toBe(
      `moved demo to SHARD_1: ${SITE_TABLES.map((t) => `${t.name} ${before[t.name]}`).join(', ')}`,
    )
    expect(await counts('SHARD_1')).toEqual(before)
    expect(Object.values(await counts('DB'))).toEqual(SITE_TABLES.map(() => 0))
    expect(await worker.query("SELECT shard, moving_to FROM sites WHERE id = 'demo'")).toEqual([
      { shard: 'SHARD_1', moving_to: null },
    ])
    // The shop goes on, now from SHARD_1.
    const res = await fetch(`${worker.url}/v1/admin/demo/catalog/${products[0]!.id}`, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer sk_demo_vista_local_only' },
    })
    expect(res.status).toBe(204)
    expect((await counts('SHARD_1')).items).toBe(before.items! - 1)
    await expect(move(OPERATOR_KEY)).rejects.toThrow(/400 site "demo" is on SHARD_1 already/)
  })
})
