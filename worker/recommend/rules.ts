// Business rules applied to any strategy's answer: filter, boost, pin, exclude, diversify.
import { z } from 'zod'
import { byScore, type CatalogItem, type Scored } from './model'

/** Rules a request (or the site's marketer defaults) may set; request values win. */
export const rulesSchema = z.object({
  inStock: z.boolean().optional(),
  categories: z.array(z.string().max(128)).max(50).optional(),
  minPrice: z.number().min(0).optional(),
  maxPrice: z.number().min(0).optional(),
  exclude: z.array(z.string().max(200)).max(500).optional(),
  pin: z.array(z.string().max(200)).max(20).optional(),
  boost: z
    .array(
      z.object({
        category: z.string().max(128).optional(),
        items: z.array(z.string().max(200)).max(200).optional(),
        factor: z.number().min(0).max(100),
      }),
    )
    .max(20)
    .optional(),
  maxPerCategory: z.number().int().min(1).max(100).optional(),
})
export type Rules = z.infer<typeof rulesSchema>

/** The answer to show: filtered, boosted, diversified, pinned, cut to `limit`. */
export function applyRules(
  scored: Scored[],
  catalog: Map<string, CatalogItem>,
  rules: Rules,
  dismissed: Set<string>,
  limit: number,
): Scored[] {
  const excluded = new Set(rules.exclude)
  const allowed = (id: string) => {
    const item = catalog.get(id)
    return (
      item !== undefined &&
      !excluded.has(id) &&
      !dismissed.has(id) &&
      (rules.inStock === false || item.inStock) &&
      (!rules.categories?.length || rules.categories.includes(item.category)) &&
      (rules.minPrice === undefined || item.price >= rules.minPrice) &&
      (rules.maxPrice === undefined || item.price <= rules.maxPrice)
    )
  }
  const boosted = scored
    .filter((s) => allowed(s.item))
    .map((s) => {
      const item = catalog.get(s.item)!
      const boosts = (rules.boost ?? []).filter((b) => b.category === item.category || b.items?.includes(s.item))
      return { ...s, score: boosts.reduce((score, b) => score * b.factor, s.score) }
    })
  const pins = new Set((rules.pin ?? []).filter(allowed))
  const rest = diversify(boosted.filter((s) => !pins.has(s.item)).sort(byScore), catalog, rules.maxPerCategory)
  // Pinned items go first, scored just above the best organic one.
  const top = rest[0]?.score ?? 0
  const pinned = [...pins].map((id) => ({ item: id, score: top + 1, reasons: ['Featured by the shop'] }))
  return [...pinned, ...rest].slice(0, limit)
}

/** At most `max` items per category first; the rest follow only if the answer would be short. */
export function diversify(sorted: Scored[], catalog: Map<string, CatalogItem>, max?: number): Scored[] {
  if (!max) return sorted
  const counts = new Map<string, number>()
  const first: Scored[] = []
  const overflow: Scored[] = []
  for (const s of sorted) {
    const category = catalog.get(s.item)?.category ?? ''
    const n = counts.get(category) ?? 0
    counts.set(category, n + 1)
    ;(n < max ? first : overflow).push(s)
  }
  return [...first, ...overflow]
}
