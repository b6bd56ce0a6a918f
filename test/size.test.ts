import { describe, expect, it } from 'vitest'
import { bundle } from '../scripts/build-sdk'

/**
 * Budget for the script tag (tracker, outbox, profile, identity, consent, recommendation and banner slots, the
 * device's recent items sent with each answer), minified and gzipped: the peers weigh 3.8-30 KB. 6.5 KB until
 * 0.3.0, which measured 178 B more for the recent items (6,649 B to 6,827 B), then 14 B more for A/B tests
 * (the slot's name sent, an empty answer's slot hidden: 6,827 B to 6,841 B), then 13 B for dismissals among
 * the recent items (slots answered from the edge cache alone still hide them: 6,854 B), then 203 B for the edge
 * pass (the slot markup as shared data, slots the edge filled tracked, not asked again, and the `vista_aid` cookie:
 * 7,057 B). Issue 15 asks for 6 KB: these are the first bytes to win back.
 */
const BUDGET = 6.5 * 1024 + 178 + 14 + 13 + 204

describe('sdk bundle', () => {
  it('stays within its gzip budget and ships no validation library', async () => {
    // The same build `npm run build` ships (scripts/build-sdk.ts).
    const { code, gzipBytes } = await bundle()
    console.log(`sdk bundle: ${code.byteLength} B minified, ${gzipBytes} B gzip (budget ${BUDGET} B)`)
    expect(gzipBytes).toBeLessThan(BUDGET)
    expect(new TextDecoder().decode(code)).not.toMatch(/ZodError|zod/i)
  })
})
