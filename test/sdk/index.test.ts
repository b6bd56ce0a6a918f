import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { VistaEvent } from '../../contract'
import type { Vista } from '../../sdk/vista'
import { cleanPage, freshPage, settle } from './page'

beforeEach(freshPage)
afterEach(cleanPage)

declare global {
  interface Window {
    vista: Vista | unknown[]
  }
}
const vista = () => window.vista as Vista

describe('the script tag (sdk/index.ts)', () => {
  it('tracks the landing page view, then replays calls queued before it loaded', async () => {
    history.replaceState(null, '', '/?utm_source=news&utm_campaign=spring')
    document.body.dataset.vistaPage = 'home'
    window.vista = [['track', 'Product Viewed', { product_id: 'queued' }]]
    await import('../../sdk/index')
    await settle(vista())
    const { read } = await import('../../sdk/store')
    const [page, queued] = (await read<VistaEvent[]>('outbox')) ?? []
    expect(page).toMatchObject({
      type: 'Page Viewed',
      properties: { page_type: 'home' },
      context: { page: { path: '/' }, utm: { source: 'news', campaign: 'spring' }, device: 'desktop' },
    })
    expect(queued).toMatchObject({ type: 'Product Viewed', properties: { product_id: 'queued' } })
    expect(page!.sessionId).toBe(queued!.sessionId)
  })
})

describe('sdk modules other than index.ts', () => {
  it('do nothing at import: no listeners, observers, timers, requests, storage or reading the script tag', async () => {
    const added = [vi.mocked(globalThis.addEventListener), vi.mocked(document.addEventListener)]
    const timers = [vi.spyOn(globalThis, 'setTimeout'), vi.spyOn(globalThis, 'setInterval')]
    const observe = vi.spyOn(MutationObserver.prototype, 'observe')
    const open = vi.spyOn(indexedDB, 'open')
    const currentScript = vi.spyOn(document, 'currentScript', 'get')
    const { pushState, replaceState } = history
    for (const load of [
      () => import('../../sdk/vista'),
      () => import('../../sdk/autotrack'),
      () => import('../../sdk/slots'),
      () => import('../../sdk/send'),
      () => import('../../sdk/store'),
    ]) {
      await load()
    }
    for (const spy of [...added, ...timers, observe, open, currentScript]) expect(spy).not.toHaveBeenCalled()
    expect(fetch).not.toHaveBeenCalled()
    expect([history.pushState, history.replaceState]).toEqual([pushState, replaceState])
    expect(window.vista).toBeUndefined()
    // The tag itself does all of these, which shows the spies see them.
    await import('../../sdk/index')
    expect(added[0]).toHaveBeenCalled()
    expect(observe).toHaveBeenCalled()
    expect(currentScript).toHaveBeenCalled()
    expect(history.pushState).not.toBe(pushState)
  })
})
