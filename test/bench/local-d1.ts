// Reads a running `wrangler dev`'s local D1 straight from its SQLite file (WAL mode lets a reader in
// while workerd writes): cheap enough to poll every few milliseconds, and it has `dbstat` for sizes.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'

/** The local D1 database of `persistTo` whose `sites` table lists `siteId`. */
export async function openLocalD1(persistTo: string, siteId: string): Promise<DatabaseSync> {
  const folder = join(persistTo, 'v3/d1/miniflare-D1DatabaseObject')
  for (const name of await readdir(folder)) {
    if (!name.endsWith('.sqlite') || name === 'metadata.sqlite') continue
    const db = new DatabaseSync(join(folder, name))
    const found = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sites'").get()
    if (found && db.prepare('SELECT 1 FROM sites WHERE id = ?').get(siteId)) return db
    db.close()
  }
  throw new Error(`no local D1 under ${folder} holds site ${siteId}`)
}

/** Bytes of each table, its indexes included (from `dbstat`), largest first. */
export function tableBytes(db: DatabaseSync): Array<{ table: string; bytes: number }> {
  return db
    .prepare(
      `SELECT s.tbl_name AS "table", SUM(d.pgsize) AS bytes FROM dbstat d JOIN sqlite_schema s ON s.name = d.name
       WHERE s.tbl_name NOT LIKE 'sqlite_%' AND s.tbl_name NOT LIKE '_cf_%' AND s.tbl_name != 'd1_migrations'
       GROUP BY s.tbl_name ORDER BY bytes DESC`,
    )
    .all() as Array<{ table: string; bytes: number }>
}

/** An in-memory SQLite database with the migrations applied up to, not including, `before` (a file name prefix). */
export async function migratedMemory(before = '9999'): Promise<DatabaseSync> {
  const { readFile } = await import('node:fs/promises')
  const db = new DatabaseSync(':memory:')
  for (const file of (await readdir('worker/migrations')).sort()) {
    if (file.endsWith('.sql') && file < before) db.exec(await readFile(join('worker/migrations', file), 'utf8'))
  }
  return db
}

/** Watches events being folded: each watched id's lag, from `watch` to the poll that first sees it indexed. */
export function watchFolds<T>(d1: DatabaseSync, onFolded: (tag: T, lagMs: number) => void) {
  const waiting = new Map<string, { tag: T; at: number }>()
  const seen = d1.prepare('SELECT id FROM events WHERE indexed = 1 AND id IN (SELECT value FROM json_each(?))')
  let polling = true
  const poller = (async () => {
    while (polling) {
      if (waiting.size > 0) {
        const now = performance.now()
        for (const { id } of seen.all(JSON.stringify([...waiting.keys()])) as Array<{ id: string }>) {
          const w = waiting.get(id)!
          onFolded(w.tag, now - w.at)
          waiting.delete(id)
        }
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  return {
    /** Starts the clock of event `id` now. */
    watch: (id: string, tag: T) => waiting.set(id, { tag, at: performance.now() }),
    /** Waits until every watched event was seen folded (or `deadlineMs` passed); answers how many were not. */
    async stop(deadlineMs = 60_000): Promise<number> {
      const deadline = performance.now() + deadlineMs
      while (waiting.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      polling = false
      await poller
      return waiting.size
    },
  }
}
