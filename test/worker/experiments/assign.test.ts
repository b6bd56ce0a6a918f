import { describe, expect, it } from 'vitest'
import { assign, unitOf, withExperiment } from '../../../worker/experiments/assign'
import type { Experiment } from '../../../worker/experiments/config'

const experiment = (over: Partial<Experiment> = {}): Experiment => ({
  id: 'exp-1',
  slot: 'home',
  variants: [
    { name: 'A', strategy: 'trending', weight: 1 },
    { name: 'B', strategy: 'also-viewed', weight: 1, limit: 3 },
  ],
  holdout: 0.1,
  status: 'running',
  createdAt: 0,
  startedAt: 0,
  stoppedAt: null,
  ...over,
})
const split = (e: Experiment, n: number) => {
  const counts: Record<string, number> = {}
  for (let i = 0; i < n; i++) {
    const arm = assign(e, `s-${i}`)
    counts[arm.name] = (counts[arm.name] ?? 0) + 1
  }
  return counts
}

describe('unitOf()', () => {
  it('hashes experiment and shopper to the same point of [0, 1) every time', () => {
    // FNV-1a with MurmurHash3's finalizer over "exp-1:s-N", divided by 2^32 (computed apart in Node).
    expect(unitOf('exp-1', 's-0')).toBe(0.20453330921009183)
    expect(unitOf('exp-1', 's-1')).toBe(0.376553101465106)
    expect(unitOf('exp-1', 's-3')).toBe(0.9852014284115285)
    expect(unitOf('exp-2', 's-0')).not.toBe(unitOf('exp-1', 's-0'))
  })
})

describe('assign()', () => {
  it('puts the shares below the holdout in the holdout, then splits the rest by weight', () => {
    // holdout [0, 0.1), A [0.1, 0.55), B [0.55, 1)
    expect(assign(experiment(), 's-0')).toMatchObject({ name: 'A', counted: true })
    expect(assign(experiment(), 's-3')).toMatchObject({ name: 'B', counted: true })
    expect(assign(experiment({ holdout: 0.25 }), 's-0')).toEqual({
      experimentId: 'exp-1',
      name: 'holdout',
      variant: null,
      counted: true,
    })
  })

  it('is sticky: the same shopper gets the same arm on every request', () => {
    const first = Array.from({ length: 50 }, (_, i) => assign(experiment(), `s-${i}`).name)
    const again = Array.from({ length: 50 }, (_, i) => assign(experiment(), `s-${i}`).name)
    expect(again).toEqual(first)
  })

  it('splits 10,000 seeded shoppers in the configured proportions', () => {
    expect(split(experiment(), 10_000)).toEqual({ holdout: 1031, A: 4599, B: 4370 })
    const thirds = experiment({
      id: 'split',
      holdout: 0,
      variants: [
        { name: 'A', strategy: 'trending', weight: 1 },
        { name: 'B', strategy: 'trending', weight: 2 },
        { name: 'C', strategy: 'trending', weight: 3 },
      ],
    })
    expect(split(thirds, 10_000)).toEqual({ A: 1713, B: 3345, C: 4942 })
  })

  it('gives a request without a shopper id the control, not counted', () => {
    expect(assign(experiment(), undefined)).toMatchObject({ name: 'A', counted: false })
  })
})

describe('withExperiment()', () => {
  const req = { slot: 'home', anonymousId: 's-3', strategy: 'for-you' as const, limit: 8 }

  it("sets the variant's strategy and limit on the request of the experiment's slot", () => {
    expect(withExperiment([experiment()], req).req).toMatchObject({ strategy: 'also-viewed', limit: 3 })
    expect(withExperiment([experiment()], { ...req, anonymousId: 's-0' }).req).toMatchObject({
      strategy: 'trending',
      limit: 8,
    })
  })

  it('leaves other slots, drafts and stopped experiments alone', () => {
    for (const experiments of [
      [experiment({ slot: 'footer' })],
      [experiment({ status: 'draft' })],
      [experiment({ status: 'stopped' })],
      undefined,
    ])
      expect(withExperiment(experiments, req)).toEqual({ req, arm: null })
    expect(withExperiment([experiment()], { ...req, slot: undefined }).arm).toBeNull()
  })
})
