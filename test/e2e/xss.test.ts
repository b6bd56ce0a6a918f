// Every marketer field that reaches a shopper's page carries a script payload; the SDK must show
// it as text, under a strict Content-Security-Policy (so the SDK needs no inline script) and
// without one (so rendering alone is safe), through hovers and clicks.
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import products from '../../demo/shop/products.json'
import type { DecisionAnswer } from '../../contract'
import { makeEvent } from '../fixtures/events'
import { launch, readDeviceStore, watchErrors } from './browser'
import { demoAdmin, postDemoEvents, startWorker, type LocalWorker } from './server'

const ADMIN_KEY = 'sk_demo_vista_local_only'
const PUBLIC_KEY = 'pk_demo_vista_public'
const HOST = '/xss/host'

// Script that, if it ever ran, flags the page (and asks the Worker's origin for a `__pwned-` URL,
// seen even from another frame); no quotes or spaces, so it fits any HTML or URL context.
const flag = (tag: string) => `top.__pwned=/${tag}/.source`
const js = (tag: string) => `${flag(tag)},fetch(/__pwned-${tag}/.source)`

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "connect-src 'self'",
  "img-src 'self' https: data:",
  "style-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  // Any string reaching innerHTML, document.write or a script URL throws and is reported.
  "require-trusted-types-for 'script'",
].join('; ')

/** Catalog rows: every text field and the image carry a payload. */
const ITEMS = [
  {
    id: 'xss-1',
    title: `<script>${js('title1')}</script>`,
    category: `</div><svg onload=${js('category1')}>`,
    image: `javascript:${js('image1')}`,
    description: `<img src=x onerror=${js('description1')}>`,
  },
  {
    id: 'xss-2',
    title: `<img src=x onerror=${js('title2')}>`,
    category: `" onmouseover="${js('category2')}" x="`,
    image: `data:text/html,<script>${js('image2')}</script>`,
    description: `</textarea><script>${js('description2')}</script>`,
  },
  {
    id: 'xss-3',
    title: `" onmouseover=${js('title3')} x="`,
    category: `<iframe src=javascript:${js('category3')}>`,
    image: `x" onerror="${js('image3')}`,
  },
  {
    id: 'xss-4',
    title: `</a><a href=javascript:${js('title4')}>click me</a>`,
    category: `'-${js('category4')}-'`,
    image: ` JaVaScRiPt:${js('image4')}`,
  },
  {
    id: 'xss-5',
    title: `{{constructor.constructor('${js('title5')}')()}}`,
    category: '<b>bold</b>',
    image: `https://img.example/a.png" onerror="${js('image5')}`,
  },
  { id: 'xss-6', title: 'Plain six', category: 'plain', image: `//img.example/${js('image6')}.png` },
  { id: 'xss-7', title: 'Plain seven', category: 'plain', image: `/img/tea.svg#"><svg onload=${js('image7')}>` },
].map((item, i) => ({ ...item, price: 10 + i, in_stock: true }))

/** A condition value; the condition holds for a shopper without UTM, and its words reach the console's preview. */
const CONDITION = `</div><svg onload=${js('condition')}>`

/** The action whose every text field carries a payload. */
const FIRST = {
  id: 'xss-a',
  placement: `xss-a"><svg onload=${flag('placement')}>`, // at most 64 characters
  title: `<script>${js('actionTitle')}</script>`,
  text: `<img src=x onerror=${js('actionText')}>`,
  image: `data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg" onload="${js('actionImage')}"/>`,
  link: `javascript:${js('link1')}`,
  reason: `" onmouseover="${js('reason')}`,
  when: { 'utm.source': { $ne: CONDITION } },
}

/** Banner actions, one placement each, so every link and image payload is shown at once. */
const ACTIONS = [
  FIRST,
  { id: 'xss-b', link: `data:text/html,<script>${js('link2')}</script>`, image: `javascript:${js('image8')}` },
  { id: 'xss-c', link: ` JAVASCRIPT:${js('link3')}`, image: `x" onerror="${js('image9')}` },
  { id: 'xss-d', link: `java\tscript:${js('link4')}` },
  { id: 'xss-e', link: `vbscript:${js('link5')}` },
  { id: 'xss-f', link: `//evil.example/${js('link6')}` },
  { id: 'xss-g', link: `/deals?q="><svg onload=${js('link7')}>`, image: '/img/tea.svg' },
  { id: 'xss-h', link: `https://shop.example/ok" onmouseover="${js('link8')}` },
].map((a) => ({ placement: a.id, title: `Offer ${a.id}`, text: `Text of ${a.id}`, value: 5, ...a }))

