// `npm run admin -- <command>`: the marketer's command line.
//   create-site <id> [--name N] [--origin O]... [--shard S] [--persist-to DIR]   local D1: a site and its keys, printed once
//   import <file.csv|file.json> --site S --key SK [--url U]          catalog rows through the admin API
//   report --site S --key SK --from YYYY-MM-DD --to YYYY-MM-DD [--url U]   daily report as CSV on stdout
//   move-site <site> <shard> [--key OK] [--url U] [--restart]      the site's data to another shard (operator key)
import { readFile } from 'node:fs/promises'
import { getPlatformProxy } from 'wrangler'
import { readCatalog } from '../worker/admin/catalog'
import { upsertSite } from '../worker/admin/store'
import type { Bindings } from '../worker/env'
import { SITE_ID_PATTERN } from '../contract'
import { CACHE_KEYS } from '../worker/http/cache-keys'
import { randomId } from '../worker/ids'
import type { ReportRow } from '../worker/admin/reports'
import { hashKey } from '../worker/http/site-auth'
import { isShard, SHARDS } from '../worker/shards/directory'

/** Rows per import request (the API takes up to 5,000). */
export const IMPORT_CHUNK = 1000

const USAGE = `usage:
  npm run admin -- create-site <id> [--name N] [--origin O]... [--shard DB|SHARD_1] [--persist-to DIR]
  npm run admin -- import <file.csv|file.json> --site S --key SK [--url http://127.0.0.1:8787]
  npm run admin -- report --site S --key SK --from YYYY-MM-DD --to YYYY-MM-DD [--url U]
  npm run admin -- move-site <site> <shard> [--key OPERATOR_KEY] [--url U] [--restart]`

function flags(args: string[]) {
  const positional: string[] = []
  const named = new Map<string, string[]>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (!arg.startsWith('--')) positional.push(arg)
    // A flag followed by another flag, or by nothing, is a switch (--restart).
    else if (args[i + 1] === undefined || args[i + 1]!.startsWith('--')) named.set(arg.slice(2), [''])
    else named.set(arg.slice(2), [...(named.get(arg.slice(2)) ?? []), args[++i]!])
  }
  const one = (name: string, fallback?: string) => {
    const value = named.get(name)?.[0] ?? fallback
    if (value === undefined || value === '') throw new Error(`--${name} is required\n${USAGE}`)
    return value
  }
  return { positional, named, one }
}

const randomKey = (prefix: string, site: string) => randomId(`${prefix}_${site}`, 24)

async function createSite(id: string, f: ReturnType<typeof flags>) {
  if (!SITE_ID_PATTERN.test(id)) throw new Error(`bad site id "${id}"\n${USAGE}`)
  const shard = f.named.get('shard')?.[0] ?? 'DB'
  if (!isShard(shard)) throw new Error(`unknown shard "${shard}"; shards: ${SHARDS.join(', ')}`)
  const [publicKey, adminKey] = [randomKey('pk', id), randomKey('sk', id)]
  const persistTo = f.named.get('persist-to')?.[0]
  const { env, dispose } = await getPlatformProxy<Bindings>({
    configPath: 'wrangler.toml',
    persist: persistTo ? { path: `${persistTo}/v3` } : true,
    remoteBindings: false,
  })
  try {
    await upsertSite(env.DB, {
      id,
      name: f.named.get('name')?.[0] ?? id,
      keyHash: await hashKey(publicKey),
      adminKeyHash: await hashKey(adminKey),
      origins: f.named.get('origin') ?? [],
      shard,
    })
    await env.CACHE.delete(CACHE_KEYS.site(id))
  } finally {
    await dispose()
  }
  // Printed once: only the digests are stored.
  console.log(`site ${id}\npublic key (script tag): ${publicKey}\nadmin key (keep secret): ${adminKey}`)
}

