// The pinned script tag: /v1/vista-<version>.js with the integrity from /v1/vista.json runs the SDK,
// from the Worker's origin or another one; a wrong hash or a tampered file is refused. The files are
// static assets with their cache rules (releases/_headers, written by the build). A production
// deploy serves those committed releases and the API, not the demo shop.
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { unstable_readConfig } from 'wrangler'
import { version } from '../../package.json'
import { writeSdk, type Manifest } from '../../scripts/build-sdk'
import { launch, watchErrors } from './browser'
import { startWorker, type LocalWorker } from './server'

let worker: LocalWorker
let browser: Browser
let manifest: Manifest

beforeAll(async () => {
  ;[worker, browser] = await Promise.all([startWorker({ prefix: 'vista-e2e-sri-' }), launch()])
  manifest = (await (await fetch(`${worker.url}/v1/vista.json`)).json()) as Manifest
})
afterAll(async () => {
  await browser?.close()
  await worker?.stop()
})

const sri = (bytes: Uint8Array) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`

/** Opens `pageUrl` (answered by the test) whose only script is the pinned SDK with `integrity`; `tampered` replaces the file. */
async function loadPinned(pageUrl: string, integrity: string, tampered?: string) {
  // A page the test answers has no address, so Chromium counts it as public and, from another
  // origin, asks before it reaches the Worker on loopback (Local Network Access): grant that.
  const context = await browser.newContext({ permissions: ['local-network-access'] })
  const script = `${worker.url}${manifest.url}`
  await context.route(pageUrl, (route) =>
    route.fulfill({
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SRI</title>
<script src="${script}" integrity="${integrity}" crossorigin="anonymous"
  data-site="demo" data-key="pk_demo_vista_public"></script>
</head><body></body></html>`,
    }),
  )
  if (tampered !== undefined) {
    await context.route(script, (route) =>
      route.fulfill({
        contentType: 'text/javascript',
        headers: { 'Access-Control-Allow-Origin': '*' },
        body: tampered,
      }),
    )
  }
  const page = await context.newPage()
  const errors = watchErrors(page)
  // A blocking script: once `load` fired, the browser has run or refused it.
  await page.goto(pageUrl)
  return { page, errors, close: () => context.close() }
}

const sdkType = (page: Page) => page.evaluate(() => typeof (window as { vista?: unknown }).vista)

