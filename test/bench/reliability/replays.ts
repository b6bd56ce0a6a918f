// 2. Concurrent replays: accepted batches posted again, several copies at once.
import type { VistaEvent } from '../../../contract'
import type { LocalWorker } from '../../e2e/server'
import { load } from '../load'
import { countByPrefix, post, SITE } from './batches'
import { int, report } from './report'

const COPIES = 3

/** Posts each accepted batch COPIES times at once; each event id must still have one row. */
export async function replays(worker: LocalWorker, kept: VistaEvent[][]): Promise<void> {
  const before = await countByPrefix(worker)
  let accepted = 0
  let duplicates = 0
  let answers = 0
  const run = await load(kept.length, 2, async (i) => {
    const copies = await Promise.all(Array.from({ length: COPIES }, () => post(worker, kept[i]!)))
    for (const c of copies) {
      accepted += c.accepted
      duplicates += c.duplicates
      answers++
    }
  })
  const events = kept.reduce((n, b) => n + b.length, 0)
  const prefixes = kept.map((b) => `'${b[0]!.id.slice(0, 9)}'`).join(', ')
  const [row] = await worker.query<{ replayed: number; ids: number; n: number; d: number }>(
    `SELECT SUM(substr(id, 1, 9) IN (${prefixes})) AS replayed,
            COUNT(DISTINCT CASE WHEN substr(id, 1, 9) IN (${prefixes}) THEN id END) AS ids,
            COUNT(*) AS n, COUNT(DISTINCT id) AS d
     FROM events WHERE site_id = '${SITE}'`,
  )
  const total = [...before.values()].reduce((n, c) => n + c.n, 0)
  report({
    name: `replays: ${kept.length} accepted batches posted ${COPIES}× at once`,
    tried: `${kept.length * COPIES} concurrent POSTs of ${int(events)} already-stored events`,
    held:
      run.failures === 0 &&
      answers === kept.length * COPIES &&
      accepted === 0 &&
      duplicates === events * COPIES &&
      row?.replayed === events &&
      row.ids === events &&
      row.n === total &&
      row.d === total,
    figure: `${answers} answers 2xx, accepted ${accepted}, duplicates ${int(duplicates)}; ${int(row?.replayed ?? 0)} rows for ${int(events)} ids; site total ${int(row?.n ?? 0)} (was ${int(total)})`,
  })
}
