// The shopper's history as the device and D1 know it together, pure: the stored items lag the device
// by the write-behind buffer's few seconds, so the device's recent items are merged in for this one
// answer. Nothing here is written anywhere: the shared model (item stats, pairs) never sees them.
import { HISTORY_LISTS, type HistoryLists, type RecentItem } from '../../contract'
import type { HistoryItem } from './model'

/**
 * The stored history with the device's items merged in, newest first (ties by id), at most `limit`.
 * Only device items in `catalog` count, so a reason may cite them by their title. A device item not
 * stored yet becomes a history item of its own; for a stored one the counts are the larger of both
 * (never summed: the same event may be stored already) and the time the latest of both. A device
 * rating wins when it is newer than anything stored of the item.
 */
export function mergeHistory(
  stored: HistoryItem[],
  recent: RecentItem[],
  catalog: ReadonlySet<string>,
  limit: number,
): HistoryItem[] {
  const byItem = new Map(stored.map((h) => [h.item, { ...h }]))
  const storedAt = new Map(stored.map((h) => [h.item, h.lastTs]))
  // Oldest first, so the newest rating of an item is applied last.
  for (const r of [...recent].sort((a, b) => a.ts - b.ts)) {
    if (!catalog.has(r.id)) continue
    const h = byItem.get(r.id) ?? {
      item: r.id,
      lastTs: r.ts,
      views: 0,
      adds: 0,
      purchases: 0,
      rating: null,
      dismissed: false,
    }
    h.lastTs = Math.max(h.lastTs, r.ts)
    if (r.kind === 'view') h.views = Math.max(h.views, 1)
    if (r.kind === 'add') h.adds = Math.max(h.adds, 1)
    if (r.kind === 'buy') h.purchases = Math.max(h.purchases, 1)
    if (r.kind === 'dismiss') h.dismissed = true
    if (r.kind === 'rate' && r.rating !== undefined && (h.rating === null || r.ts > (storedAt.get(r.id) ?? 0))) {
      h.rating = r.rating
    }
    byItem.set(r.id, h)
  }
  return [...byItem.values()].sort((a, b) => b.lastTs - a.lastTs || (a.item < b.item ? -1 : 1)).slice(0, limit)
}

/** The history as the lists decide conditions test (`history.viewed` …), newest first. */
export const historyLists = (history: HistoryItem[]): Required<HistoryLists> => {
  const ids = (has: (h: HistoryItem) => boolean) => history.filter(has).map((h) => h.item)
  return {
    [HISTORY_LISTS.view]: ids((h) => h.views > 0),
    [HISTORY_LISTS.add]: ids((h) => h.adds > 0),
    [HISTORY_LISTS.buy]: ids((h) => h.purchases > 0),
    [HISTORY_LISTS.rate]: ids((h) => h.rating !== null),
    [HISTORY_LISTS.dismiss]: ids((h) => h.dismissed),
  }
}
