// The operator's API: moving a site to another shard. Authorized by the Worker secret OPERATOR_KEY
// (`wrangler secret put OPERATOR_KEY`), never by a site's own keys; without it the route is off.
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { z } from 'zod'
import type { AppEnv } from '../env'
import { readJson, validate } from '../http/body'
import { hashKey, sameDigest } from '../http/site-auth'
import { MOVE_WAIT_SECONDS, moveSite } from './move'

/** The body of POST /v1/ops/sites/:site/move. */
export const moveBody = z.object({ to: z.string().min(1).max(64), restart: z.boolean().optional() }).strict()

/** /v1/ops/…: behind the operator key. POST /v1/ops/sites/:site/move answers 202 until the move is done, then 200. */
export default new Hono<AppEnv>()
  .use('/*', async (c, next) => {
    const expected = c.env.OPERATOR_KEY
    if (!expected) throw new HTTPException(503, { message: 'no operator key configured' })
    const bearer = c.req.header('Authorization')?.match(/^Bearer\s+(\S+)$/)?.[1]
    // Digests of equal length, compared in constant time: the answer's timing says nothing of the key.
    if (!bearer || !sameDigest(await hashKey(bearer), await hashKey(expected)))
      throw new HTTPException(401, { message: 'missing or invalid operator key' })
    await next()
  })
  .post('/sites/:site/move', async (c) => {
    const body = validate(moveBody, await readJson(c.req.raw, 4096), 'invalid move request')
    const wait = Number(c.env.MOVE_WAIT_SECONDS ?? MOVE_WAIT_SECONDS)
    const report = await moveSite(c.env, c.req.param('site'), body.to, {
      restart: body.restart,
      waitMs: (Number.isFinite(wait) ? wait : MOVE_WAIT_SECONDS) * 1000,
    })
    return c.json(report, report.phase === 'done' ? 200 : 202)
  })