/** Sanitiser bypasses: paths that a browser resolves to another host. */
const OFF_ORIGIN = [
  { id: 'xss-x', link: '/\\evil.example/offer', image: '/\\evil.example/pixel.png' },
  { id: 'xss-y', link: '/\t/evil.example/offer', image: '/\n/evil.example/pixel.png' },
].map((a) => ({ placement: a.id, title: `Offer ${a.id}`, text: `Text of ${a.id}`, value: 5, ...a }))

/** Each action's link and image as planted, served in decisions even where the Worker refuses them on save. */
const PLANTED = new Map([...ACTIONS, ...OFF_ORIGIN].map((a) => [a.id, { link: a.link, image: a.image }]))

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** The shop page that holds the slots; no inline script, so it runs under the strict policy. */
const hostPage = (placements: string[]) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>XSS host</title>
<script src="/v1/vista.js" data-site="demo" data-key="${PUBLIC_KEY}" async></script>
</head>
<body>
<div id="trending" data-vista-slot="recommendations" data-strategy="trending" data-limit="10" data-link="${HOST}?p={id}"></div>
<div id="also-viewed" data-vista-slot="recommendations" data-strategy="also-viewed" data-item="xss-1" data-limit="10" data-link="${HOST}?p={id}"></div>
${placements.map((p) => `<div data-vista-slot="banner" data-placement="${escapeHtml(p)}" hidden></div>`).join('\n')}
</body>
</html>`

let worker: LocalWorker
let browser: Browser

/** The demo site's admin API, once the Worker runs. */
const admin = (method: string, path: string, body: unknown) => demoAdmin(worker)(method, path, body)

/** Saves an action; if the Worker refuses its link or image (and nothing else), saves it without them. */
async function saveAction(action: Record<string, unknown> & { id: string }): Promise<void> {
  const res = await fetch(`${worker.url}/v1/admin/demo/actions/${action.id}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(action),
  })
  if (res.ok) return
  expect(res.status).toBe(400)
  const refused = ((await res.json()) as { issues: Array<{ path: string }> }).issues.map((i) => i.path)
  expect(refused.length).toBeGreaterThan(0)
  expect(refused.filter((path) => path !== 'link' && path !== 'image')).toEqual([])
  await admin(
    'PUT',
    `/actions/${action.id}`,
    Object.fromEntries(Object.entries(action).filter(([key]) => !refused.includes(key))),
  )
}

/** Replaces the demo catalog by the payload items, saves the payload actions and co-views xss-1 with the rest. */
async function plantPayloads(): Promise<void> {
  await admin('PATCH', '/catalog/stock', { items: products.map((p) => ({ id: p.id, in_stock: false })) })
  const imported = (await admin('POST', '/catalog', { items: ITEMS })) as { rejected: unknown[] }
  expect(imported.rejected).toEqual([])
  for (const action of [...ACTIONS, ...OFF_ORIGIN]) await saveAction(action)
  // Two other shoppers who viewed xss-1 and the rest: its title becomes an also-viewed reason.
  const events = ['co-1', 'co-2'].flatMap((anonymousId) =>
    ITEMS.map((item) => makeEvent('Product Viewed', { product_id: item.id }, { anonymousId, sessionId: anonymousId })),
  )
  await postDemoEvents(worker, events)
}

beforeAll(async () => {
  ;[worker, browser] = await Promise.all([startWorker({ prefix: 'vista-e2e-xss-' }), launch()])
  await plantPayloads()
  // The planted views reach the shared model (also-viewed) once the buffer has folded them.
  await worker.settled()
})
afterAll(async () => {
  await browser?.close()
  await worker?.stop()
})

interface Watch {
  page: Page
  context: BrowserContext
  errors: string[]
  /** Requests any payload made, from any page or frame of the context. */
  pwned: string[]
}

/** Records the requests payloads make when they run, from any page or frame of `context`. */
function recordPwned(context: BrowserContext): string[] {
  const pwned: string[] = []
  context.on('request', (req) => {
    if (/\/__pwned-\w+$/.test(new URL(req.url()).pathname)) pwned.push(req.url())
  })
  return pwned
}

