import { IDBFactory } from 'fake-indexeddb'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { RecommendationAnswer } from '../../contract'

type Recommend = typeof import('../../sdk/recommend')
let rec: Recommend

beforeEach(async () => {
  vi.resetModules()
  globalThis.indexedDB = new IDBFactory()
  rec = await import('../../sdk/recommend')
})

const answer = (over: Partial<RecommendationAnswer['items'][number]> = {}): RecommendationAnswer => ({
  id: 'rec_1',
  strategy: 'for-you',
  label: 'Recommended for you',
  items: [
    {
      id: 'tea-01',
      title: 'Sencha',
      category: 'tea',
      price: 9.5,
      image: '/img/tea.svg',
      score: 1,
      reasons: ['Because you viewed Assam', 'Popular this week'],
      ...over,
    },
  ],
})

describe('render()', () => {
  it('shows title, price, image and the first reason, linking by the slot template', () => {
    const slot = document.createElement('div')
    slot.dataset.link = '/shop/{id}'
    rec.render(slot, answer(), false)
    const a = slot.querySelector<HTMLAnchorElement>('a.vista-item')!
    expect(a.getAttribute('href')).toBe('/shop/tea-01')
    expect(a.dataset).toMatchObject({ vistaRec: 'rec_1', vistaPosition: '0', vistaProduct: 'tea-01' })
    expect(a.querySelector('.vista-name')!.textContent).toBe('Sencha')
    expect(a.querySelector('.vista-price')!.textContent).toBe('9.50')
    expect(a.querySelector('.vista-reason')!.textContent).toBe('Because you viewed Assam')
    expect(a.querySelector<HTMLElement>('.vista-reason')!.title).toBe('Because you viewed Assam · Popular this week')
    expect(a.querySelector('img')!.getAttribute('src')).toBe('/img/tea.svg')
    expect(slot.querySelector('.vista-title')!.textContent).toBe('Recommended for you')
    expect(slot.dataset.vistaFilled).toBe('rec_1')
  })

  it('renders markup from the server as text, and drops unsafe URLs', () => {
    const slot = document.createElement('div')
    const payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script>'
    rec.render(slot, answer({ title: payload, reasons: [payload], image: 'javascript:alert(1)', id: 'x"><b>' }), false)
    expect(slot.querySelectorAll('script, b, img').length).toBe(0)
    expect(slot.querySelector('.vista-name')!.textContent).toBe(payload)
    expect(slot.querySelector('.vista-reason')!.textContent).toBe(payload)
    rec.render(slot, answer({ image: '//evil.example/x.png' }), false)
    expect(slot.querySelector('img')).toBeNull()
    slot.dataset.link = 'javascript:alert({id})'
    rec.render(slot, answer(), true)
    expect(slot.querySelector('a')!.getAttribute('href')).toBe('')
    expect(slot.dataset.vistaFilled).toBe('cache')
  })
})

describe('fetchRecommendations()', () => {
  it('asks the Worker with the shopper and options, caches the answer, and falls back to it offline', async () => {
    const fetchMock = vi.fn(async (_url: string) => Response.json(answer()))
    vi.stubGlobal('fetch', fetchMock)
    const options = { strategy: 'also-viewed' as const, item: 'tea-01', limit: 4, rules: { maxPrice: 20 } }
    const fresh = await rec.fetchRecommendations(
      '/v1',
      { site: 'demo', key: 'pk', anonymousId: 'a1', cart: '' },
      options,
    )
    expect(fresh).toEqual(answer())
    const url = new URL(fetchMock.mock.calls[0]![0], 'http://x')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      site: 'demo',
      key: 'pk',
      anonymousId: 'a1',
      strategy: 'also-viewed',
      item: 'tea-01',
      limit: '4',
      rules: '{"maxPrice":20}',
    })
    await vi.waitFor(async () => expect(await rec.cachedRecommendations(options)).toEqual(answer()))
    fetchMock.mockRejectedValueOnce(new TypeError('offline'))
    expect(await rec.fetchRecommendations('/v1', {}, options)).toEqual(answer())
    fetchMock.mockResolvedValueOnce(new Response('{}', { status: 500 }))
    expect(await rec.fetchRecommendations('/v1', {}, { strategy: 'trending' })).toBeNull()
    vi.unstubAllGlobals()
  })
})
