import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { upsertSite } from '../../../worker/admin/store'
import { upsertActions } from '../../../worker/decide/store'
import { actionSchema, HOLDOUT_REASON, type Trace } from '../../../worker/decide/engine'
import app from '../../../worker/app'
import type { DecisionAnswer } from '../../../contract'
import { makeEvent, SITE } from '../../fixtures/events'
import { hashKey } from '../../../worker/http/site-auth'
import {
  batch,
  batchFor,
  giveIdentitySecret,
  postEvents,
  seedSite,
  settle,
  signIds,
  testSite,
  type TestSite,
} from '../helpers'
import { CACHE_KEYS } from '../../../worker/http/cache-keys'

const ACTIONS = [
  {
    id: 'free-shipping',
    title: 'Free shipping',
    text: 'On this order',
    placement: 'top',
    value: 3,
    when: { 'cart.total': { $gt: 80 } },
    reason: 'Because your cart is over €80',
  },
  {
    id: 'welcome',
    title: 'Welcome',
    text: '10% off your first order',
    placement: 'top',
    value: 2,
    when: { lifecycle: 'new' },
  },
  { id: 'side', title: 'Elsewhere', text: 'Another placement', placement: 'footer', value: 100 },
].map((a) => actionSchema.parse(a))

beforeAll(async () => {
  await seedSite(undefined, { decide: { holdoutShare: 0 } })
  await upsertActions(env.DB, SITE.id, ACTIONS, Date.now())
  // The shopper exists: one page view makes them "new".
  for (const anonymousId of ['d1', 'd2', 'd3']) await postEvents(batch([makeEvent('Page Viewed', {}, { anonymousId })]))
})

const decideFor = async (anonymousId: string, context: object = {}, extra: object = {}, origin = SITE.origin) => {
  const res = await app.request(
    '/v1/decide',
    {
      method: 'POST',
      headers: { Origin: origin },
      body: JSON.stringify({ site: SITE.id, key: SITE.key, anonymousId, placement: 'top', context, ...extra }),
    },
    env,
  )
  return { status: res.status, body: (await res.json()) as DecisionAnswer & { issues?: Array<{ path: string }> } }
}

