// What the shard tests read and write: the site-scoped tables as SQLite's own schema lists them (so
// the checks do not depend on the list the move copies), a site's rows per table on one shard, and
// generated rows in every such table.
import { env } from 'cloudflare:test'
import { chunkRows } from '../../../worker/d1'
import { CONTROL_TABLES } from '../../../worker/shards/tables'

/** A column as PRAGMA table_info describes it. */
interface Column {
  name: string
  type: string
  pk: number
}

/** A table with a site_id column, its columns, and its primary key after site_id. */
interface SchemaTable {
  name: string
  key: string[]
  columns: Column[]
}

/** Every table of a migrated shard with a site_id column (but the control plane's), from SQLite's schema. */
export async function schemaTables(db: D1Database): Promise<SchemaTable[]> {
  const { results } = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name",
    )
    .all<{ name: string }>()
  const tables: SchemaTable[] = []
  for (const { name } of results) {
    // D1 refuses the pragma_table_info() function but runs the PRAGMA statement.
    const columns = (await db.prepare(`PRAGMA table_info(${name})`).all<Column>()).results
    if ((CONTROL_TABLES as readonly string[]).includes(name) || !columns.some((c) => c.name === 'site_id')) continue
    const key = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk)
    tables.push({ name, columns, key: key.map((c) => c.name).filter((c) => c !== 'site_id') })
  }
  return tables
}

/** The site-scoped tables with their primary key after site_id. */
export const schemaSiteTables = async (db: D1Database) =>
  (await schemaTables(db)).map(({ name, key }) => ({ name, key }))

/** The site's rows in each site-scoped table of `db`, zeros included. */
export async function rowCounts(db: D1Database, siteId: string): Promise<Record<string, number>> {
  const tables = await schemaTables(db)
  const results = await db.batch<{ n: number }>(
    tables.map((t) => db.prepare(`SELECT COUNT(*) AS n FROM ${t.name} WHERE site_id = ?`).bind(siteId)),
  )
  return Object.fromEntries(tables.map((t, i) => [t.name, results[i]!.results[0]!.n]))
}

/** Every site-scoped table with a count of 0, but those `counts` names. */
export const expectCounts = async (counts: Record<string, number>) =>
  Object.fromEntries((await schemaTables(env.DB)).map((t) => [t.name, counts[t.name] ?? 0]))

/** The site's rows of every site-scoped table of `db`, each table's sorted by all its columns. */
export async function siteRows(db: D1Database, siteId: string): Promise<Record<string, unknown[][]>> {
  const tables = await schemaTables(db)
  const rows: Record<string, unknown[][]> = {}
  for (const t of tables) {
    const order = t.columns.map((_, i) => i + 1).join(', ')
    rows[t.name] = await db.prepare(`SELECT * FROM ${t.name} WHERE site_id = ? ORDER BY ${order}`).bind(siteId).raw()
  }
  return rows
}

// Columns whose CHECK allows only some values.
const ALLOWED: Record<string, string> = {
  'identities.kind': 'user',
  'claims.kind': 'email',
  'identity_log.action': 'link',
}

/** A value for row `i` of a column: text, integer or real by its type, unique per row and site. */
function valueFor(table: string, column: Column, siteId: string, i: number): unknown {
  const allowed = ALLOWED[`${table}.${column.name}`]
  if (column.name === 'site_id') return siteId
  if (allowed) return allowed
  if (column.type === 'INTEGER') return i
  if (column.type === 'REAL') return i + 0.25
  return `${column.name}-${siteId}-${String(i).padStart(4, '0')}`
}

/** Writes `count(table)` generated rows for the site into every site-scoped table of `db`; answers the counts. */
export async function seedEveryTable(
  db: D1Database,
  siteId: string,
  count: (table: string) => number,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const t of await schemaTables(db)) {
    counts[t.name] = count(t.name)
    const rows = Array.from({ length: counts[t.name]! }, (_, i) => t.columns.map((c) => valueFor(t.name, c, siteId, i)))
    const columns = t.columns.map((c) => c.name).join(', ')
    const marks = `(${t.columns.map(() => '?').join(', ')})`
    const statements = chunkRows(rows).map((group) =>
      db
        .prepare(`INSERT INTO ${t.name} (${columns}) VALUES ${group.map(() => marks).join(', ')}`)
        .bind(...group.flat()),
    )
    if (statements.length > 0) await db.batch(statements)
  }
  return counts
}
