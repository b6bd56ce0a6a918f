// POST /v1/decide, HTTP only: the body and the answer's form; answer.ts decides.
import { Hono } from 'hono'
import { decideBody, MAX_DECIDE_BYTES } from '../../contract'
import type { AppEnv } from '../env'
import { siteAuth } from '../http/site-auth'
import { afterResponse } from '../http/body'
import { bannerSlotHtml } from '../render/html'
import { answerDecision } from './answer'

export { CONTACT_WINDOW_DAYS, HOLDOUT_SHARE } from './answer'

/** POST /v1/decide: the next best action for a shopper and placement, learned from every answer; `?format=html` gives the banner slot's HTML. */
export default new Hono<AppEnv>().post(
  '/',
  siteAuth('invalid decide request', decideBody, { maxBytes: MAX_DECIDE_BYTES }),
  async (c) => {
    const { site, db, input } = c.var
    const answer = await answerDecision({ env: c.env, site, db, defer: (w) => afterResponse(c, w) }, input)
    return c.req.query('format') === 'html' ? c.html(bannerSlotHtml(answer)) : c.json(answer)
  },
)
