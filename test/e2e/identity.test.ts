// Identity verification through the real SDK in Chromium: the shop's backend signs the login (here
// the test stands in for it, with the secret the admin API showed once), the page passes the
// signatures to vista.identify, and two devices become one customer; a third browser that names
// the same login without them stays a stranger.
import { createHash, createHmac } from 'node:crypto'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Vista } from '../../sdk/vista'
import { launch, watchErrors } from './browser'
import { startWorker, type LocalWorker } from './server'

// The demo seed's admin key (scripts/seed-demo.ts), for local use only.
const DEMO_ADMIN_KEY = 'sk_demo_vista_local_only'
let worker: LocalWorker
let browser: Browser
let secret: string

const admin = async (method: string, path: string, body?: unknown) => {
  const init = {
    method,
    headers: { Authorization: `Bearer ${DEMO_ADMIN_KEY}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  }
  const res = await fetch(`${worker.url}/v1/admin/demo${path}`, init)
  expect(res.status).toBe(200)
  return res.json() as Promise<any>
}
/** What the shop's backend computes: HMAC-SHA256(secret, "kind:value") in hex. */
const sign = (text: string) => createHmac('sha256', secret).update(text).digest('hex')

beforeAll(async () => {
  ;[worker, browser] = await Promise.all([startWorker({ prefix: 'vista-identity-' }), launch()])
  secret = (await admin('POST', '/keys/identity/rotate')).key
  // The demo links unsigned sign-ins (it has no server to sign them); a real shop does not.
  await admin('PATCH', '/settings', { settings: { identity: { unverifiedLinking: false } } })
})
afterAll(async () => {
  await browser?.close()
  await worker?.stop()
})

/** A fresh device on the demo shop that has looked at the first product of the home page. */
async function device(): Promise<{ page: Page; errors: string[]; anonymousId: string; product: string }> {
  const page = await (await browser.newContext()).newPage()
  const errors = watchErrors(page)
  await page.goto(worker.url)
  const link = page.locator('main a[href^="/p/"]:not(.vista-item)').first()
  const product = (await link.getAttribute('href'))!.replace('/p/', '')
  await link.click()
  await page.waitForURL(`**/p/${product}`)
  const anonymousId = await page.evaluate(async () => {
    const vista = (window as unknown as { vista: Vista }).vista
    await vista.flush() // after the product view is recorded
    return (await vista.profile()).anonymousId
  })
  expect(anonymousId).toMatch(/^[0-9a-f]{32}$/)
  return { page, errors, anonymousId, product }
}

const identify = (page: Page, user: string, email: string, signatures?: Record<string, string>) =>
  page.evaluate(
    async ([user, email, signatures]) => {
      const vista = (window as unknown as { vista: Vista }).vista
      vista.identify(user as string, { email }, signatures as Record<string, string> | undefined)
      await vista.flush()
    },
    [user, email, signatures] as const,
  )
const identified = (page: Page) => page.waitForResponse((r) => r.url().endsWith('/v1/identify'))

describe('vista.identify with signatures, in Chromium', () => {
  it('joins two signed devices into one customer, and leaves an unsigned claimer a stranger', async () => {
    const email = 'ana@example.com'
    const signatures = {
      user: sign('user:ana'),
      email: sign(`email:${createHash('sha256').update(email).digest('hex')}`),
    }
    const phone = await device()
    const laptop = await device()
    for (const d of [phone, laptop]) {
      const answer = identified(d.page)
      await identify(d.page, 'ana', ` ${email.toUpperCase()} `, signatures)
      expect((await answer).status()).toBe(200)
    }
    const lookup = await admin('GET', `/profiles/${laptop.anonymousId}`)
    expect([...lookup.browsers].sort()).toEqual([laptop.anonymousId, phone.anonymousId].sort())
    expect(lookup.identities.map((i: { kind: string }) => i.kind).sort()).toEqual([
      'anonymous',
      'anonymous',
      'email',
      'user',
    ])
    // The laptop's "recently viewed" knows what the phone looked at.
    const recent = await laptop.page.evaluate(() =>
      (window as unknown as { vista: Vista }).vista.recommend({ strategy: 'recently-viewed' }),
    )
    expect(recent!.items.map((i) => i.id)).toContain(phone.product)

    const stranger = await device()
    const refused = identified(stranger.page)
    await identify(stranger.page, 'ana', email)
    expect((await refused).status()).toBe(200)
    const claim = await admin('GET', `/profiles/${stranger.anonymousId}`)
    expect(claim).toMatchObject({ uid: null, browsers: [stranger.anonymousId] })
    expect(claim.unverified.map((c: { kind: string; value: string }) => `${c.kind}:${c.value}`).sort()).toEqual([
      `email:${createHash('sha256').update(email).digest('hex')}`,
      'user:ana',
    ])
    const exported = await stranger.page.evaluate(() => (window as unknown as { vista: Vista }).vista.exportData())
    const server = exported.server as { browsers: string[]; events: Array<{ properties: { product_id?: string } }> }
    expect(server.browsers).toEqual([stranger.anonymousId])
    const forged = identified(stranger.page)
    await identify(stranger.page, 'ana', email, { user: sign('user:bob') })
    expect((await forged).status()).toBe(401)
    expect((await admin('GET', `/profiles/${phone.anonymousId}`)).browsers).toHaveLength(2)
    for (const d of [phone, laptop, stranger]) expect(d.errors).toEqual([])
  })
})
