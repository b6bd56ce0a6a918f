// The marketer's console in Chromium against `wrangler dev`: sign in, a refused condition, a new
// action that a shopper sees and accepts, the report that counts it, and the shopper's segments.
import { mkdir } from 'node:fs/promises'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drainOutbox, launch, watchErrors } from './browser'
import { startWorker, type LocalWorker } from './server'
import { STRATEGIES } from '../../contract'

const OUT = 'test-results/e2e'
const ADMIN_KEY = 'sk_demo_vista_local_only'
let worker: LocalWorker
let browser: Browser

beforeAll(async () => {
  await mkdir(OUT, { recursive: true })
  ;[worker, browser] = await Promise.all([startWorker({ prefix: 'vista-e2e-console-' }), launch()])
})
afterAll(async () => {
  await browser?.close()
  await worker?.stop()
})

type Vista = { flush(): Promise<void>; profile(): Promise<{ anonymousId: string }> }

/** Fills the console's action form and saves it. */
async function saveAction(page: Page, fields: Record<string, string>): Promise<void> {
  const form = page.locator('#action-form')
  for (const [name, value] of Object.entries(fields)) {
    await form.locator(`[name="${name}"]`).fill(value)
  }
  await page.click('#save-action')
}

const actionIds = async () => {
  const rows = await worker.query<{ id: string }>(`SELECT id FROM actions WHERE site_id = 'demo' ORDER BY id`)
  return rows.map((r) => r.id)
}
type VistaWindow = { vista: Vista }

