// The Worker's backstop for consent: a script tag laxer than the site's consent setting (a missing
// data-consent, say) gets its events refused, so nothing is stored beyond what the site promised.
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { ApiError, ConsentMode } from '../../../contract'
import { upsertSite } from '../../../worker/admin/store'
import app from '../../../worker/app'
import { hashKey } from '../../../worker/http/site-auth'
import { makeEvent } from '../../fixtures/events'
import { settle, testSite, type TestSite } from '../helpers'

/** A site of its own with `consent` set (or not). */
async function siteWith(id: string, consent?: ConsentMode): Promise<TestSite> {
  const site = testSite(id)
  await upsertSite(env.DB, {
    id,
    name: id,
    keyHash: await hashKey(site.key),
    origins: [site.origin],
    settings: consent ? { consent } : {},
  })
  return site
}

const post = (site: TestSite, consent?: ConsentMode) =>
  app.request(
    '/v1/events',
    {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: site.origin },
      body: JSON.stringify({
        site: site.id,
        key: site.key,
        sentAt: Date.now(),
        consent,
        events: [makeEvent('Page Viewed', {}, { anonymousId: `a-${site.id}` })],
      }),
    },
    env,
  )

const stored = async (site: TestSite) => {
  await settle(site.id)
  return (await env.DB.prepare('SELECT COUNT(*) AS n FROM events WHERE site_id = ?')
    .bind(site.id)
    .first<{ n: number }>())!.n
}

describe('consent backstop', () => {
  it.each<[ConsentMode | undefined, ConsentMode | undefined, number]>([
    // site setting, tag's data-consent, status
    [undefined, undefined, 200],
    [undefined, 'tracking-with-opt-out', 200],
    ['tracking-with-opt-out', undefined, 200],
    ['no-tracking-until-consent', 'no-tracking-until-consent', 200],
    ['no-tracking-until-consent', undefined, 409],
    ['no-tracking-until-consent', 'tracking-with-opt-out', 409],
    ['no-tracking-until-consent', 'anonymous-until-consent', 409],
    ['anonymous-until-consent', 'anonymous-until-consent', 200],
    ['anonymous-until-consent', 'no-tracking-until-consent', 200],
    ['anonymous-until-consent', 'tracking-with-opt-out', 409],
  ])('site %s, tag %s: %i', async (setting, tag, status) => {
    const site = await siteWith(`consent-${setting ?? 'none'}-${tag ?? 'none'}`, setting)
    const res = await post(site, tag)
    expect(res.status).toBe(status)
    if (status === 409) {
      expect(((await res.json()) as ApiError).error).toContain(`data-consent="${setting}"`)
      expect(await stored(site)).toBe(0)
    } else expect(await stored(site)).toBe(1)
  })

  it('refuses a consent mode it does not know with 400', async () => {
    const site = await siteWith('consent-bogus')
    const res = await post(site, 'whenever' as ConsentMode)
    expect(res.status).toBe(400)
    expect(await stored(site)).toBe(0)
  })
})
