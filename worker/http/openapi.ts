// The OpenAPI document, built from the very zod schemas that validate each request, so the docs
// cannot drift from the code; a test checks that every route the app serves is listed here.
import { z } from 'zod'
import { batchSchema, decideBody, eventSchema, identifyBody, MAX_BATCH_EVENTS, shopperRequest } from '../../contract'
import { actionSchema } from '../decide/engine'
import { RATE_PERIOD } from './ratelimit'
import {
  adminIdentifyBody,
  catalogImport,
  itemSchema,
  previewBody,
  reportRange,
  segmentsQuery,
  settingsPatch,
  stockPatch,
} from '../admin/route'
import { experimentBody } from '../experiments/config'
import { recommendationQuery } from '../recommend/route'
import { moveBody } from '../shards/route'

type Auth = 'none' | 'site' | 'admin' | 'operator'
/** One documented operation. */
export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  summary: string
  auth: Auth
  query?: z.ZodObject
  body?: z.ZodType
}

/** Every operation of the API. */
export const OPERATIONS: Operation[] = [
  { method: 'GET', path: '/v1/health', summary: 'The empty route (benchmark floor)', auth: 'none' },
  { method: 'GET', path: '/v1/openapi.json', summary: 'This document', auth: 'none' },
  {
    method: 'POST',
    path: '/v1/events',
    summary: 'A batch of events, each stored once (JSON or text/plain)',
    auth: 'site',
    body: batchSchema.extend({ events: z.array(eventSchema).min(1).max(MAX_BATCH_EVENTS) }),
  },
  {
    method: 'GET',
    path: '/v1/recommendations',
    summary: 'Items for a shopper, with reasons and an id',
    auth: 'site',
    query: recommendationQuery,
  },
  {
    method: 'POST',
    path: '/v1/identify',
    summary:
      "Links a browser to the shopper's other ids under one UID: only ids the site signed; unsigned ones stay claims of the browser",
    auth: 'site',
    body: identifyBody,
  },
  {
    method: 'POST',
    path: '/v1/identify/unlink',
    summary: 'Takes a browser out of its UID',
    auth: 'site',
    body: shopperRequest,
  },
  {
    method: 'GET',
    path: '/v1/profile',
    summary: 'The 360 view of the shopper behind a browser',
    auth: 'site',
    query: shopperRequest,
  },
  {
    method: 'GET',
    path: '/v1/privacy/export',
    summary: 'Everything stored about the shopper behind a browser, as JSON',
    auth: 'site',
    query: shopperRequest,
  },
  {
    method: 'POST',
    path: '/v1/privacy/erase',
    summary: 'Deletes everything about the shopper and drops their late events',
    auth: 'site',
    body: shopperRequest,
  },
  {
    method: 'POST',
    path: '/v1/decide',
    summary: 'The next best action for a placement, with reasons',
    auth: 'site',
    body: decideBody,
  },
  { method: 'GET', path: '/v1/admin/:site/actions', summary: 'The site’s actions', auth: 'admin' },
  {
    method: 'PUT',
    path: '/v1/admin/:site/actions/:id',
    summary: 'Creates or replaces an action',
    auth: 'admin',
    body: actionSchema,
  },
  { method: 'DELETE', path: '/v1/admin/:site/actions/:id', summary: 'Deletes an action', auth: 'admin' },
  {
    method: 'POST',
    path: '/v1/admin/:site/catalog',
    summary: 'Imports catalog rows (each checked against the item schema)',
    auth: 'admin',
    body: catalogImport.extend({ items: z.array(itemSchema).min(1) }),
  },
  {
    method: 'PATCH',
    path: '/v1/admin/:site/catalog/stock',
    summary: 'Sets items in or out of stock',
    auth: 'admin',
    body: stockPatch,
  },
  { method: 'DELETE', path: '/v1/admin/:site/catalog/:id', summary: 'Deletes a catalog item', auth: 'admin' },
  { method: 'GET', path: '/v1/admin/:site/settings', summary: 'Origins and settings', auth: 'admin' },
  {
    method: 'PATCH',
    path: '/v1/admin/:site/settings',
    summary: 'Changes origins and settings, section by section',
    auth: 'admin',
    body: settingsPatch,
  },
  {
    method: 'POST',
    path: '/v1/admin/:site/keys/:which/rotate',
    summary: 'Issues a new public or admin key, or identity secret, shown once',
    auth: 'admin',
  },
  {
    method: 'POST',
    path: '/v1/admin/:site/identify',
    summary: "Links ids the site's backend vouches for under one UID",
    auth: 'admin',
    body: adminIdentifyBody,
  },
  {
    method: 'GET',
    path: '/v1/admin/:site/reports',
    summary: 'Daily reports per action and strategy, and uplift',
    auth: 'admin',
    query: reportRange,
  },
  {
    method: 'GET',
    path: '/v1/admin/:site/experiments',
    summary: 'The site’s A/B tests, and the strategies',
    auth: 'admin',
  },
  { method: 'GET', path: '/v1/admin/:site/experiments/:id', summary: 'One A/B test', auth: 'admin' },
  {
    method: 'PUT',
    path: '/v1/admin/:site/experiments/:id',
    summary: 'Creates or replaces a draft A/B test of a slot (the first variant is the control)',
    auth: 'admin',
    body: experimentBody,
  },
  {
    method: 'DELETE',
    path: '/v1/admin/:site/experiments/:id',
    summary: 'Deletes an A/B test that is not running, and what it measured',
    auth: 'admin',
  },
  {
    method: 'POST',
    path: '/v1/admin/:site/experiments/:id/start',
    summary: 'Starts a draft (409 while another runs on its slot)',
    auth: 'admin',
  },
  { method: 'POST', path: '/v1/admin/:site/experiments/:id/stop', summary: 'Stops a running A/B test', auth: 'admin' },
  {
    method: 'GET',
    path: '/v1/admin/:site/experiments/:id/report',
    summary: 'Per variant: counts, intervals, lift against the control, and the verdict',
    auth: 'admin',
  },
  {
    method: 'POST',
    path: '/v1/admin/:site/preview',
    summary: 'Dry run: who an action would reach, and what a shopper would see and why',
    auth: 'admin',
    body: previewBody.extend({ action: actionSchema }),
  },
  {
    method: 'GET',
    path: '/v1/admin/:site/segments',
    summary: 'Segment sizes by day (counted daily among recent shoppers)',
    auth: 'admin',
    query: segmentsQuery,
  },
  {
    method: 'GET',
    path: '/v1/admin/:site/profiles/:anonymousId',
    summary: 'The 360 view of any shopper',
    auth: 'admin',
  },
  {
    method: 'POST',
    path: '/v1/ops/sites/:site/move',
    summary: "Moves a site's data to another shard: 202 with the progress until done, then 200; call again until then",
    auth: 'operator',
    body: moveBody,
  },
]

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, message: { type: 'string' }, event: { type: 'integer' } },
      },
    },
  },
  required: ['error'],
}
const tooManyRequests = {
  description:
    'Too many requests from this client address, or for this site (the admin API has a budget of its own): nothing was read or changed',
  headers: {
    'Retry-After': { description: `Seconds to wait: the limit's window, ${RATE_PERIOD}`, schema: { type: 'integer' } },
  },
  content: { 'application/json': { schema: errorSchema } },
}

