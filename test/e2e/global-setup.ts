// Migrates one local state for the whole e2e run (wrangler applies the migrations to each shard in
// about 8 s); every test's state starts as a copy of it.
import { rm } from 'node:fs/promises'
import { MIGRATED_TEMPLATE, migratedState } from './server'

export default async function setup() {
  const template = await migratedState('vista-migrated-')
  process.env[MIGRATED_TEMPLATE] = template
  return () => rm(template, { recursive: true, force: true })
}
