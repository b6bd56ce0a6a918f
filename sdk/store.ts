// Device storage: IndexedDB through idb-keyval, and a Map when IndexedDB is missing, blocked or full,
// so tracking keeps working for the life of the page either way.
import { clear, createStore, del, get, update, type UseStore } from 'idb-keyval'

const memory = new Map<string, unknown>()
let idb: UseStore | null = null
try {
  idb = createStore('vista', 'kv')
} catch {}

async function run<T>(op: (store: UseStore) => Promise<T>, fallback: () => T): Promise<T> {
  if (idb) {
    try {
      return await op(idb)
    } catch {
      // Private modes and full disks reject here; the rest of the page runs on memory.
      idb = null
    }
  }
  return fallback()
}

/** Whether values survive this page (false once IndexedDB has failed). */
export const persistent = () => idb !== null

/** The value under `key`, if any. */
export const read = <T>(key: string) =>
  run<T | undefined>((s) => get<T>(key, s), () => memory.get(key) as T | undefined)

/** Replaces the value under `key` with `fn(old)` atomically and resolves to the new value. */
export async function change<T>(key: string, fn: (old: T | undefined) => T): Promise<T> {
  let next!: T
  const apply = (old: T | undefined) => (next = fn(old))
  await run(
    (s) => update<T>(key, apply, s),
    () => void memory.set(key, apply(memory.get(key) as T | undefined)),
  )
  return next
}

/** Deletes the value under `key`. */
export const remove = (key: string) => run((s) => del(key, s), () => void memory.delete(key))

/** Deletes everything stored on this device. */
export const removeAll = () => run((s) => clear(s), () => memory.clear())
