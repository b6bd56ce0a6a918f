// /v1/admin/:site/experiments/…: create, start, stop, delete and read A/B tests of recommendation
// slots. Mounted by admin/route.ts, behind its admin-key middleware.
import { type Context, Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { z } from 'zod'
import { STRATEGIES } from '../../contract'
import { findSite } from '../admin/store'
import type { AppEnv } from '../env'
import { readJson, validate } from '../http/body'
import { CACHE_KEYS } from '../http/cache-keys'
import { experimentBody, MAX_EXPERIMENTS, type Experiment } from './config'
import { experimentReport } from './report'
import { deleteExperimentData, experimentCounts, markStopped, saveExperiments } from './store'

/** Largest body of PUT /v1/admin/:site/experiments/:id. */
export const MAX_EXPERIMENT_BODY_BYTES = 64 * 1024
/** An experiment's id, as its path names it. */
export const experimentId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -')

type Ctx = Context<AppEnv>

/** The site's experiments as D1 holds them now (not the cached row: a change must build on the latest). */
async function current(c: Ctx) {
  const row = await findSite(c.env.DB, c.var.site.id)
  const raw = row?.experiments ?? '[]'
  return { raw, experiments: JSON.parse(raw) as Experiment[] }
}

/** Stores the changed list if nobody changed it meanwhile (409 otherwise) and drops the cached site row. */
async function save(c: Ctx, raw: string, experiments: Experiment[]) {
  if (!(await saveExperiments(c.env.DB, c.var.site.id, raw, experiments)))
    throw new HTTPException(409, { message: 'the experiments changed meanwhile: reload and try again' })
  await c.env.CACHE.delete(CACHE_KEYS.site(c.var.site.id))
}

/** The experiment the path names; 400 for a malformed id, 404 for an unknown one. */
function named(experiments: Experiment[], param: string) {
  const id = validate(experimentId, param, 'invalid experiment id', 'id')
  const experiment = experiments.find((e) => e.id === id)
  if (!experiment) throw new HTTPException(404, { message: `no experiment ${id}` })
  return experiment
}

/** A copy of the list with one experiment replaced. */
const replaced = (experiments: Experiment[], next: Experiment) => experiments.map((e) => (e.id === next.id ? next : e))

/** The experiments' routes, under /:site/experiments. */
export default new Hono<AppEnv>()
  .get('/:site/experiments', async (c) =>
    // The strategies come with the list, so the console's select offers exactly the contract's.
    c.json({ experiments: (await current(c)).experiments, strategies: STRATEGIES }),
  )
  .get('/:site/experiments/:id', async (c) =>
    c.json({ experiment: named((await current(c)).experiments, c.req.param('id')) }),
  )
  .put('/:site/experiments/:id', async (c) => {
    const id = validate(experimentId, c.req.param('id'), 'invalid experiment id', 'id')
    const body = validate(experimentBody, await readJson(c.req.raw, MAX_EXPERIMENT_BODY_BYTES), 'invalid experiment')
    const { raw, experiments } = await current(c)
    const before = experiments.find((e) => e.id === id)
    // A running experiment's arms are fixed: changing them would move shoppers between variants.
    if (before && before.status !== 'draft')
      throw new HTTPException(409, { message: `experiment ${id} is ${before.status}: only a draft can change` })
    if (!before && experiments.length >= MAX_EXPERIMENTS)
      throw new HTTPException(409, { message: `a site keeps at most ${MAX_EXPERIMENTS} experiments: delete one first` })
    const experiment: Experiment = {
      id,
      ...body,
      status: 'draft',
      createdAt: before?.createdAt ?? Date.now(),
      startedAt: null,
      stoppedAt: null,
    }
    await save(c, raw, before ? replaced(experiments, experiment) : [...experiments, experiment])
    return c.json({ experiment }, before ? 200 : 201)
  })
  .post('/:site/experiments/:id/start', async (c) => {
    const { raw, experiments } = await current(c)
    const experiment = named(experiments, c.req.param('id'))
    if (experiment.status !== 'draft')
      throw new HTTPException(409, {
        message: `experiment ${experiment.id} is ${experiment.status}: only a draft starts (copy it under a new id to run it again)`,
      })
    const rival = experiments.find((e) => e.status === 'running' && e.slot === experiment.slot)
    if (rival)
      throw new HTTPException(409, { message: `experiment ${rival.id} already runs on slot ${experiment.slot}` })
    const started: Experiment = { ...experiment, status: 'running', startedAt: Date.now() }
    await save(c, raw, replaced(experiments, started))
    return c.json({ experiment: started })
  })
  .post('/:site/experiments/:id/stop', async (c) => {
    const { raw, experiments } = await current(c)
    const experiment = named(experiments, c.req.param('id'))
    if (experiment.status !== 'running')
      throw new HTTPException(409, { message: `experiment ${experiment.id} is ${experiment.status}, not running` })
    const stopped: Experiment = { ...experiment, status: 'stopped', stoppedAt: Date.now() }
    // The stop time first: should the config write fail, the fold merely stops counting early.
    await markStopped(c.var.db, c.var.site.id, experiment.id, stopped.stoppedAt!)
    await save(c, raw, replaced(experiments, stopped))
    return c.json({ experiment: stopped })
  })
  .delete('/:site/experiments/:id', async (c) => {
    const { raw, experiments } = await current(c)
    const experiment = named(experiments, c.req.param('id'))
    if (experiment.status === 'running')
      throw new HTTPException(409, { message: `experiment ${experiment.id} is running: stop it first` })
    await save(
      c,
      raw,
      experiments.filter((e) => e.id !== experiment.id),
    )
    await deleteExperimentData(c.var.db, c.var.site.id, experiment.id)
    return c.body(null, 204)
  })
  .get('/:site/experiments/:id/report', async (c) => {
    const experiment = named((await current(c)).experiments, c.req.param('id'))
    const counts = await experimentCounts(c.var.db, c.var.site.id, experiment.id)
    return c.json(experimentReport(experiment, counts, Date.now()))
  })