describe('POST /v1/decide', () => {
  it('picks the only eligible action for the placement and says why', async () => {
    const { status, body } = await decideFor('d1', { cart: { total: 20 } })
    expect(status).toBe(200)
    expect(body.id).toMatch(/^dec_[0-9a-f]{24}$/)
    expect(body.action).toMatchObject({ id: 'welcome', title: 'Welcome', text: '10% off your first order' })
    expect(body.reasons).toEqual(["Because you're new here"])
    const logged = await env.DB.prepare(
      'SELECT action_id, segment_key, probability, holdout FROM decisions WHERE id = ?',
    )
      .bind(body.id)
      .first()
    expect(logged).toEqual({ action_id: 'welcome', segment_key: 'new', probability: 1, holdout: 0 })
  })

  it("answers with the shopper's reasons only, and logs the marketer's trace", async () => {
    const { body } = await decideFor('d1', { cart: { total: 92 } })
    expect(Object.keys(body).sort()).toEqual(['action', 'id', 'placement', 'reasons'])
    expect(body.reasons.join(' ')).not.toMatch(/[%×]|propensity|value|lever|Free shipping|Welcome/)
    const row = await env.DB.prepare('SELECT trace FROM decisions WHERE id = ?')
      .bind(body.id)
      .first<{ trace: string }>()
    const trace = JSON.parse(row!.trace) as Trace
    expect(trace.choice).toMatch(/^(exploited|explored)$/)
    expect(trace.summary).toMatch(/propensity × value/)
    expect(trace.candidates.map((c) => [c.id, c.title, c.value, c.outcome]).sort()).toEqual([
      ['free-shipping', 'Free shipping', 3, body.action!.id === 'free-shipping' ? 'chosen' : 'lost'],
      ['welcome', 'Welcome', 2, body.action!.id === 'welcome' ? 'chosen' : 'lost'],
    ])
  })

  it('changes with the cart: a big cart makes free shipping eligible, with its reason', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 30; i++) {
      const { body } = await decideFor('d2', { cart: { total: 92 } })
      seen.add(body.action!.id)
      if (body.action!.id === 'free-shipping') expect(body.reasons).toEqual(['Because your cart is over €80'])
    }
    // Neither has evidence yet: Thompson sampling shows both (welcome wins a third of draws; all 30
    // free shipping would have chance 5e-6), and never the other placement's action.
    expect(seen).toEqual(new Set(['free-shipping', 'welcome']))
  })

  it('learns from impressions and acceptances, once each', async () => {
    const { body } = await decideFor('d3', { cart: { total: 20 } })
    const offer = { decision_id: body.id, action_id: body.action!.id, placement: 'top' }
    const events = [
      makeEvent('Offer Shown', offer, { anonymousId: 'd3' }),
      makeEvent('Offer Accepted', offer, { anonymousId: 'd3' }),
    ]
    await postEvents(batch(events))
    await postEvents(batch(events)) // a retry changes nothing
    const arm = await env.DB.prepare(
      "SELECT successes, failures FROM arms WHERE action_id = 'welcome' AND segment_key = 'new'",
    ).first()
    expect(arm).toEqual({ successes: 1, failures: 0 })
    const reward = await env.DB.prepare('SELECT reward FROM decisions WHERE id = ?').bind(body.id).first()
    expect(reward).toEqual({ reward: 1 })
  })

  it('counts an acceptance that arrives before its impression as one success once the impression comes', async () => {
    await postEvents(batch([makeEvent('Page Viewed', {}, { anonymousId: 'd5' })]))
    const { body } = await decideFor('d5', { cart: { total: 20 } })
    const offer = { decision_id: body.id, action_id: body.action!.id }
    const before = await env.DB.prepare(
      "SELECT successes, failures FROM arms WHERE action_id = 'welcome' AND segment_key = 'new'",
    ).first<{ successes: number; failures: number }>()
    await postEvents(batch([makeEvent('Offer Accepted', offer, { anonymousId: 'd5' })]))
    await postEvents(batch([makeEvent('Offer Shown', offer, { anonymousId: 'd5' })]))
    const after = await env.DB.prepare(
      "SELECT successes, failures FROM arms WHERE action_id = 'welcome' AND segment_key = 'new'",
    ).first<{ successes: number; failures: number }>()
    expect(after!.successes).toBe((before?.successes ?? 0) + 1)
    expect(after!.failures).toBe(before?.failures ?? 0)
  })

  it('rests an action the shopper dismissed twice', async () => {
    await postEvents(batch([makeEvent('Page Viewed', {}, { anonymousId: 'd4' })]))
    for (let i = 0; i < 2; i++) {
      const { body } = await decideFor('d4', { cart: { total: 20 } })
      const offer = { decision_id: body.id, action_id: 'welcome' }
      await postEvents(
        batch([
          makeEvent('Offer Shown', offer, { anonymousId: 'd4' }),
          makeEvent('Offer Dismissed', offer, { anonymousId: 'd4' }),
        ]),
      )
    }
    const { body } = await decideFor('d4', { cart: { total: 20 } })
    expect(body.action).toBeNull()
    expect(body.reasons).toEqual([])
    const row = await env.DB.prepare('SELECT trace FROM decisions WHERE id = ?')
      .bind(body.id)
      .first<{ trace: string }>()
    expect(JSON.parse(row!.trace).summary).toMatch(/^no eligible action for top/)
  })

  it("rests an action dismissed on the customer's other verified device", async () => {
    await giveIdentitySecret(SITE.id)
    const signatures = await signIds({ userId: 'two-devices' })
    for (const anonymousId of ['d5-phone', 'd5-laptop']) {
      await postEvents(batch([makeEvent('Page Viewed', {}, { anonymousId })]))
      const res = await app.request(
        '/v1/identify',
        {
          method: 'POST',
          headers: { Origin: SITE.origin },
          body: JSON.stringify({ site: SITE.id, key: SITE.key, anonymousId, userId: 'two-devices', signatures }),
        },
        env,
      )
      expect(res.status).toBe(200)
    }
    for (let i = 0; i < 2; i++) {
      const { body } = await decideFor('d5-phone', { cart: { total: 20 } })
      expect(body.action?.id).toBe('welcome')
      const offer = { decision_id: body.id, action_id: 'welcome' }
      await postEvents(
        batch([
          makeEvent('Offer Shown', offer, { anonymousId: 'd5-phone' }),
          makeEvent('Offer Dismissed', offer, { anonymousId: 'd5-phone' }),
        ]),
      )
    }
    expect((await decideFor('d5-laptop', { cart: { total: 20 } })).body.action).toBeNull()
    // A stranger's browser is not rested by them.
    await postEvents(batch([makeEvent('Page Viewed', {}, { anonymousId: 'd5-other' })]))
    expect((await decideFor('d5-other', { cart: { total: 20 } })).body.action?.id).toBe('welcome')
  })

  it('holds out its share of shoppers, so uplift can be measured', async () => {
    await seedSite(undefined, { decide: { holdoutShare: 1 } })
    await env.CACHE.delete(CACHE_KEYS.site(SITE.id))
    const { body } = await decideFor('d1', { cart: { total: 20 } })
    // The shopper is not told they are in the control group; the log says so.
    expect(body).toEqual({ id: body.id, placement: 'top', action: null, reasons: [] })
    const row = await env.DB.prepare('SELECT trace, holdout FROM decisions WHERE id = ?')
      .bind(body.id)
      .first<{ trace: string; holdout: number }>()
    expect(row!.holdout).toBe(1)
    expect(JSON.parse(row!.trace)).toMatchObject({ choice: 'holdout', summary: HOLDOUT_REASON })
    await seedSite(undefined, { decide: { holdoutShare: 0 } })
    await env.CACHE.delete(CACHE_KEYS.site(SITE.id))
  })

  it('never serves a stored action that no longer validates, such as a javascript: link saved before the rule', async () => {
    const legacy = { ...ACTIONS[2]!, id: 'legacy', placement: 'legacy', link: 'javascript:alert(1)' }
    await upsertActions(env.DB, SITE.id, [legacy], Date.now())
    const { status, body } = await decideFor('d1', {}, { placement: 'legacy' })
    expect(status).toBe(200)
    expect(body.action).toBeNull()
    await env.DB.prepare("DELETE FROM actions WHERE site_id = ? AND id = 'legacy'").bind(SITE.id).run()
  })

  it('refuses bad requests with the path, and foreign origins', async () => {
    const bad = await decideFor('d1', { cart: { total: -5 } })
    expect(bad.status).toBe(400)
    expect(bad.body.issues?.[0]?.path).toBe('context.cart.total')
    expect((await decideFor('d1', {}, { placement: '' })).status).toBe(400)
    expect((await decideFor('d1', {}, {}, 'https://evil.example')).status).toBe(403)
  })
})

