// Seeds local D1 with the demo site (hashed public key, loopback origins) and the demo catalog,
// through the same store functions the Worker uses. `npm run seed` runs it after the migrations.
import { getPlatformProxy } from 'wrangler'
import { upsertItems, upsertSite } from '../worker/admin/store'
import { upsertActions } from '../worker/decide/store'
import { actionSchema } from '../worker/decide/engine'
import type { Bindings } from '../worker/env'
import { hashKey } from '../worker/http/site-auth'
import actions from '../demo/shop/actions.json'
import products from '../demo/shop/products.json'
import { CACHE_KEYS } from '../worker/http/cache-keys'
import { DEMO_ADMIN_KEY, DEMO_KEY } from './demo-keys'

/** Any port on loopback, so tests can run the shop on a free port. */
export const DEMO_ORIGINS = ['http://127.0.0.1:*', 'http://localhost:*']

/** Writes the demo site and catalog into the local D1 under `persistTo` (default: wrangler's own). */
export async function seedDemo(persistTo?: string): Promise<number> {
  const { env, dispose } = await getPlatformProxy<Bindings>({
    configPath: 'wrangler.toml', // run from the project root, as npm scripts are
    persist: persistTo ? { path: `${persistTo}/v3` } : true,
    remoteBindings: false,
  })
  try {
    await upsertSite(env.DB, {
      id: 'demo',
      name: 'Leaf & Ladle (demo)',
      keyHash: await hashKey(DEMO_KEY),
      adminKeyHash: await hashKey(DEMO_ADMIN_KEY),
      origins: DEMO_ORIGINS,
      // The demo shows offers to everyone and often; a real shop keeps a holdout (default 10%).
      // It has no server to sign its sign-ins, so it links them unverified (the console states the
      // risk); a real shop signs them with its identity secret and leaves this off.
      settings: {
        decide: { holdoutShare: 0, policy: { maxPerDay: 50, maxPerActionPerDay: 20 } },
        identity: { unverifiedLinking: true },
      },
    })
    // Validated as on save: a bad action stops the seed with the field and the problem.
    await upsertActions(
      env.DB,
      'demo',
      actions.map((a) => actionSchema.parse(a)),
      Date.now(),
    )
    await upsertItems(
      env.DB,
      'demo',
      products.map((p) => ({ ...p, in_stock: p.in_stock ? 1 : 0 })),
    )
    // A changed key, origin list or setting must not wait for the KV cache to expire.
    await env.CACHE.delete(CACHE_KEYS.site('demo'))
  } finally {
    await dispose()
  }
  return products.length
}

if (process.argv[1]?.endsWith('seed.mjs')) {
  const at = process.argv.indexOf('--persist-to')
  const count = await seedDemo(at > 0 ? process.argv[at + 1] : undefined)
  console.log(`seeded site "demo" with ${count} products`)
}
