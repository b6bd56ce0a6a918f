import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'

/** Budget for the script tag (tracker, outbox, profile, identity, consent, recommendation and banner slots), minified and gzipped: the peers weigh 3.8-30 KB. */
const BUDGET = 6.5 * 1024

describe('sdk bundle', () => {
  it('stays within its gzip budget and ships no validation library', async () => {
    const out = await build({
      entryPoints: ['sdk/index.ts'],
      bundle: true,
      minify: true,
      format: 'iife',
      target: 'es2020',
      write: false,
    })
    const code = out.outputFiles[0]!.text
    const gzip = gzipSync(code, { level: 9 }).length
    console.log(`sdk bundle: ${code.length} B minified, ${gzip} B gzip (budget ${BUDGET} B)`)
    expect(gzip).toBeLessThan(BUDGET)
    expect(code).not.toMatch(/ZodError|zod/i)
  })
})
