// The answer log, gathered per isolate: the answers of the next ANSWER_LOG_DELAY_MS to one shard go
// to D1 together, a few statements for many answers, instead of a write per answer. The first
// answer of a round holds the write (waitUntil), so the runtime keeps the isolate until it is done.
import type { Arm } from '../experiments/assign'
import { logAnswers, type AnswerRow } from './store'

/** How long answers gather before their log goes to D1: how late a click may find its answer logged. */
export const ANSWER_LOG_DELAY_MS = 100

/** What one answer logs. */
export interface AnswerEntry {
  id: string
  visitor: string | null
  strategy: string
  items: string[]
  at: number
}

// Rows waiting per shard. Plain data only: the write belongs to the request that opened the round.
const gathering = new Map<D1Database, AnswerRow[]>()

/**
 * Adds an answer to its shard's round; the answer that opens a round gets the promise of its write,
 * to hand to waitUntil (the others resolve at once). A failed write is logged, not retried: the
 * answers were served, only their attribution is lost.
 */
export function logAnswer(db: D1Database, siteId: string, entry: AnswerEntry, arm?: Arm): Promise<void> {
  const counted = arm?.counted ? arm : undefined
  const row: AnswerRow = [
    siteId,
    entry.id,
    entry.visitor,
    entry.strategy,
    JSON.stringify(entry.items),
    entry.at,
    counted?.experimentId ?? null,
    counted?.name ?? null,
  ]
  const round = gathering.get(db)
  if (round) {
    round.push(row)
    return Promise.resolve()
  }
  const rows = [row]
  gathering.set(db, rows)
  return new Promise((resolve) => setTimeout(resolve, ANSWER_LOG_DELAY_MS))
    .then(() => {
      gathering.delete(db)
      return db.batch(logAnswers(db, rows))
    })
    .then(
      () => {},
      (error: unknown) => console.error(`answer log of ${rows.length} answers failed`, error),
    )
}