const bar = (done: number, total: number) => {
  const width = 30
  const filled = Math.round((width * done) / Math.max(1, total))
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`
}

async function api(f: ReturnType<typeof flags>, path: string, init: RequestInit = {}) {
  const url = `${f.one('url', 'http://127.0.0.1:8787')}/v1/admin/${f.one('site')}${path}`
  const res = await fetch(url, { ...init, headers: { Authorization: `Bearer ${f.one('key')}` } })
  const body = (await res.json()) as Record<string, unknown>
  if (!res.ok)
    throw new Error(`${res.status} ${String(body.error)}${body.issues ? `: ${JSON.stringify(body.issues)}` : ''}`)
  return body
}

async function importCatalog(file: string, f: ReturnType<typeof flags>) {
  const rows = readCatalog(await readFile(file, 'utf8'), file.endsWith('.json') ? 'json' : 'csv')
  const totals = { created: 0, updated: 0, rejected: [] as Array<{ row: number; id?: unknown; errors: string[] }> }
  for (let start = 0; start < rows.length; start += IMPORT_CHUNK) {
    const items = rows.slice(start, start + IMPORT_CHUNK)
    const r = (await api(f, '/catalog', { method: 'POST', body: JSON.stringify({ items }) })) as typeof totals
    totals.created += r.created
    totals.updated += r.updated
    totals.rejected.push(...r.rejected.map((x) => ({ ...x, row: x.row + start })))
    process.stderr.write(`\r${bar(start + items.length, rows.length)}`)
  }
  process.stderr.write('\n')
  console.log(`created ${totals.created}, updated ${totals.updated}, rejected ${totals.rejected.length}`)
  for (const r of totals.rejected) console.log(`  row ${r.row + 1} (${String(r.id)}): ${r.errors.join('; ')}`)
}

const csvCell = (v: unknown) => (/[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v))

/** The report's rows as CSV, one line per kind (action or strategy), day and key. */
export function reportCsv(report: { actions: ReportRow[]; recommendations: ReportRow[] }): string {
  const columns = [
    'day',
    'key',
    'impressions',
    'clicks',
    'acceptances',
    'dismissals',
    'ctr',
    'orders',
    'revenue',
  ] as const
  const lines = [['kind', ...columns].join(',')]
  for (const [kind, rows] of [
    ['action', report.actions],
    ['recommendation', report.recommendations],
  ] as const) {
    for (const row of rows) lines.push([kind, ...columns.map((c) => csvCell(row[c]))].join(','))
  }
  return lines.join('\n')
}

/** A move's report, as POST /v1/ops/sites/:site/move answers it. */
type MoveReport = { phase: string; copied: number; deleted: number; rows?: Record<string, number> }

/** Calls the operator route until the move is done (202 means: call again), showing its progress. */
async function moveSite(site: string, shard: string, f: ReturnType<typeof flags>) {
  if (!site || !shard) throw new Error(USAGE)
  const key = f.named.get('key')?.[0] || process.env.OPERATOR_KEY
  if (!key) throw new Error(`--key (or OPERATOR_KEY in the environment) is required\n${USAGE}`)
  const url = `${f.one('url', 'http://127.0.0.1:8787')}/v1/ops/sites/${encodeURIComponent(site)}/move`
  // A restart empties the target first: asked for until the Worker says it is past that.
  let restart = f.named.has('restart')
  const totals = { copied: 0, deleted: 0 }
  for (;;) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: shard, ...(restart ? { restart } : {}) }),
    })
    const body = (await res.json()) as MoveReport & { error?: string }
    if (!res.ok) throw new Error(`${res.status} ${String(body.error)}`)
    totals.copied += body.copied
    totals.deleted += body.deleted
    process.stderr.write(`\r${body.phase}: ${totals.copied} rows copied, ${totals.deleted} deleted`)
    if (res.status !== 202) {
      process.stderr.write('\n')
      const rows = Object.entries(body.rows ?? {}).map(([table, n]) => `${table} ${n}`)
      return console.log(`moved ${site} to ${shard}: ${rows.join(', ')}`)
    }
    restart &&= body.phase === 'emptying'
  }
}

async function main() {
  const [command, ...rest] = process.argv.slice(2)
  const f = flags(rest)
  if (command === 'create-site') return createSite(f.positional[0] ?? '', f)
  if (command === 'import') return importCatalog(f.positional[0] ?? '', f)
  if (command === 'move-site') return moveSite(f.positional[0] ?? '', f.positional[1] ?? '', f)
  if (command === 'report') {
    const report = await api(f, `/reports?from=${f.one('from')}&to=${f.one('to')}`)
    return console.log(reportCsv(report as unknown as Parameters<typeof reportCsv>[0]))
  }
  throw new Error(USAGE)
}

if (process.argv[1]?.endsWith('admin-cli.mjs')) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e)
    process.exitCode = 1
  })
}
