// The next best action for a validated request: the shopper's view, the arms, the contacts, the
// decision and its log. The JSON route, `format=html` and the edge pass all answer through it.
import type { decideBody, DecisionAnswer } from '../../contract'
import type { z } from 'zod'
import { customerView, decisionContext } from '../customer/view'
import { listActions, logDecision, offerContacts, savedActions, segmentArms } from './store'
import { armKey, decide, DEFAULT_POLICY, type Arms, type Contact } from './engine'
import { randomId } from '../ids'
import { mergeHistory } from '../recommend/history'
import { HISTORY_LIMIT } from '../recommend/load'
import { catalogItems } from '../recommend/store'
import type { Serving } from '../recommend/answer'

/** Share of shoppers in the holdout group unless the site sets `decide.holdoutShare`. */
export const HOLDOUT_SHARE = 0.1
/** How far back contacts count for caps and suppression (the longest suppression allowed). */
export const CONTACT_WINDOW_DAYS = 90

const KINDS: Record<string, Contact['kind']> = {
  'Offer Shown': 'shown',
  'Offer Accepted': 'accepted',
  'Offer Dismissed': 'dismissed',
}

/** The decision for a shopper and placement, logged (after the response) for learning and reports. */
export async function answerDecision(
  { env, site, db, defer }: Serving,
  req: z.output<typeof decideBody>,
): Promise<DecisionAnswer> {
  const now = Date.now()
  const customer = await customerView(env, site, req.anonymousId, now)
  const { view } = customer
  const recent = req.recent ?? []
  // Arms learn per lifecycle stage: coarse enough to gather evidence, fine enough to differ.
  const segmentKey = view.lifecycle
  const [actionRows, armRows, contactRows, ...catalogRows] = await db.batch([
    listActions(db, site.id),
    segmentArms(db, site.id, segmentKey),
    offerContacts(db, site.id, customer.browsers, now - CONTACT_WINDOW_DAYS * 86_400_000),
    ...catalogItems(db, site.id, [...new Set(['', ...recent.map((r) => r.id)])]),
  ])
  // The device's recent items, as catalog items, join the stored ones for this decision only.
  const known = new Set(catalogRows.flatMap((r) => (r.results ?? []) as Array<{ id: string }>).map((r) => r.id))
  const context = decisionContext(customer, req.context, mergeHistory(customer.history, recent, known, HISTORY_LIMIT))
  const actions = savedActions((actionRows?.results ?? []) as Array<{ definition: string }>)
  const arms: Arms = Object.fromEntries(
    ((armRows?.results ?? []) as Array<{ action_id: string; successes: number; failures: number }>).map((r) => [
      armKey(r.action_id, segmentKey),
      { successes: r.successes, failures: r.failures },
    ]),
  )
  const contacts: Contact[] = (
    (contactRows?.results ?? []) as Array<{ action_id: string; ts: number; type: string }>
  ).map((r) => ({
    actionId: r.action_id,
    at: r.ts,
    kind: KINDS[r.type]!,
  }))
  const decision = decide({
    actions,
    context,
    contacts,
    policy: { ...DEFAULT_POLICY, ...site.settings?.decide?.policy },
    arms,
    segmentKey,
    holdoutShare: site.settings?.decide?.holdoutShare ?? HOLDOUT_SHARE,
    unitId: customer.uid ?? req.anonymousId,
    placement: req.placement,
    now,
    rng: Math.random,
  })
  const answer: DecisionAnswer = {
    id: randomId('dec'),
    placement: req.placement,
    action: decision.action && {
      id: decision.action.id,
      title: decision.action.title,
      text: decision.action.text,
      image: decision.action.image,
      link: decision.action.link,
    },
    // Only what the shopper may read; the trace (rivals, odds, values, the holdout) stays in the log.
    reasons: decision.reasons,
  }
  const log = logDecision(db, site.id, {
    id: answer.id,
    anonymousId: req.anonymousId,
    placement: req.placement,
    actionId: decision.action?.id ?? null,
    segmentKey,
    probability: decision.probability,
    propensity: decision.propensity,
    holdout: decision.holdout,
    // The visit as before; the item lists stay out of the log: the device's recent items are never stored.
    context: { ...context, history: undefined },
    trace: decision.trace,
    at: now,
  })
  await defer(log)
  return answer
}