describe('the marketer console in Chromium', () => {
  it('edits actions, shows them to a shopper, reports them and looks the shopper up', async () => {
    const consoleContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const admin = await consoleContext.newPage()
    const adminErrors = watchErrors(admin)

    // 1. A wrong key shows the API's error; the demo admin key signs in.
    await admin.goto(`${worker.url}/console.html`)
    await admin.fill('#site', 'demo')
    await admin.fill('#admin-key', 'sk_wrong')
    await admin.click('#sign-in')
    await expect.poll(() => admin.locator('#sign-in-error').textContent()).toMatch(/\S/)
    await admin.fill('#admin-key', ADMIN_KEY)
    await admin.click('#sign-in')
    await admin.locator('#actions tr[data-action-id="welcome"]').waitFor()
    expect(await admin.evaluate(() => localStorage.length)).toBe(0)
    const before = await actionIds()

    // 2. An unknown field in the condition: the API's issue is listed and nothing is saved.
    await saveAction(admin, {
      id: 'console-typo',
      title: 'Typo',
      text: 'Never saved',
      value: '5',
      when: '{"cart.totl":{"$gt":1}}',
    })
    const problems = admin.locator('#action-errors li')
    await expect
      .poll(() => problems.allTextContents())
      .toEqual(expect.arrayContaining([expect.stringContaining('cart.totl')]))
    expect(await problems.first().textContent()).toMatch(/^when\.cart\.totl: .*unknown field/)
    expect(await actionIds()).toEqual(before)
    expect(await admin.locator('#actions tr[data-action-id="console-typo"]').count()).toBe(0)

    // 3. Pause the welcome offer (lever 0) through the form, then create the console's own action.
    await admin.click('#actions tr[data-action-id="welcome"] button.edit')
    expect(await admin.inputValue('#action-form [name="id"]')).toBe('welcome')
    await saveAction(admin, { lever: '0' })
    const welcomeLever = admin.locator('#actions tr[data-action-id="welcome"] td').nth(4)
    await expect.poll(() => welcomeLever.textContent()).toBe('0 (paused)')
    await expect.poll(() => admin.locator('#action-errors li').count()).toBe(0)
    await admin.click('#new-action')
    await saveAction(admin, {
      id: 'console-deal',
      title: 'Console deal: 5% off books',
      text: 'Code BOOKS5 at checkout.',
      link: '/c/books',
      placement: 'top',
      value: '50',
      lever: '1',
      reason: 'came from the console test campaign',
      when: '{"utm.campaign":"console-test"}',
    })
    const deal = admin.locator('#actions tr[data-action-id="console-deal"]')
    await deal.waitFor()
    expect(await deal.locator('td').nth(1).textContent()).toBe('Console deal: 5% off books')
    expect(await deal.locator('td').nth(5).textContent()).toBe('{"utm.campaign":"console-test"}')
    const [welcome] = await worker.query<{ definition: string }>(
      `SELECT definition FROM actions WHERE site_id = 'demo' AND id = 'welcome'`,
    )
    // The edit kept what the form showed: only the lever changed.
    expect(JSON.parse(welcome!.definition)).toMatchObject({
      lever: 0,
      value: 5,
      link: '/c/tea',
      when: { lifecycle: 'new', 'profile.orders': 0 },
    })

    // 4. A shopper from the campaign sees the new action and accepts it.
    const shopperContext = await browser.newContext()
    const shop = await shopperContext.newPage()
    const shopErrors = watchErrors(shop)
    await shop.goto(`${worker.url}/p/books-02?utm_campaign=console-test`)
    const banner = shop.locator('[data-vista-slot="banner"]')
    const title = banner.locator('.vista-offer-title')
    await expect
      .poll(async () => ((await banner.isVisible()) ? await title.textContent() : null), {
        timeout: 15_000,
      })
      .toBe('Console deal: 5% off books')
    const anonymousId = await shop.evaluate(() =>
      (window as unknown as VistaWindow).vista.profile().then((p) => p.anonymousId),
    )
    await banner.locator('.vista-offer').click()
    await shop.waitForURL('**/c/books')
    await drainOutbox(shop)
    const offers = await worker.query<{ type: string }>(
      `SELECT type FROM events WHERE anonymous_id = '${anonymousId}' AND type LIKE 'Offer %'
       AND json_extract(properties, '$.action_id') = 'console-deal' ORDER BY ts`,
    )
    expect(offers.map((o) => o.type)).toContain('Offer Accepted')

    // 5. The report counts the impression and the acceptance.
    await admin.click('#report-refresh')
    const row = admin.locator('#report-actions tr[data-key="console-deal"]')
    await row.waitFor()
    const count = async (col: string) => Number(await row.locator(`td[data-col="${col}"]`).textContent())
    expect(await count('impressions')).toBeGreaterThanOrEqual(1)
    expect(await count('acceptances')).toBe(1)
    expect(await admin.locator('#report-chart svg rect.bar').count()).toBeGreaterThan(0)
    expect(await admin.locator('#uplift').textContent()).toMatch(/No holdout data yet|Treated/)

    // 6. The shopper's customer view, with segments and their reasons.
    await admin.fill('#lookup-id', anonymousId)
    await admin.click('#lookup')
    await admin.locator('#profile li[data-segment]').first().waitFor()
    expect(await admin.locator('#profile').textContent()).toContain(anonymousId)
    const segments = await admin
      .locator('#profile li[data-segment]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-segment')))
    // A first visit on a book page, no order yet.
    expect(segments).toEqual(expect.arrayContaining(['new', 'prospect', 'likes:books']))

    // 7. A CSV catalog import with one bad row: three rows are created, the bad one says why.
    // The CSV is read by the API's rules: an `n` in in_stock means what it means through the API.
    expect(await admin.locator('#settings-origins li').count()).toBeGreaterThan(0)
    expect(await admin.inputValue('#settings-json')).toContain('holdoutShare')
    const header = 'id,title,category,price,image,description,in_stock'
    await admin.fill(
      '#catalog-rows',
      [
        header,
        'console-tea-1,"Console tea, green",tea,4.5,,"A ""quoted"" tea, with commas",true',
        'console-tea-2,Console tea black,tea,6,,,no',
        'console-tea-3,Console tea bad,tea,-2,,,yes',
        'console-tea-4,Console tea n,tea,5,,,n',
      ].join('\n'),
    )
    await admin.click('#catalog-import')
    const imported = admin.locator('#catalog-result')
    await expect.poll(() => imported.textContent()).toContain('created 3')
    expect(await imported.textContent()).toContain('rejected 1')
    expect(await imported.locator('li').allTextContents()).toEqual([
      expect.stringMatching(/^row 3 \(console-tea-3\): price: /),
    ])
    type Item = { id: string; title: string; price: number; in_stock: number }
    const items = await worker.query<Item>(
      `SELECT id, title, price, in_stock FROM items
       WHERE site_id = 'demo' AND id LIKE 'console-tea-%' ORDER BY id`,
    )
    const direct = await fetch(`${worker.url}/v1/admin/demo/catalog`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'text/csv' },
      body: `${header}\napi-tea-4,API tea n,tea,5,,,n\n`,
    })
    expect(direct.status).toBe(200)
    const [viaApi] = await worker.query<Item>(`SELECT in_stock FROM items WHERE site_id = 'demo' AND id = 'api-tea-4'`)
    expect(items).toMatchObject([
      { id: 'console-tea-1', title: 'Console tea, green', price: 4.5, in_stock: 1 },
      { id: 'console-tea-2', price: 6, in_stock: 0 },
      { id: 'console-tea-4', in_stock: viaApi!.in_stock },
    ])
    await admin.fill('#stock-id', 'console-tea-2')
    await admin.click('#stock-in')
    await expect.poll(() => admin.locator('#stock-status').textContent()).toContain('in stock')

    // 8. Settings: an invalid holdout share is refused with its path; a valid change is saved.
    await admin.fill('#settings-json', '{"decide":{"holdoutShare":2}}')
    await admin.click('#settings-save')
    await expect
      .poll(() => admin.locator('#settings-errors li').allTextContents())
      .toEqual(expect.arrayContaining([expect.stringContaining('settings.decide.holdoutShare')]))
    await admin.fill('#settings-json', '{"decide":{"holdoutShare":0,')
    await admin.click('#settings-save')
    await expect.poll(() => admin.locator('#settings-errors li').first().textContent()).toContain('JSON syntax error')
    const valid = {
      decide: { holdoutShare: 0, policy: { maxPerDay: 50, maxPerActionPerDay: 20 } },
      retentionDays: 400,
      consent: 'anonymous-until-consent',
    }
    await admin.fill('#settings-json', JSON.stringify(valid))
    await admin.click('#settings-save')
    await expect.poll(() => admin.locator('#settings-status').textContent()).toContain('Saved')
    expect(await admin.locator('#settings-errors li').count()).toBe(0)
    expect(JSON.parse(await admin.inputValue('#settings-json'))).toMatchObject(valid)
    expect(await admin.locator('#settings-saved').textContent()).toContain('"retentionDays": 400')
    expect(await admin.locator('#settings-tag').textContent()).toContain(
      'data-site="demo" data-key="YOUR_PUBLIC_KEY" data-consent="anonymous-until-consent"',
    )

    // 8b. Identity: the demo links unsigned sign-ins (it has no server to sign them) and the console
    // states that risk; a secret is shown once; turning unverified linking off hides the warning.
    expect(await admin.locator('#settings-identity').textContent()).toContain('No identity secret yet')
    expect(await admin.locator('#settings-identity-risk').isVisible()).toBe(true)
    await admin.click('#identity-rotate')
    await expect.poll(() => admin.locator('#identity-secret').textContent()).toMatch(/^is_demo_[0-9a-f]{64}\n/)
    await expect
      .poll(() => admin.locator('#settings-identity').textContent())
      .toContain('This site has an identity secret')
    await admin.fill('#settings-json', JSON.stringify({ ...valid, identity: { unverifiedLinking: false } }))
    await admin.click('#settings-save')
    await expect.poll(() => admin.locator('#settings-identity-risk').isHidden()).toBe(true)

    // 9. A preview of a condition over recent shoppers, and for the shopper from step 4.
    await admin.click('#new-action')
    await admin.fill('#preview-shopper', anonymousId)
    const form = admin.locator('#action-form')
    await form.locator('[name="id"]').fill('console-preview')
    await form.locator('[name="title"]').fill('Preview only')
    await form.locator('[name="when"]').fill('{"lifecycle":"new"}')
    // Without a value the API refuses the action, listed as for save.
    await form.locator('[name="value"]').fill('')
    await admin.click('#preview-action')
    await expect
      .poll(() => admin.locator('#action-errors li').allTextContents())
      .toEqual(expect.arrayContaining([expect.stringMatching(/^action\.value: /)]))
    await form.locator('[name="value"]').fill('5')
    await admin.click('#preview-action')
    const preview = admin.locator('#preview-result')
    await expect.poll(() => preview.textContent()).toContain('recent shoppers eligible')
    expect(await preview.textContent()).toMatch(/\d+ of \d+ recent shoppers eligible \(\d+%\)/)
    expect(await preview.locator('.preview-shopper').textContent()).toMatch(/Eligible(yes|no)/)
    expect(await admin.locator('#action-errors li').count()).toBe(0)
    expect(await actionIds()).not.toContain('console-preview')

    // 10. No errors on either page (the segments section may say it is not available yet); a
    // screenshot of the console.
    await expect.poll(() => admin.locator('#segments-status').textContent()).toMatch(/\S/)
    // Today's sizes, counted among recent shoppers: the test's shopper is a new prospect.
    await admin.click('#report-refresh')
    await expect.poll(() => admin.locator('#segments-status').textContent()).toMatch(/^Latest day \d{4}-\d\d-\d\d/)
    expect(await admin.locator('#segments-table tr[data-segment="prospect"]').count()).toBe(1)
    await admin.evaluate(() => window.scrollTo(0, 0))
    await admin.screenshot({ path: `${OUT}/console.png`, fullPage: true })
    expect(shopErrors).toEqual([])
    expect(adminErrors).toEqual([])

    // Signing out forgets the key.
    await admin.click('#sign-out')
    await admin.locator('#sign-in-section').waitFor()
    expect(await admin.evaluate(() => sessionStorage.length)).toBe(0)
    await shopperContext.close()
    await consoleContext.close()
  })

  it('creates, starts, reads and stops an A/B test of a slot', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const admin = await context.newPage()
    const errors = watchErrors(admin)
    await admin.goto(`${worker.url}/console.html`)
    await admin.fill('#admin-key', ADMIN_KEY)
    await admin.click('#sign-in')
    await admin.locator('#experiments tbody tr').first().waitFor()
    // Two variant rows to start with, their strategies the API's.
    const variants = admin.locator('#experiment-variants .variant-row')
    expect(await variants.count()).toBe(2)
    expect(await variants.first().locator('select option').allTextContents()).toEqual([...STRATEGIES])

    // A holdout over 50% is refused with its field; then a valid draft is saved.
    const form = admin.locator('#experiment-form')
    await form.locator('[name="id"]').fill('e2e-home')
    await form.locator('[name="slot"]').fill('e2e-home')
    await form.locator('[name="holdout"]').fill('60')
    await variants.nth(0).locator('[name="strategy"]').selectOption('trending')
    await variants.nth(0).locator('[name="limit"]').fill('2')
    await variants.nth(1).locator('[name="strategy"]').selectOption('category')
    await admin.click('#experiment-save')
    await expect
      .poll(() => admin.locator('#experiment-errors li').allTextContents())
      .toEqual(['holdout: Too big: expected number to be <=0.5'])
    await form.locator('[name="holdout"]').fill('20')
    await admin.click('#experiment-save')
    const row = admin.locator('#experiments tr[data-experiment="e2e-home"]')
    await row.waitFor()
    expect(await row.locator('td[data-col="status"]').textContent()).toBe('draft')

    // Start: the slot's shoppers get their variant's strategy, the holdout an empty answer.
    await row.locator('button.start').click()
    await expect.poll(() => row.locator('td[data-col="status"]').textContent()).toBe('running')
    const answers = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const query = new URLSearchParams({ site: 'demo', key: 'pk_demo_vista_public', slot: 'e2e-home' })
        query.set('anonymousId', `e2e-ab-${i}`)
        query.set('category', 'tea')
        const res = await fetch(`${worker.url}/v1/recommendations?${query}`)
        return (await res.json()) as { strategy: string; items: unknown[] }
      }),
    )
    for (const a of answers) {
      if (a.items.length === 0) expect(a.strategy).toBe('for-you')
      else expect(['trending', 'category']).toContain(a.strategy)
      if (a.strategy === 'trending') expect(a.items.length).toBeLessThanOrEqual(2)
    }
    await worker.settled()
    // The answer log reaches D1 in rounds of ANSWER_LOG_DELAY_MS (worker/recommend/answer-log.ts).
    const exposed = () =>
      worker.query<{ n: number }>("SELECT COUNT(*) AS n FROM experiment_shoppers WHERE experiment_id = 'e2e-home'")
    await expect.poll(async () => (await exposed())[0]!.n, { timeout: 20_000 }).toBe(12)

    // The report: every arm with its shoppers, the verdict waits for the horizon.
    await row.locator('button.report').click()
    await expect.poll(() => admin.locator('#experiment-verdict').textContent()).toBe('not yet significant')
    const arms = await admin
      .locator('#experiment-report tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-arm')))
    expect(arms).toEqual(['A', 'B', 'holdout'])
    const shoppers = await admin.locator('#experiment-report td[data-col="shoppers"]').allTextContents()
    expect(shoppers.map(Number).reduce((n, x) => n + x, 0)).toBe(12)
    const held = answers.filter((a) => a.items.length === 0).length
    expect(Number(shoppers[2])).toBe(held)
    expect(await admin.locator('#experiment-waiting').textContent()).toContain('7 days')
    await admin.locator('#experiments-section').scrollIntoViewIfNeeded()
    await admin.locator('#experiments-section').screenshot({ path: `${OUT}/console-experiments.png` })

    // Stop: the list says so and the slot is served as before.
    await row.locator('button.stop').click()
    await expect.poll(() => row.locator('td[data-col="status"]').textContent()).toBe('stopped')
    await expect.poll(() => admin.locator('#experiment-report-title').textContent()).toContain('stopped')
    expect(errors).toEqual([])
    await context.close()
  })
})
