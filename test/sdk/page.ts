// A fresh page for each SDK test: a new IndexedDB, fresh SDK modules, and afterwards nothing left of
// what a Vista hooked into the page (listeners, DOM observers, history methods, the DOM it read).
import { IDBFactory } from 'fake-indexeddb'
import { vi } from 'vitest'

const undo: Array<() => void> = []
const Observer = globalThis.MutationObserver

/** Starts a test on a fresh page: a new IndexedDB and module registry, listeners and observers recorded for cleanPage. */
export function freshPage(): void {
  vi.resetModules()
  globalThis.indexedDB = new IDBFactory()
  // The Worker is never answered unless a test says otherwise.
  vi.stubGlobal(
    'fetch',
    vi.fn(() => new Promise(() => {})),
  )
  for (const target of [globalThis, document] as EventTarget[]) {
    const add = target.addEventListener
    vi.spyOn(target, 'addEventListener').mockImplementation(function (this: EventTarget, ...args) {
      undo.push(() => target.removeEventListener(...args))
      return add.apply(this, args)
    })
  }
  vi.stubGlobal(
    'MutationObserver',
    class extends Observer {
      constructor(callback: MutationCallback) {
        super(callback)
        undo.push(() => this.disconnect())
      }
    },
  )
}

/** Ends a test: removes what freshPage recorded, the patched history methods and the test's DOM. */
export function cleanPage(): void {
  for (const fn of undo.splice(0)) fn()
  // autotrack.ts patches these on the history object; the prototype's own come back once deleted.
  delete (history as Partial<History>).pushState
  delete (history as Partial<History>).replaceState
  document.body.replaceChildren()
  for (const key of Object.keys(document.body.dataset)) delete document.body.dataset[key]
  delete (window as { vista?: unknown }).vista
  vi.restoreAllMocks()
  vi.unstubAllGlobals()
}

/** Waits for deferred DOM syncs, then for everything recorded so far (the profile read queues behind it). */
export const settle = <P>(vista: { profile(): Promise<P> }) =>
  new Promise((r) => setTimeout(r, 30)).then(() => vista.profile())