describe('the versioned SDK', () => {
  it('is served with its manifest as static assets, cached for a year only under its versioned name', async () => {
    expect(manifest).toMatchObject({ version, url: `/v1/vista-${version}.js` })
    expect(manifest).toEqual(JSON.parse(await readFile('releases/v1/vista.json', 'utf8')))
    const pinned = await fetch(`${worker.url}${manifest.url}`)
    expect(pinned.status).toBe(200)
    expect(pinned.headers.get('Content-Type')).toMatch(/^text\/javascript/)
    expect(pinned.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable')
    expect(pinned.headers.get('Access-Control-Allow-Origin')).toBe('*')
    const code = new Uint8Array(await pinned.arrayBuffer())
    expect(sri(code)).toBe(manifest.integrity)
    expect(code.byteLength).toBe(manifest.bytes)
    expect(gzipSync(code, { level: 9 }).length).toBe(manifest.gzipBytes)

    const moving = await fetch(`${worker.url}/v1/vista.js`)
    expect(new Uint8Array(await moving.arrayBuffer())).toEqual(code)
    expect(moving.headers.get('Cache-Control')).toBe('public, max-age=300')
    const described = await fetch(`${worker.url}/v1/vista.json`)
    expect(described.headers.get('Cache-Control')).toBe('public, max-age=300')
    // A version that does not exist falls back to index.html: never with a year's cache.
    const unknown = await fetch(`${worker.url}/v1/vista-0.0.0-missing.js`)
    expect(unknown.headers.get('Cache-Control')).not.toMatch(/immutable|max-age=[1-9]/)
  })

  it.each([
    { from: 'the same origin', host: () => worker.url },
    { from: 'another origin', host: () => worker.url.replace('127.0.0.1', 'localhost') },
  ])('runs in Chromium from $from when the integrity matches', async ({ host }) => {
    const { page, errors, close } = await loadPinned(`${host()}/shop`, manifest.integrity)
    expect(await sdkType(page)).toBe('object')
    // From another origin the Worker's API answers without CORS; only the script itself matters here.
    expect(errors.filter((e) => e.includes('vista-') || e.includes('integrity'))).toEqual([])
    await close()
  })

  it('is refused when the integrity does not match the file', async () => {
    const wrong = sri(new TextEncoder().encode('another file'))
    const { page, errors, close } = await loadPinned(`${worker.url}/shop`, wrong)
    expect(await sdkType(page)).toBe('undefined')
    expect(errors.join('\n')).toMatch(/integrity/)
    await close()
  })

  it('is refused when the file was tampered with on the way', async () => {
    const original = await (await fetch(`${worker.url}${manifest.url}`)).text()
    const tampered = `${original};window.tampered=1`
    const { page, errors, close } = await loadPinned(`${worker.url}/shop`, manifest.integrity, tampered)
    expect(await sdkType(page)).toBe('undefined')
    expect(await page.evaluate(() => (window as { tampered?: number }).tampered)).toBeUndefined()
    expect(errors.join('\n')).toMatch(/integrity/)
    await close()
  })
})

describe('the production config', () => {
  let production: LocalWorker
  beforeAll(async () => {
    production = await startWorker({ prefix: 'vista-e2e-prod-', config: 'wrangler.toml' })
  })
  afterAll(async () => {
    await production?.stop()
  })

  it('serves the committed releases and the API, not the demo shop or console', async () => {
    const config = await readFile('wrangler.toml', 'utf8')
    expect(config).toMatch(/^\[assets\]\ndirectory = "\.\/releases"$/m)
    const files = await readdir('releases', { recursive: true })
    expect(files.filter((f) => /\.(html|css)$|app\.js|console|products/.test(f))).toEqual([])

    for (const path of ['/v1/vista.js', manifest.url, '/v1/vista.json', '/v1/health']) {
      expect((await fetch(`${production.url}${path}`)).status, path).toBe(200)
    }
    const pinned = new Uint8Array(await (await fetch(`${production.url}${manifest.url}`)).arrayBuffer())
    expect(sri(pinned)).toBe(manifest.integrity)
    for (const path of [
      '/',
      '/index.html',
      '/console.html',
      '/console',
      '/app.js',
      '/styles.css',
      '/products.json',
      '/c/tea',
    ]) {
      const res = await fetch(`${production.url}${path}`)
      expect(res.status, path).toBe(404)
      expect(await res.text(), path).not.toContain('<html')
    }
  })

  it('is the demo config but for its name and assets', () => {
    const [production, demo] = ['wrangler.toml', 'wrangler.demo.toml'].map((config) => unstable_readConfig({ config }))
    const shared = (c: ReturnType<typeof unstable_readConfig>) => ({
      main: c.main,
      compatibility_date: c.compatibility_date,
      d1_databases: c.d1_databases,
      kv_namespaces: c.kv_namespaces,
      ratelimits: c.ratelimits,
      vars: c.vars,
      triggers: c.triggers,
      assets: { binding: c.assets?.binding, run_worker_first: c.assets?.run_worker_first },
    })
    expect(shared(demo!)).toEqual(shared(production!))
    expect(production!.assets?.directory).toMatch(/\/releases$/)
    expect(demo!.assets?.directory).toMatch(/\/\.wrangler\/demo$/)
  })

  it('keeps the pinned file the manifest names, with its integrity, in releases/', async () => {
    const described = JSON.parse(await readFile('releases/v1/vista.json', 'utf8')) as Manifest
    expect(described).toMatchObject({ version, url: `/v1/vista-${version}.js` })
    const code = new Uint8Array(await readFile(`releases${described.url}`))
    expect(sri(code)).toBe(described.integrity)
    expect(code.byteLength).toBe(described.bytes)
    expect(await readFile('releases/_headers', 'utf8')).toContain(
      `${described.url}\n  Cache-Control: public, max-age=31536000, immutable`,
    )
  })
})

describe('writeSdk()', () => {
  it('refuses to overwrite a pinned file with other bytes, and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vista-releases-'))
    try {
      await mkdir(join(dir, 'v1'))
      await writeFile(join(dir, 'v1', `vista-${version}.js`), 'an older build')
      await expect(writeSdk(dir)).rejects.toThrow(/is pinned/)
      expect(await readFile(join(dir, 'v1', `vista-${version}.js`), 'utf8')).toBe('an older build')
      expect(await readdir(join(dir, 'v1'))).toEqual([`vista-${version}.js`])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
