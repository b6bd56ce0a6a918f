// Catalog files: CSV (header id,title,category,price[,image,description,in_stock]) or a JSON array,
// read the same way by the admin API (text/csv bodies) and the command line.
import { parse } from 'csv-parse/sync'

/** Catalog rows from a CSV (header: id,title,category,price[,image,description,in_stock]) or a JSON array. */
export function readCatalog(text: string, format: 'csv' | 'json'): unknown[] {
  if (format === 'json') return JSON.parse(text) as unknown[]
  const records = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Array<Record<string, string>>
  return records.map((r) => ({
    ...r,
    price: r.price === undefined || r.price === '' ? r.price : Number(r.price),
    ...(r.in_stock === undefined ? {} : { in_stock: !/^(0|false|no)$/i.test(r.in_stock) }),
    image: r.image || undefined,
    description: r.description || undefined,
  }))
}
