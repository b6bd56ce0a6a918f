// The move copies the tables SITE_TABLES lists: every table the migrations give a site_id column
// must be there, with its primary key, or a move would leave its rows behind.
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { SITE_TABLES } from '../../../worker/shards/tables'
import { schemaSiteTables } from './helpers'

describe('SITE_TABLES', () => {
  it('lists every table with a site_id column of the migrated schema, with its primary key', async () => {
    const listed = SITE_TABLES.map((t) => ({ name: t.name, key: [...t.key] }))
    const sorted = <T extends { name: string }>(ts: T[]) => [...ts].sort((a, b) => a.name.localeCompare(b.name))
    expect(sorted(listed)).toEqual(await schemaSiteTables(env.DB))
  })

  it('misses a table a later migration adds, which this test would then name', async () => {
    // On SHARD_1 of this file only: each test file has storage of its own.
    await env.SHARD_1.prepare(
      'CREATE TABLE later (site_id TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (site_id, id))',
    ).run()
    const names = (await schemaSiteTables(env.SHARD_1)).map((t) => t.name)
    expect(names.filter((n) => !SITE_TABLES.some((t) => t.name === n))).toEqual(['later'])
  })
})
