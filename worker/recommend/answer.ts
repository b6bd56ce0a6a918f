// A recommendation answer for a validated request: the A/B arm, the model data, the ranking and
// the log. The JSON route, `format=html` and the edge pass all answer through it.
import type { RecommendationAnswer } from '../../contract'
import type { Bindings, Site } from '../env'
import { withExperiment } from '../experiments/assign'
import { randomId } from '../ids'
import { isMoving } from '../shards/directory'
import { loadModelData } from './load'
import { recommend } from './rank'
import type { RecommendationRequest } from './route'
import type { Rules } from './rules'
import { sharedSource } from './shared'
import { logAnswer } from './answer-log'
import { RECOMMENDERS } from './strategies'

/** What an answer is served with: the bindings, the site and its shard, and how to finish work after the response. */
export interface Serving {
  env: Bindings
  site: Site
  db: D1Database
  /** Lets a write finish after the response (waitUntil); resolves at once where it can. */
  defer: (work: Promise<unknown>) => Promise<void>
}

/** The answer, and how many D1 round trips it waited for (0 when the edge cache held every shared part). */
export async function answerRecommendations(
  { env, site, db, defer }: Serving,
  input: RecommendationRequest,
): Promise<{ answer: RecommendationAnswer; d1: number }> {
  const { req, arm } = withExperiment(site.experiments, input)
  const now = Date.now()
  // A/B holdout: an empty answer, so the slot stays hidden; nothing to load for it.
  const holdout = arm?.variant === null
  const source = await sharedSource(env, site, db, (work) => void defer(work))
  const data = holdout ? null : await loadModelData(source, { ...req, now })
  const rules: Rules = { ...site.settings?.recommendations?.rules, ...req.rules }
  const items = data ? recommend(data, req.strategy, rules, data.dismissed, req.limit) : []
  const answer: RecommendationAnswer = {
    id: randomId('rec'),
    strategy: req.strategy,
    label: RECOMMENDERS[req.strategy].label,
    items: items.map(({ item, score, reasons }) => {
      const { inStock: _, ...meta } = data!.catalog.get(item)!
      return { ...meta, score: Math.round(score * 1e4) / 1e4, reasons }
    }),
  }
  const d1 = data?.d1 ?? 0
  // Not logged while the site moves to another shard: its rows must not change under the copy (a
  // click on this answer then counts for no recommendation in reports).
  if (isMoving(site)) return { answer, d1 }
  const entry = {
    id: answer.id,
    visitor: req.anonymousId ?? null,
    strategy: req.strategy,
    items: answer.items.map((i) => i.id),
    at: now,
  }
  await defer(logAnswer(db, site.id, entry, arm ?? undefined))
  return { answer, d1 }
}