describe('learning from offer events', () => {
  // A site per test, so its arms start empty and every count is exact.
  const shop = async (name: string) => {
    const site = testSite(name)
    const settings = { decide: { holdoutShare: 0 } }
    await upsertSite(env.DB, { id: site.id, name, keyHash: await hashKey(site.key), origins: [site.origin], settings })
    await upsertActions(
      env.DB,
      site.id,
      [actionSchema.parse({ id: 'welcome', title: 'Welcome', text: '10% off', placement: 'top', value: 2 })],
      Date.now(),
    )
    return site
  }
  const decision = async (site: TestSite, anonymousId: string) => {
    const res = await app.request(
      '/v1/decide',
      {
        method: 'POST',
        headers: { Origin: site.origin },
        body: JSON.stringify({ site: site.id, key: site.key, anonymousId, placement: 'top' }),
      },
      env,
    )
    const body = (await res.json()) as DecisionAnswer
    return { id: body.id, anonymousId, offer: { decision_id: body.id, action_id: body.action!.id, placement: 'top' } }
  }
  type Made = Awaited<ReturnType<typeof decision>>
  const send = async (site: TestSite, events: unknown[]) => {
    const res = await app.request(
      '/v1/events',
      {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', Origin: site.origin },
        body: JSON.stringify(batchFor(site, events)),
      },
      env,
    )
    expect(res.status).toBe(200)
    await settle(site.id)
  }
  const shown = (d: Made, anonymousId = d.anonymousId) => makeEvent('Offer Shown', d.offer, { anonymousId })
  const accepted = (d: Made, anonymousId = d.anonymousId) => makeEvent('Offer Accepted', d.offer, { anonymousId })
  const arm = (site: TestSite) =>
    env.DB.prepare('SELECT TOTAL(successes) AS successes, TOTAL(failures) AS failures FROM arms WHERE site_id = ?')
      .bind(site.id)
      .first()
  const rewards = async (site: TestSite, made: Made[]) => {
    const { results } = await env.DB.prepare('SELECT id, reward FROM decisions WHERE site_id = ?')
      .bind(site.id)
      .all<{ id: string; reward: number }>()
    const byId = new Map(results.map((r) => [r.id, r.reward]))
    return made.map((d) => byId.get(d.id))
  }

  it('counts an acceptance in a later batch than its impression as one success and no failure', async () => {
    const site = await shop('arms-later')
    const made: Made[] = []
    for (let i = 0; i < 20; i++) made.push(await decision(site, `later-${i}`))
    for (const d of made) await send(site, [shown(d)])
    expect(await arm(site)).toEqual({ successes: 0, failures: 20 })
    for (const d of made) await send(site, [accepted(d)])
    expect(await arm(site)).toEqual({ successes: 20, failures: 0 })
    expect(await rewards(site, made)).toEqual(made.map(() => 1))
  })

  it('counts one failure per decision shown and never answered, however often it is shown', async () => {
    const site = await shop('arms-shown')
    const made: Made[] = []
    for (let i = 0; i < 5; i++) made.push(await decision(site, `shown-${i}`))
    await send(
      site,
      made.flatMap((d) => [shown(d), shown(d)]),
    )
    await send(
      site,
      made.map((d) => shown(d)),
    )
    expect(await arm(site)).toEqual({ successes: 0, failures: 5 })
    expect(await rewards(site, made)).toEqual(made.map(() => 0))
  })

  it('counts an acceptance once, sent 100 times in one batch and again in later ones', async () => {
    const site = await shop('arms-replayed')
    const d = await decision(site, 'replayer')
    await send(site, [shown(d)])
    await send(
      site,
      Array.from({ length: 100 }, () => accepted(d)),
    )
    for (let i = 0; i < 5; i++) await send(site, [accepted(d), shown(d)])
    expect(await arm(site)).toEqual({ successes: 1, failures: 0 })
    expect(await rewards(site, [d])).toEqual([1])
  })

  it('ignores an acceptance for a decision that was never shown', async () => {
    const site = await shop('arms-unshown')
    const d = await decision(site, 'forger')
    await send(site, [accepted(d)])
    await send(site, [accepted(d), accepted(d)])
    expect(await arm(site)).toEqual({ successes: 0, failures: 0 })
    expect(await rewards(site, [d])).toEqual([0])
  })

  it("ignores impressions and acceptances another browser sends for a shopper's decision", async () => {
    const site = await shop('arms-foreign')
    const mine = await decision(site, 'owner')
    await send(site, [shown(mine, 'intruder'), accepted(mine, 'intruder')])
    expect(await arm(site)).toEqual({ successes: 0, failures: 0 })
    await send(site, [shown(mine)])
    await send(site, [accepted(mine, 'intruder')])
    expect(await arm(site)).toEqual({ successes: 0, failures: 1 })
    expect(await rewards(site, [mine])).toEqual([0])
  })

  it('ignores offer events that name another action than the decision chose', async () => {
    const site = await shop('arms-other-action')
    const d = await decision(site, 'swapper')
    const other = { ...d, offer: { ...d.offer, action_id: 'vip' } }
    await send(site, [shown(other), accepted(other)])
    expect(await arm(site)).toEqual({ successes: 0, failures: 0 })
    expect(await rewards(site, [d])).toEqual([0])
  })

  it('backfills the outcomes of decisions made before 0012 from their own browser events', async () => {
    const site = await shop('arms-legacy')
    const [seen, rewarded] = [await decision(site, 'old-1'), await decision(site, 'old-2')]
    await send(site, [shown(seen), accepted(seen, 'intruder')])
    // As the old fold left them: no outcome times, and the reward it gave, for a holdout too.
    await env.DB.prepare('UPDATE decisions SET shown_at = NULL, accepted_at = NULL, reward = id = ? WHERE site_id = ?')
      .bind(rewarded.id, site.id)
      .run()
    await env.DB.prepare(
      `INSERT INTO decisions (site_id, id, anonymous_id, placement, action_id, segment_key, probability, propensity, holdout, context, created_at, reward)
       VALUES (?, 'dec_holdout', 'old-3', 'top', NULL, 'new', 1, 0, 1, '{}', 1, 1)`,
    )
      .bind(site.id)
      .run()
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0012'))!
    for (const sql of migration.queries.filter((q) => !/ALTER TABLE/i.test(q))) await env.DB.prepare(sql).run()
    const { results } = await env.DB.prepare(
      'SELECT id, shown_at IS NOT NULL AS shown, accepted_at IS NOT NULL AS accepted, reward FROM decisions WHERE site_id = ? ORDER BY anonymous_id',
    )
      .bind(site.id)
      .all()
    expect(results).toEqual([
      { id: seen.id, shown: 1, accepted: 0, reward: 0 },
      { id: rewarded.id, shown: 1, accepted: 1, reward: 1 },
      { id: 'dec_holdout', shown: 0, accepted: 0, reward: 0 },
    ])
  })
})
