// The buffer's timings, apart from its Durable Object class so Node benchmarks can read them.
import { MAX_EVENT_AGE_MS } from './ingest'

/** Wait after the first buffered event before a flush, so one D1 transaction folds many batches. */
export const FLUSH_DELAY_MS = 500
/** Most events one flush stores and folds (one D1 transaction); a bigger backlog flushes again at once. */
export const FLUSH_MAX_EVENTS = 1000
/**
 * How long a flushed event id is remembered: as long as the edge accepts an event (30 days) and a
 * day more. Within it a retried event is answered as a duplicate; the raw rows meanwhile leave D1
 * for the archive after two days, so this memory, not D1's key, is what stores an id once.
 */
export const RECENT_IDS_MS = MAX_EVENT_AGE_MS + 86_400_000
/** How often a buffer looks again whether its site has finished moving shards. */
export const HELD_RETRY_MS = 5000
/** Backoff bounds when D1 refuses a flush, in ms; the events stay buffered meanwhile. */
export const RETRY_BASE_MS = 1000
export const RETRY_MAX_MS = 60_000