/** A fresh shopper on the host page; with `csp`, the page is served under the strict policy. */
async function openHost(csp: boolean, placements: string[]): Promise<Watch> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 2400 } })
  const pwned = recordPwned(context)
  // The closed network: nothing but the Worker's origin answers.
  await context.route(
    (url) => url.origin !== worker.url,
    (route) => route.abort(),
  )
  // Every page on the Worker's origin outside /v1/ is the host page (so links lead back to it).
  await context.route(
    (url) => url.origin === worker.url && !url.pathname.startsWith('/v1/'),
    (route) =>
      route.request().resourceType() !== 'document'
        ? route.continue()
        : route.fulfill({
            contentType: 'text/html; charset=utf-8',
            headers: csp ? { 'Content-Security-Policy': CSP } : {},
            body: hostPage(placements),
          }),
  )
  // The Worker refuses these links and images on save; served anyway (an older Worker, a tampered
  // answer), the renderer must still drop them.
  await context.route(
    (url) => url.origin === worker.url && url.pathname === '/v1/decide',
    async (route) => {
      const response = await route.fetch()
      const answer = (await response.json()) as DecisionAnswer
      if (answer.action) Object.assign(answer.action, PLANTED.get(answer.action.id))
      await route.fulfill({ response, json: answer })
    },
  )
  // Init scripts run outside the page's policy: they only listen.
  await context.addInitScript(() => {
    const w = window as unknown as { __violations: string[] }
    w.__violations = []
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__violations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sample}`),
    )
  })
  const page = await context.newPage()
  const errors = watchErrors(page)
  await page.goto(`${worker.url}${HOST}`)
  return { page, context, errors, pwned }
}

const pwnedFlag = (page: Page) => page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned ?? null)
const violations = (page: Page) => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)

/** Waits until every slot shows the Worker's fresh answer (ids come from the network, not the cache). */
async function rendered({ page, errors }: Watch): Promise<void> {
  const waiting =
    '[data-vista-slot="recommendations"]:not([data-vista-filled^="rec_"]), [data-vista-slot="banner"]:not([data-vista-decision^="dec_"])'
  try {
    await expect.poll(() => page.locator(waiting).count(), { timeout: 20_000 }).toBe(0)
  } catch {
    // A policy violation or a page error is what usually stops the SDK: say which.
    const why = { errors, violations: await violations(page) }
    throw new Error(`slots not filled: ${JSON.stringify(why)}`)
  }
}

/** The URLs that lead neither to https nor to the Worker's (the page's) origin. */
const strays = (urls: string[]) => urls.filter((u) => !u.startsWith('https://') && !u.startsWith(`${worker.url}/`))

/** Where the links and images under `selector` lead, as the browser resolved them. */
const urlsIn = (page: Page, selector: string) =>
  page
    .locator(`${selector} a, ${selector} img`)
    .evaluateAll((nodes) => nodes.map((n) => (n instanceof HTMLAnchorElement ? n.href : (n as HTMLImageElement).src)))

/** Elements and attributes that would mean markup was parsed from a marketer's string. */
const injected = (page: Page) =>
  page.evaluate(() => {
    const found: string[] = []
    for (const node of document.querySelectorAll('*')) {
      for (const attr of node.attributes) if (/^on/i.test(attr.name)) found.push(`${node.tagName} ${attr.name}`)
    }
    const allowed = new Set(['H2', 'UL', 'LI', 'A', 'IMG', 'SPAN', 'SMALL', 'STRONG', 'BUTTON'])
    for (const node of document.querySelectorAll('[data-vista-slot] *')) {
      if (!allowed.has(node.tagName)) found.push(node.tagName)
    }
    return found
  })

/** Hovers and clicks what the SDK rendered, so any handler a payload smuggled in would fire. */
async function touchEverything(page: Page): Promise<void> {
  for (const node of await page.locator('[data-vista-slot] :is(a, img, span, small, strong, h2)').all()) {
    if (await node.isVisible()) await node.hover()
  }
  // Links the SDK neutralised point at '#': clicking them stays on the page.
  for (const link of await page.locator('[data-vista-slot="banner"] a[href="#"]').all()) await link.click()
  for (const dismiss of await page.locator('[data-vista-slot="banner"] .vista-dismiss').all()) await dismiss.click()
}

const slotText = (page: Page, selector: string) =>
  page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.textContent ?? '').join('\n'))

const slotTitles = (page: Page) =>
  page.locator('[data-vista-slot] [title]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('title')).join('\n'))

describe.each([
  { name: 'under a strict Content-Security-Policy', csp: true },
  { name: 'without a Content-Security-Policy', csp: false },
])('payloads in every marketer field, $name', ({ csp }) => {
  it('render as text, run nothing on hover or click, and neutralise script URLs', async () => {
    const watch = await openHost(
      csp,
      ACTIONS.map((a) => a.placement),
    )
    const { page, context, errors, pwned } = watch
    await rendered(watch)

    // The payloads are on the page, as text: rendering was not skipped.
    const recs = await slotText(page, '[data-vista-slot="recommendations"]')
    for (const item of ITEMS) expect(recs).toContain(item.title)
    for (const item of ITEMS.slice(0, 5)) expect(recs).toContain(item.category) // "Popular in <category> this week"
    expect(recs).toContain(`Shoppers who viewed ${ITEMS[0]!.title} also viewed this`)
    const banners = await slotText(page, '[data-vista-slot="banner"]')
    for (const text of [FIRST.title, FIRST.text, FIRST.reason]) expect(banners).toContain(text)
    // The condition's words are the marketer's: shown in the console's preview, never to the shopper.
    expect(banners).not.toContain(CONDITION)
    expect(await page.locator('[data-vista-slot="banner"]:not([hidden])').count()).toBe(ACTIONS.length)
    expect(await slotTitles(page)).toContain(ITEMS[0]!.category)

    // Nothing was parsed as markup, and no link or image points at a script or document URL.
    expect(await injected(page)).toEqual([])
    expect(strays(await urlsIn(page, '[data-vista-slot]'))).toEqual([])
    expect(await page.locator(`[data-vista-slot="banner"] a[href="#"]`).count()).toBe(6) // xss-a to xss-f
    expect(await page.locator('.vista-offer[href^="https://shop.example/ok"]').count()).toBe(1)
    expect(await page.locator('#trending .vista-image').count()).toBe(2) // only xss-5 (https) and xss-7 (same origin)

    await touchEverything(page)
    expect(await pwnedFlag(page)).toBeNull()
    // A click on a recommendation leads (back) to the host page, which renders everything again.
    await Promise.all([page.waitForURL(/\?p=xss-/), page.locator('#trending .vista-item').first().click()])
    await rendered(watch)

    expect(await pwnedFlag(page)).toBeNull()
    expect(pwned).toEqual([])
    expect(await violations(page)).toEqual([])
    expect(errors).toEqual([])

    // The SDK's own requests went through (connect-src 'self'): what was shown and clicked reached D1.
    const { anonymousId } = (await readDeviceStore<{ anonymousId: string }>(page, 'ids'))!
    await page.evaluate(() => (window as unknown as { vista: { flush(): Promise<void> } }).vista.flush())
    const stored = async () =>
      (
        await worker.query<{ type: string }>(
          `SELECT DISTINCT type FROM events WHERE site_id = 'demo' AND anonymous_id = '${anonymousId}'`,
        )
      ).map((r) => r.type)
    await expect
      .poll(stored, { timeout: 20_000 })
      .toEqual(
        expect.arrayContaining([
          'Offer Accepted',
          'Offer Dismissed',
          'Offer Shown',
          'Recommendation Clicked',
          'Recommendation Shown',
        ]),
      )
    await context.close()
  })
})

describe('links and images from marketer fields', () => {
  it('stay on this origin or https, even when a path resolves to another host', async () => {
    const watch = await openHost(
      true,
      OFF_ORIGIN.map((a) => a.placement),
    )
    await rendered(watch)
    expect(await watch.page.locator('.vista-offer').count()).toBe(OFF_ORIGIN.length)
    expect(strays(await urlsIn(watch.page, '[data-vista-slot="banner"]'))).toEqual([])
    await watch.context.close()
  })
})

describe('the marketer console', () => {
  it('shows the payloads as text in the action list and the preview', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const pwned = recordPwned(context)
    const page = await context.newPage()
    const errors = watchErrors(page)
    await page.goto(`${worker.url}/console.html`)
    await page.fill('#site', 'demo')
    await page.fill('#admin-key', ADMIN_KEY)
    await page.click('#sign-in')
    const row = page.locator('#actions tr[data-action-id="xss-a"]')
    await row.waitFor()
    expect(await row.textContent()).toContain(FIRST.title)
    await row.hover()
    await row.locator('button.edit').click()
    // co-1 has no UTM, so the condition holds and its words come back in the preview's trace.
    await page.fill('#preview-shopper', 'co-1')
    await page.click('#preview-action')
    const shopper = page.locator('#preview-result .preview-shopper')
    await shopper.waitFor()
    expect(await shopper.textContent()).toContain(`utm source is not ${CONDITION}`)
    await shopper.hover()

    expect(await injected(page)).toEqual([])
    expect(await pwnedFlag(page)).toBeNull()
    expect(pwned).toEqual([])
    expect(errors).toEqual([])
    await context.close()
  })
})
