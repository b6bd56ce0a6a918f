// From a parsed request body to event rows: validation, clock-skew correction, in-batch dedup.
// Pure: no bindings, so it is tested directly.
import {
  batchSchema,
  parseEvent,
  toIssues,
  type ConsentMode,
  type Issue,
  type Parsed,
  type VistaEvent,
} from '../../contract'
import type { EventRow } from './store'

/** Oldest accepted event, after skew correction: outboxes hold events while a shopper is offline. */
export const MAX_EVENT_AGE_MS = 30 * 24 * 3600 * 1000
/** How far an event may claim to be newer than the batch that carries it (same client clock). */
export const MAX_EVENT_LEAD_MS = 60 * 1000

/** A valid batch: its site, key and consent mode, its rows, and how many events it carried twice. */
export type Batch = {
  site: string
  key: string
  consent?: ConsentMode
  rows: EventRow[]
  duplicates: number
}

/** Validates a batch envelope and every event; corrects timestamps by the client's clock skew. */
export function readBatch(body: unknown, receivedAt: number): Parsed<Batch> {
  const envelope = batchSchema.safeParse(body)
  if (!envelope.success) return { ok: false, issues: toIssues(envelope.error) }
  const { site, key, sentAt, consent, events } = envelope.data
  // The client stamped both sentAt and each event with its own clock: the difference to ours is its skew.
  const skew = receivedAt - sentAt
  const issues: Issue[] = []
  const rows: EventRow[] = []
  const seen = new Set<string>()
  let duplicates = 0
  events.forEach((raw, index) => {
    const parsed = parseEvent(raw)
    if (!parsed.success) {
      issues.push(...toIssues(parsed.error, `events.${index}`, index))
      return
    }
    const event = parsed.data as VistaEvent
    const ts = event.timestamp + skew
    if (event.timestamp > sentAt + MAX_EVENT_LEAD_MS) {
      issues.push({ path: `events.${index}.timestamp`, message: 'is later than the batch sentAt', event: index })
    } else if (ts < receivedAt - MAX_EVENT_AGE_MS) {
      issues.push({ path: `events.${index}.timestamp`, message: 'is older than 30 days', event: index })
    } else if (seen.has(event.id)) {
      duplicates++
    } else {
      seen.add(event.id)
      rows.push(toRow(site, event, ts, receivedAt))
    }
  })
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: { site, key, consent, rows, duplicates } }
}

function toRow(site: string, e: VistaEvent, ts: number, receivedAt: number): EventRow {
  const props = e.properties as { product_id?: string }
  return [
    site,
    e.id,
    e.type,
    e.anonymousId,
    e.userId ?? null,
    e.sessionId,
    ts,
    e.timestamp,
    receivedAt,
    typeof props.product_id === 'string' ? props.product_id : null,
    e.context.page.path,
    JSON.stringify(e.properties),
    // Kept once per session (its first event's), so the page's title, which changes per event, is left out.
    JSON.stringify({ ...e.context, page: { ...e.context.page, title: undefined } }),
  ]
}