/** The OpenAPI 3.1 document of the API. */
export function openapi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of OPERATIONS) {
    const path = op.path.replace(/:([a-zA-Z]+)/g, '{$1}')
    const pathParams = [...op.path.matchAll(/:([a-zA-Z]+)/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }))
    const queryParams = op.query
      ? Object.entries((schema(op.query).properties ?? {}) as Record<string, unknown>).map(([name, s]) => ({
          name,
          in: 'query',
          required: ((schema(op.query!).required as string[] | undefined) ?? []).includes(name),
          schema: s,
        }))
      : []
    paths[path] = {
      ...paths[path],
      [op.method.toLowerCase()]: {
        summary: op.summary,
        ...(op.auth === 'admin' ? { security: [{ adminKey: [] }] } : {}),
        ...(op.auth === 'operator' ? { security: [{ operatorKey: [] }] } : {}),
        ...(pathParams.length + queryParams.length > 0 ? { parameters: [...pathParams, ...queryParams] } : {}),
        ...(op.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: schema(op.body) } } } }
          : {}),
        responses: {
          '200': { description: 'OK' },
          '4XX': {
            description: 'Bad input, key or origin: nothing changed',
            content: { 'application/json': { schema: errorSchema } },
          },
          ...(op.auth === 'none' ? {} : { '429': tooManyRequests }),
        },
      },
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vista API',
      version: '1',
      description: 'Personalization in one script tag: events, recommendations, customer view, next best action.',
    },
    components: {
      securitySchemes: {
        adminKey: { type: 'http', scheme: 'bearer', description: 'The site’s secret admin key' },
        operatorKey: { type: 'http', scheme: 'bearer', description: 'The Worker secret OPERATOR_KEY' },
      },
    },
    paths,
  }
}
