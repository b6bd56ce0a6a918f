import { describe, expect, it } from 'vitest'
import { parseRatings } from './movielens'

const rated = (user: string, item: string, rating: number, seconds: number, line: number) => ({
  user,
  item,
  kind: 'rate',
  rating,
  ts: seconds * 1000,
  session: `${user}-${Math.floor(seconds / 86_400)}`,
  tie: expect.any(Number),
  line,
})

describe('parseRatings', () => {
  it('reads tab-separated u.data without a header, as rate interactions in ms, one visit per user and day', () => {
    expect(parseRatings('196\t242\t3\t881250949\n186\t302\t3\t891717742\n')).toEqual([
      rated('196', '242', 3, 881250949, 0),
      rated('186', '302', 3, 891717742, 1),
    ])
  })

  it('reads comma-separated ratings with a header, CRLF and blank lines', () => {
    const text = 'userId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n\r\n1,1029,3.0,1260759179\r\n'
    expect(parseRatings(text)).toEqual([rated('1', '31', 2.5, 1260759144, 1), rated('1', '1029', 3, 1260759179, 3)])
  })

  it('draws the tie keys from the seed: the same seed the same keys, another seed others', () => {
    const text = '1,2,3,4\n1,3,3,4\n1,4,3,4\n'
    const ties = (seed: number) => parseRatings(text, seed).map((r) => r.tie)
    expect(ties(1)).toEqual(ties(1))
    expect(ties(2)).not.toEqual(ties(1))
    expect(new Set(ties(1)).size).toBe(3)
  })

  it('throws on a malformed line, naming its 1-based line number', () => {
    expect(() => parseRatings('1,2,3,4\n1,2,x,4\n')).toThrow(/line 2\b/)
    expect(() => parseRatings('1\t2\t3\n')).toThrow(/line 1\b/)
    expect(() => parseRatings('user,item,rating,ts\n1,2,3,4\nuser,item,rating,ts\n')).toThrow(/line 3\b/)
  })
})
