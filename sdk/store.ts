// Device storage: IndexedDB through idb-keyval, and a Map when IndexedDB is missing, blocked or full,
// so tracking keeps working for the life of the page either way. When the shopper's consent does not
// allow storing (see `persist`), everything lives in the Map and IndexedDB keeps only the choice.
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval'

// idb-keyval's get, update, del and clear, on our store only: theirs default to a database of their
// own ("keyval-store"), whose code would ship in the tag though it is never opened.
const get = <T>(key: string, s: UseStore) => s('readonly', (os) => promisifyRequest<T>(os.get(key)))
const update = <T>(key: string, fn: (old: T | undefined) => T, s: UseStore) =>
  s(
    'readwrite',
    (os) =>
      // A promise by hand, as idb-keyval does: chained promises could let the transaction close.
      new Promise<void>((resolve, reject) => {
        const req = os.get(key)
        req.onsuccess = () => {
          try {
            os.put(fn(req.result), key)
            resolve(promisifyRequest(os.transaction) as Promise<void>)
          } catch (err) {
            reject(err)
          }
        }
        req.onerror = () => reject(req.error)
      }),
  )
const del = (key: string, s: UseStore) => s('readwrite', (os) => (os.delete(key), promisifyRequest(os.transaction)))
const clear = (s: UseStore) => s('readwrite', (os) => (os.clear(), promisifyRequest(os.transaction)))

const memory = new Map<string, unknown>()
let idb: UseStore | null | undefined // undefined: not opened yet
let allowed = true

/** The IndexedDB store, opened on first use; null once it has failed. */
function device(): UseStore | null {
  if (idb === undefined) {
    try {
      idb = createStore('vista', 'kv')
    } catch {
      idb = null
    }
  }
  return idb
}

async function run<T>(op: (store: UseStore) => Promise<T>, fallback: () => T, always = false): Promise<T> {
  const store = allowed || always ? device() : null
  if (store) {
    try {
      return await op(store)
    } catch {
      // Private modes and full disks reject here; the rest of the page runs on memory.
      idb = null
    }
  }
  return fallback()
}

/** Whether values survive this page (false until allowed, and once IndexedDB has failed). */
export const persistent = () => allowed && idb !== null

/**
 * Allows or stops keeping values on the device. Allowing moves what the page holds in memory to
 * IndexedDB; stopping erases IndexedDB but the value under `keep` and goes on in memory, empty.
 */
export async function persist(on: boolean, keep: string): Promise<void> {
  if (on === allowed) return
  const held = [...memory]
  memory.clear()
  allowed = on
  if (on) for (const [k, v] of held) await change(k, () => v)
  else {
    const kept = await readDevice(keep)
    await run(clear, () => {}, true)
    if (kept !== undefined) await writeDevice(keep, kept)
  }
}

// While IndexedDB works, memory mirrors what this page last read or wrote there. Should IndexedDB
// fail mid-page (a full disk), the page goes on from there, not from nothing: from nothing, events
// stored but not yet sent would never leave this page, and the shopper would get a new anonymous id.
const mirror =
  <T>(key: string) =>
  (value: T) => (memory.set(key, value), value)

/** The value under `key`, if any (`always`: from IndexedDB even where storing is not allowed). */
export const read = <T>(key: string, always = false) =>
  run<T | undefined>(
    (s) => get<T>(key, s).then(mirror(key)),
    () => memory.get(key) as T | undefined,
    always,
  )

/** Replaces the value under `key` with `fn(old)` atomically and resolves to the new value. */
export async function change<T>(key: string, fn: (old: T | undefined) => T, always = false): Promise<T> {
  let next!: T
  const apply = (old: T | undefined) => (next = fn(old))
  await run(
    (s) => update<T>(key, apply, s).then(() => mirror(key)(next)),
    () => void memory.set(key, apply(memory.get(key) as T | undefined)),
    always,
  )
  return next
}

/** Reads a value from IndexedDB even before storing is allowed (the consent choice itself). */
export const readDevice = <T>(key: string) => read<T>(key, true)

/** Writes a value to IndexedDB even when storing is not allowed (the consent choice itself). */
export const writeDevice = (key: string, value: unknown) => change(key, () => value, true)

/** Deletes the value under `key`. */
export const remove = (key: string) =>
  run(
    (s) => del(key, s).then(() => void memory.delete(key)),
    () => void memory.delete(key),
  )

/** Deletes everything stored on this device, in memory and in IndexedDB. */
export async function removeAll(): Promise<void> {
  memory.clear()
  await run(clear, () => {}, true)
}
