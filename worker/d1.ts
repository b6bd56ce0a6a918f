// D1's limits and the helpers that keep statements inside them.
/** D1 rejects statements with more than 100 bound parameters (Miniflare does not enforce it). */
export const D1_MAX_PARAMS = 100
/** D1 rejects statements over 100 KB; stay well below for the SQL text around the values. */
export const D1_MAX_STATEMENT_BYTES = 90_000

/**
 * Splits rows into groups that fit one statement: at most `maxParams` bound values and at most
 * `maxBytes` of string data. A single row larger than the byte budget still gets a group of its own.
 */
export function chunkRows<T extends readonly unknown[]>(
  rows: readonly T[],
  maxParams = D1_MAX_PARAMS,
  maxBytes = D1_MAX_STATEMENT_BYTES,
): T[][] {
  const groups: T[][] = []
  let group: T[] = []
  let params = 0
  let bytes = 0
  for (const row of rows) {
    const size = row.reduce<number>((n, v) => n + (typeof v === 'string' ? v.length * 3 : 8), 0)
    if (group.length > 0 && (params + row.length > maxParams || bytes + size > maxBytes)) {
      groups.push(group)
      group = []
      params = 0
      bytes = 0
    }
    group.push(row)
    params += row.length
    bytes += size
  }
  if (group.length > 0) groups.push(group)
  return groups
}

/** One `?` per id, comma-separated, for an IN list. */
export const marks = (ids: string[]) => ids.map(() => '?').join(', ')

/** One statement per D1_MAX_PARAMS - 1 ids (the site id takes a parameter too). */
export const inChunks = (ids: string[], statement: (chunk: string[]) => D1PreparedStatement) => {
  const chunks: D1PreparedStatement[] = []
  for (let i = 0; i < ids.length; i += D1_MAX_PARAMS - 1) chunks.push(statement(ids.slice(i, i + D1_MAX_PARAMS - 1)))
  return chunks
}
