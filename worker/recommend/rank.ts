// The answer from loaded data, with no binding in sight: the strategy's picks, the request's and the shop's rules,
// and a fill of trending items when the picks run short.
import type { Strategy } from '../../contract'
import { byScore, type ModelData, type Scored } from './model'
import { RECOMMENDERS } from './strategies'
import { unwanted } from './strategies/for-you'
import { trending } from './strategies/popular'
import { applyRules, type Rules } from './rules'

/** How many picks a strategy is asked for at least, so rules can filter, boost and diversify before the cut. */
export const CANDIDATE_POOL = 100

/** Runs the strategy, applies the rules and fills a short answer with trending items. */
export function recommend(
  data: ModelData,
  strategy: Strategy,
  rules: Rules,
  dismissed: Set<string>,
  limit: number,
): Scored[] {
  const entry = RECOMMENDERS[strategy]
  // Ask for a wide pool: rules may filter, boost and diversify before the cut.
  const pool = Math.max(limit * 4, CANDIDATE_POOL)
  const picked = entry.recommend(data, pool)
  const onScreen = new Set([...data.context.cart, ...(data.context.item ? [data.context.item] : [])])
  const shown = entry.hideOnScreen ? picked.filter((p) => !onScreen.has(p.item)) : picked
  const ranked = applyRules(shown, data.catalog, rules, dismissed, limit)
  if (ranked.length >= limit || !entry.fill) return ranked
  // Fill a short answer with popular items the shopper has not bought, disliked or dismissed,
  // scored below the last real pick.
  const skip = unwanted(data)
  const fill = trending(data, pool).filter((t) => !picked.some((p) => p.item === t.item))
  const lowest = Math.min(...ranked.map((r) => r.score), 1)
  const extra = applyRules(
    fill.filter((f) => !skip.has(f.item)).map((f) => ({ ...f, score: (lowest * f.score) / (1 + f.score) })),
    data.catalog,
    { ...rules, pin: [], exclude: [...(rules.exclude ?? []), ...ranked.map((r) => r.item)] },
    dismissed,
    limit - ranked.length,
  )
  return [...ranked, ...extra.sort(byScore)]
}
