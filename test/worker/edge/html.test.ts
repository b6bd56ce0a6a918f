import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertItems } from '../../../worker/admin/store'
import app from '../../../worker/app'
import { recommendationMarkup } from '../../../contract/markup'
import { escapeHtml, requestLocale, toHtml } from '../../../worker/render/html'
import type { RecommendationAnswer } from '../../../contract'
import { adminFor, catalogRow, queryFor, seedTestSite, testSite } from '../helpers'

const shop = testSite('html-answers')
const XSS = `<img src=x onerror="alert(1)">&'`

beforeAll(async () => {
  await seedTestSite(shop)
  await upsertItems(env.DB, shop.id, [
    catalogRow('tea', XSS, 'tea', 9.5, { image: 'javascript:alert(1)' }),
    catalogRow('pot', 'Teapot', 'tea', 40, { image: 'https://img.example/pot.jpg' }),
  ])
})

describe('markup as HTML', () => {
  it('escapes every text and attribute value', () => {
    expect(escapeHtml(XSS)).toBe('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;')
    expect(
      toHtml([
        [
          'a',
          { href: '/p/"x"', title: '<b>' },
          [
            ['img', { src: 'https://i/"' }],
            ['span', {}, '<i>'],
          ],
        ],
      ]),
    ).toBe('<a href="/p/&quot;x&quot;" title="&lt;b&gt;"><img src="https://i/&quot;"><span>&lt;i&gt;</span></a>')
  })

  it('links through the safe-URL rule and formats prices in the given locale', () => {
    const answer: RecommendationAnswer = {
      id: 'rec_1',
      strategy: 'trending',
      label: 'Trending now',
      items: [
        { id: 'a b', title: 'T', category: 'c', price: 1234.5, image: 'data:x', score: 1, reasons: ['R1', 'R2'] },
      ],
    }
    const html = toHtml(recommendationMarkup(answer, { link: '//evil/{id}', currency: 'EUR' }, 'de-DE'))
    expect(html).toBe(
      '<h2 class="vista-title">Trending now</h2><ul class="vista-items"><li class="vista-entry">' +
        '<a class="vista-item" href="" data-vista-rec="rec_1" data-vista-position="0" data-vista-product="a b">' +
        '<span class="vista-name">T</span><span class="vista-price">1.234,50\u00a0€</span>' +
        '<small class="vista-reason" title="R1 · R2">R1</small></a></li></ul>',
    )
  })

  it('reads the locale from Accept-Language', () => {
    expect(requestLocale('fr-CH,fr;q=0.9,en;q=0.8')).toBe('fr-CH')
    expect(requestLocale('*')).toBeUndefined()
    expect(requestLocale('not a locale!')).toBeUndefined()
    expect(requestLocale(undefined)).toBeUndefined()
  })
})

describe('format=html', () => {
  it('answers the slot as HTML the tag then tracks, every catalog string escaped', async () => {
    const query = queryFor(shop, { strategy: 'trending', limit: '2', format: 'html', title: 'Hot <now>' })
    const res = await app.request(`/v1/recommendations?${query}&link=/shop/{id}&currency=EUR&locale=en-GB`, {}, env)
    expect(res.status).toBe(200)
    expect(res.headers.get('Content-Type')).toBe('text/html; charset=UTF-8')
    expect(res.headers.get('Server-Timing')).toMatch(/^d1;desc=\d$/)
    const html = await res.text()
    const id = /data-vista-filled="(rec_[^"]+)"/.exec(html)?.[1]
    expect(id).toMatch(/^rec_/)
    expect(
      html.startsWith(
        `<div data-vista-slot="recommendations" data-strategy="trending" data-vista-edge="trending" data-vista-filled="${id}">`,
      ),
    ).toBe(true)
    expect(html).toContain('<h2 class="vista-title">Hot &lt;now&gt;</h2>')
    expect(html).toContain('<span class="vista-name">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;</span>')
    expect(html).toContain('href="/shop/tea"')
    expect(html).toContain('<span class="vista-price">€9.50</span>')
    // The javascript: image is dropped; the https one is kept.
    expect(html).not.toContain('javascript:')
    expect(html).toContain('<img class="vista-image" src="https://img.example/pot.jpg" alt="" loading="lazy">')
    expect(html).not.toMatch(/<img src=x/)
  })

  it('refuses a bad currency with a JSON error', async () => {
    const res = await app.request(
      `/v1/recommendations?${queryFor(shop, { format: 'html', currency: 'euro' })}`,
      {},
      env,
    )
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toBe('invalid query')
  })

  it('answers a decision as the banner slot, hidden when there is no action', async () => {
    const body = { site: shop.id, key: shop.key, anonymousId: 'h1', placement: 'side' }
    const none = await app.request(
      '/v1/decide?format=html',
      { method: 'POST', headers: { Origin: shop.origin }, body: JSON.stringify(body) },
      env,
    )
    expect(none.status).toBe(200)
    const empty = await none.text()
    expect(empty).toMatch(
      /^<div data-vista-slot="banner" data-placement="side" data-vista-edge="" data-vista-decision="dec_[^"]+" hidden=""><\/div>$/,
    )
    // The action schema refuses a javascript: link; the title and text are the marketer's text, escaped.
    const unsafe = { title: 'x', text: 'y', placement: 'side', value: 5, link: 'javascript:alert(1)' }
    expect((await adminFor(shop, 'PUT', '/actions/bad', unsafe)).status).toBe(400)
    const action = { title: XSS, text: 'Free <b>tea</b>', placement: 'side', value: 5, link: '/gift' }
    expect((await adminFor(shop, 'PUT', '/actions/gift', action)).status).toBe(200)
    const res = await app.request(
      '/v1/decide?format=html',
      { method: 'POST', headers: { Origin: shop.origin }, body: JSON.stringify(body) },
      env,
    )
    const html = await res.text()
    expect(html).toMatch(/ data-vista-action="gift">/)
    expect(html).toContain(
      '<strong class="vista-offer-title">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;</strong>',
    )
    expect(html).toContain('<span class="vista-offer-text">Free &lt;b&gt;tea&lt;/b&gt;</span>')
    expect(html).toContain('<a class="vista-offer" href="/gift">')
    expect(html).toMatch(
      /<small class="vista-why">Why this\? [^<]+<\/small><button class="vista-dismiss" aria-label="Not interested">×<\/button><\/div>$/,
    )
  })
})
