// What the shard tests read: the site-scoped tables as SQLite's own schema lists them (so the counts
// do not depend on the list the move copies), and a site's rows per table on one shard.
import { env } from 'cloudflare:test'
import { upsertSite } from '../../../worker/admin/store'
import { hashKey } from '../../../worker/http/site-auth'
import type { TestSite } from '../helpers'

/** Every table of a migrated shard with a site_id column (but the directory), with its primary key after site_id. */
export async function schemaSiteTables(db: D1Database): Promise<Array<{ name: string; key: string[] }>> {
  const { results } = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name",
    )
    .all<{ name: string }>()
  const tables: Array<{ name: string; key: string[] }> = []
  for (const { name } of results) {
    const columns =
      // D1 refuses the pragma_table_info() function but runs the PRAGMA statement.
      (await db.prepare(`PRAGMA table_info(${name})`).all<{ name: string; pk: number }>()).results
    if (name === 'sites' || !columns.some((c) => c.name === 'site_id')) continue
    const key = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk)
    tables.push({ name, key: key.map((c) => c.name).filter((c) => c !== 'site_id') })
  }
  return tables
}

/** The site's rows in each site-scoped table of `db`, zeros included. */
export async function rowCounts(db: D1Database, siteId: string): Promise<Record<string, number>> {
  const tables = await schemaSiteTables(db)
  const results = await db.batch<{ n: number }>(
    tables.map((t) => db.prepare(`SELECT COUNT(*) AS n FROM ${t.name} WHERE site_id = ?`).bind(siteId)),
  )
  return Object.fromEntries(tables.map((t, i) => [t.name, results[i]!.results[0]!.n]))
}

/** The same table names with every count 0, overridden by `counts`. */
export const expectCounts = async (counts: Record<string, number>) =>
  Object.fromEntries((await schemaSiteTables(env.DB)).map((t) => [t.name, counts[t.name] ?? 0]))

/** Registers `site` (public and admin keys, one origin) on `shard`. */
export const seedSiteOn = async (site: TestSite, shard: string) =>
  upsertSite(env.DB, {
    id: site.id,
    name: site.id,
    keyHash: await hashKey(site.key),
    adminKeyHash: await hashKey(site.admin),
    origins: [site.origin],
    shard,
  })
