// The move's SQL: a site's rows read, copied, counted and deleted table by table on a shard, and the
// directory's three steps on the control plane (DB).
import { chunkRows } from '../d1'
import type { SiteTable } from './tables'

/** Where a table's copy stands: after the row with these key values (null: from the start), and `skip` rows further. */
export interface Cursor {
  after: unknown[] | null
  skip: number
}

/** The columns a table's copy is ordered by: its key, or the rowid of a table without one. */
const orderOf = (t: SiteTable) => (t.key.length > 0 ? [...t.key] : ['rowid'])
const list = (columns: string[]) => columns.join(', ')
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ')

/**
 * Up to `limit` of the site's rows of `t` after `cursor`, in copy order, with their column names.
 * A table without a key reads its rowid first (for the next cursor), never copied.
 */
export async function readPage(
  db: D1Database,
  t: SiteTable,
  siteId: string,
  cursor: Cursor,
  limit: number,
): Promise<{ columns: string[]; rows: unknown[][]; last: unknown[] | null }> {
  const order = orderOf(t)
  const after = cursor.after ? ` AND (${list(order)}) > (${marks(order.length)})` : ''
  const select = t.key.length > 0 ? '*' : 'rowid AS rowid_, *'
  const [columns = [], ...rows] = await db
    .prepare(`SELECT ${select} FROM ${t.name} WHERE site_id = ?${after} ORDER BY ${list(order)} LIMIT ? OFFSET ?`)
    .bind(siteId, ...(cursor.after ?? []), limit, cursor.skip)
    .raw({ columnNames: true })
  const at = order.map((c) => columns.indexOf(t.key.length > 0 ? c : 'rowid_'))
  const lastRow = rows.at(-1)
  const last = lastRow ? at.map((i) => lastRow[i]) : null
  if (t.key.length > 0) return { columns, rows, last }
  return { columns: columns.slice(1), rows: rows.map((r) => r.slice(1)), last }
}

/** Statements that insert `rows` into `t`, chunked to D1's limits; a row already there is left alone (a re-run copies nothing twice). */
export const insertRows = (db: D1Database, t: SiteTable, columns: string[], rows: unknown[][]) =>
  chunkRows(rows).map((group) =>
    db
      .prepare(
        `INSERT INTO ${t.name} (${list(columns)}) VALUES ${group.map(() => `(${marks(columns.length)})`).join(', ')}
         ON CONFLICT DO NOTHING`,
      )
      .bind(...group.flat()),
  )

/**
 * Where each table's copy into `db` stands. The target holds a prefix of the source's rows in copy
 * order (pages go in order, each in one transaction, and nothing writes the source meanwhile): a keyed
 * table resumes after its greatest key there, a table without a key after as many rows as it has.
 */
export async function resumeAt(db: D1Database, tables: readonly SiteTable[], siteId: string): Promise<Cursor[]> {
  const results = await db.batch<Record<string, unknown>>(
    tables.map((t) =>
      t.key.length > 0
        ? db
            .prepare(
              `SELECT ${list([...t.key])} FROM ${t.name} WHERE site_id = ?
               ORDER BY ${t.key.map((c) => `${c} DESC`).join(', ')} LIMIT 1`,
            )
            .bind(siteId)
        : db.prepare(`SELECT COUNT(*) AS n FROM ${t.name} WHERE site_id = ?`).bind(siteId),
    ),
  )
  return tables.map((t, i) => {
    const row = results[i]!.results[0]
    if (t.key.length === 0) return { after: null, skip: Number(row?.n ?? 0) }
    return { after: row ? t.key.map((c) => row[c]) : null, skip: 0 }
  })
}

/** The site's rows in each table of `db`, by table name. */
export async function countRows(
  db: D1Database,
  tables: readonly SiteTable[],
  siteId: string,
): Promise<Record<string, number>> {
  const results = await db.batch<{ n: number }>(
    tables.map((t) => db.prepare(`SELECT COUNT(*) AS n FROM ${t.name} WHERE site_id = ?`).bind(siteId)),
  )
  return Object.fromEntries(tables.map((t, i) => [t.name, results[i]!.results[0]!.n]))
}

/** A statement that deletes up to `limit` of the site's rows of `t` (its `meta.changes` says how many). */
export const deleteChunk = (db: D1Database, t: SiteTable, siteId: string, limit: number) =>
  db
    .prepare(
      t.key.length > 0
        ? `DELETE FROM ${t.name} WHERE site_id = ?1 AND (${list([...t.key])}) IN
             (SELECT ${list([...t.key])} FROM ${t.name} WHERE site_id = ?1 LIMIT ?2)`
        : `DELETE FROM ${t.name} WHERE rowid IN (SELECT rowid FROM ${t.name} WHERE site_id = ?1 LIMIT ?2)`,
    )
    .bind(siteId, limit)

// The directory's steps: each names the state it expects, so a step taken twice or out of turn changes nothing.

/** Marks the site as moving to `to` unless a move is under way or it lives there; whether it did. */
export const beginMove = (db: D1Database, siteId: string, to: string) =>
  db
    .prepare('UPDATE sites SET moving_to = ?2 WHERE id = ?1 AND moving_to IS NULL AND shard != ?2')
    .bind(siteId, to)
    .run()
    .then((r) => r.meta.changes === 1)

/** Names `to` as the site's shard once its rows are there (moving_to stays `to` while the old copy is deleted). */
export const arrive = (db: D1Database, siteId: string, from: string, to: string) =>
  db
    .prepare('UPDATE sites SET shard = ?3 WHERE id = ?1 AND shard = ?2 AND moving_to = ?3')
    .bind(siteId, from, to)
    .run()
    .then((r) => r.meta.changes === 1)

/** Ends the move once no other shard holds the site's rows. */
export const endMove = (db: D1Database, siteId: string, shard: string) =>
  db
    .prepare('UPDATE sites SET moving_to = NULL WHERE id = ?1 AND shard = ?2 AND moving_to = ?2')
    .bind(siteId, shard)
    .run()
    .then((r) => r.meta.changes === 1)
