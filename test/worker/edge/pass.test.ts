import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertItems } from '../../../worker/admin/store'
import app from '../../../worker/app'
import { fillSlots, type PageRequest } from '../../../worker/edge/rewrite'
import { loadSite } from '../../../worker/http/site-auth'
import { makeEvent } from '../../fixtures/events'
import { adminFor, batchFor, catalogRow, seedTestSite, sendFor, testSite } from '../helpers'

const shop = testSite('edge-pass')
const rival = testSite('edge-rival')

const PAGE = `<!doctype html><html><head><script src="/v1/vista.js" data-site="edge-pass" data-key="k" async></script></head>
<body data-vista-page="product"><main data-vista-view="tea" data-vista-category="tea">Tea</main>
<section id="also" data-vista-slot data-strategy="also-viewed" data-limit="2"><p>loading</p></section>
<section id="mine" data-vista-slot data-strategy="for-you"></section>
<section id="cart" data-vista-slot data-strategy="cart"></section>
<section id="kept" data-vista-slot data-strategy="trending" data-vista-tag-only></section>
<div id="offer" data-vista-slot="banner" data-placement="top"></div>
</body></html>`

async function pass(shopper: string | null): Promise<string> {
  const site = (await loadSite(env, shop.id))!
  const request: PageRequest = {
    serving: { env, site, db: env.DB, defer: (work) => work.then(() => {}) },
    shopper,
    userAgent: 'Mozilla/5.0',
    url: new URL('https://shop.test/p/tea'),
  }
  const page = new Response(PAGE, { headers: { 'Content-Type': 'text/html' } })
  return fillSlots(page, request).text()
}
const slot = (html: string, id: string) => new RegExp(`<[a-z]+ id="${id}"[^>]*>([\\s\\S]*?)</(section|div)>`).exec(html)

beforeAll(async () => {
  for (const s of [shop, rival]) await seedTestSite(s)
  await upsertItems(env.DB, shop.id, [
    catalogRow('tea', 'Sencha', 'tea', 5),
    catalogRow('pot', 'Teapot', 'tea', 5),
    catalogRow('cup', '<b>Cup</b>', 'tea', 5),
  ])
  const views = ['tea', 'pot', 'cup'].map((product_id) =>
    makeEvent('Product Viewed', { product_id }, { anonymousId: 'v1' }),
  )
  await sendFor(shop, 'POST', '/v1/events', batchFor(shop, views))
  await adminFor(shop, 'PUT', '/actions/welcome', { title: 'Welcome', text: 'Hi', placement: 'top', value: 1 })
})

describe('the edge pass', () => {
  it('fills the non-personal slots of an anonymous page and leaves the rest for the tag', async () => {
    const html = await pass(null)
    const also = slot(html, 'also')!
    expect(also[0]).toMatch(
      /^<section id="also" data-vista-slot data-strategy="also-viewed" data-limit="2" data-vista-edge="also-viewed" data-vista-filled="rec_[^"]+">/,
    )
    expect([...also[1]!.matchAll(/data-vista-product="([^"]+)"/g)].map((m) => m[1]).sort()).toEqual(['cup', 'pot'])
    expect(also[1]).toContain('<span class="vista-name">&lt;b&gt;Cup&lt;/b&gt;</span>')
    expect(also[1]).not.toContain('loading')
    // Personal ones (no cookie), the cart's (on the device) and the banner (about the shopper) are the tag's.
    expect(slot(html, 'mine')![0]).toBe('<section id="mine" data-vista-slot data-strategy="for-you"></section>')
    expect(slot(html, 'cart')![0]).toBe('<section id="cart" data-vista-slot data-strategy="cart"></section>')
    expect(slot(html, 'kept')![0]).toBe(
      '<section id="kept" data-vista-slot data-strategy="trending" data-vista-tag-only></section>',
    )
    expect(slot(html, 'offer')![0]).toBe('<div id="offer" data-vista-slot="banner" data-placement="top"></div>')
    expect(html).toContain('<script src="/v1/vista.js" data-site="edge-pass" data-key="k" async data-edge=""></script>')
  })

  it("fills the shopper's own slots and banner when the page names them by the tag's cookie", async () => {
    const html = await pass('v1')
    expect(slot(html, 'mine')![0]).toMatch(/data-vista-edge="for-you" data-vista-filled="rec_[^"]+">/)
    const offer = slot(html, 'offer')!
    expect(offer[0]).toMatch(/data-vista-edge="" data-vista-decision="dec_[^"]+" data-vista-action="welcome">/)
    expect(offer[1]).toContain('<strong class="vista-offer-title">Welcome</strong>')
    // Each answer is logged as the API's are: the recommendation with the shopper's id.
    const logged = await env.DB.prepare(
      `SELECT strategy FROM recommendations WHERE site_id = ? AND anonymous_id = 'v1' ORDER BY strategy`,
    )
      .bind(shop.id)
      .all<{ strategy: string }>()
    expect(logged.results.map((r) => r.strategy)).toEqual(['also-viewed', 'for-you'])
  })
})

describe('edge settings', () => {
  const patch = (s = shop, edge: unknown) => adminFor(s, 'PATCH', '/settings', { settings: { edge } })
  const hosts = () => env.DB.prepare('SELECT host, site_id FROM edge_hosts ORDER BY host').all()

  it('maps hosts to one site, refuses another site the same host and a looping origin', async () => {
    expect(
      (await patch(shop, { hosts: ['shop.test', 'www.shop.test'], origin: 'https://origin.shop.test' })).status,
    ).toBe(200)
    expect((await hosts()).results).toEqual([
      { host: 'shop.test', site_id: shop.id },
      { host: 'www.shop.test', site_id: shop.id },
    ])
    const taken = await patch(rival, { hosts: ['shop.test'], origin: 'https://rival.test' })
    expect(taken.status).toBe(409)
    expect(await taken.json()).toEqual({ error: 'another site serves shop.test' })
    const loop = await patch(rival, { hosts: ['rival.test'], origin: 'https://rival.test' })
    expect(loop.status).toBe(400)
    expect((await hosts()).results).toHaveLength(2)
    for (const origin of ['http://origin.shop.test', 'ftp://x', 'https://a/b'])
      expect((await patch(rival, { hosts: ['r.test'], origin })).status).toBe(400)
  })

  it('serves an edge host through the pass and turns it off with null', async () => {
    // The origin cannot be reached from the test: the pass says so, where the API would answer 404.
    const before = await app.request('https://shop.test/p/tea', {}, env)
    expect(before.status).toBe(502)
    expect(await before.json()).toEqual({ error: 'the shop could not be reached at https://origin.shop.test' })
    expect((await patch(shop, null)).status).toBe(200)
    expect((await hosts()).results).toEqual([])
    const after = await app.request('https://shop.test/p/tea', {}, env)
    expect(after.status).toBe(404)
    expect(await after.json()).toEqual({ error: 'no route for GET /p/tea' })
  })
})
