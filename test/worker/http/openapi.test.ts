import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { batchSchema, decideBody } from '../../../contract'
import app from '../../../worker/app'
import { OPERATIONS } from '../../../worker/http/openapi'

describe('GET /v1/openapi.json', () => {
  it('documents every route the app serves, and nothing it does not', () => {
    const served = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`)
    const documented = OPERATIONS.map((o) => `${o.method} ${o.path}`)
    expect([...new Set(served)].sort()).toEqual([...documented].sort())
  })

  it('describes bodies with the schemas that validate them', async () => {
    const doc = (await (await app.request('/v1/openapi.json', {}, env)).json()) as any
    expect(doc.openapi).toBe('3.1.0')
    const decide = doc.paths['/v1/decide'].post.requestBody.content['application/json'].schema
    expect(decide).toEqual(z.toJSONSchema(decideBody, { io: 'input', unrepresentable: 'any' }))
    const events = doc.paths['/v1/events'].post.requestBody.content['application/json'].schema
    expect(Object.keys(events.properties)).toEqual(Object.keys(batchSchema.shape))
    expect(events.properties.events.items.oneOf ?? events.properties.events.items.anyOf).toHaveLength(14)
    expect(doc.paths['/v1/admin/{site}/actions/{id}'].put.security).toEqual([{ adminKey: [] }])
    expect(doc.paths['/v1/recommendations'].get.parameters.map((p: { name: string }) => p.name)).toContain('strategy')
  })
})
