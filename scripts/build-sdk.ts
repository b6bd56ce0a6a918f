// Builds the script tag's bundle three ways under releases/v1/ (committed: what a production deploy
// serves): the moving vista.js, an immutable vista-<version>.js to pin, and vista.json describing the
// pinned file with its SRI hash; and releases/_headers with their cache rules. Then it assembles the
// demo's assets folder (shop, console and releases in one origin) for `npm start` and the e2e tests.
// `npm run build` bundles this file for Node and runs it.
import { build, type BuildOptions } from 'esbuild'
import { createHash } from 'node:crypto'
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { version } from '../package.json'

/** How the bundle is built: one minified IIFE (test/size.test.ts measures the same). */
export const BUNDLE = {
  entryPoints: ['sdk/index.ts'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
} satisfies BuildOptions

/** A versioned file's name: vista-<semver>.js. */
const VERSIONED = /^vista-\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?\.js$/

/** What /v1/vista.json says about the pinned file. */
export interface Manifest {
  version: string
  /** Path of the immutable copy, e.g. `/v1/vista-0.1.0.js`. */
  url: string
  /** Subresource Integrity value for `<script integrity>`. */
  integrity: string
  bytes: number
  gzipBytes: number
}

/** The Subresource Integrity value of some bytes (sha384, as browsers and the SRI spec favour). */
export const integrity = (bytes: Uint8Array) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`

/** The bundle's bytes and its gzip size (level 9, as the size budget counts). */
export async function bundle(): Promise<{ code: Uint8Array; gzipBytes: number }> {
  const out = await build({ ...BUNDLE, write: false, logLevel: 'warning' })
  const code = out.outputFiles[0]!.contents
  return { code, gzipBytes: gzipSync(code, { level: 9 }).length }
}

/** Cache and CORS rules for the built files, in the `_headers` format of Workers static assets. */
export function headersFor(pinned: string[]): string {
  const rule = (path: string, cache: string) => `${path}\n  Cache-Control: ${cache}\n  Access-Control-Allow-Origin: *\n`
  return [
    '# Written by `npm run build` (scripts/build-sdk.ts): edit it there.',
    // Exact paths, not /v1/vista-*.js: a version that does not exist is answered with
    // index.html (single-page-application), which must never be cached for a year.
    ...pinned.map((url) => rule(url, 'public, max-age=31536000, immutable')),
    // The moving URL and its manifest pick up a release within minutes.
    rule('/v1/vista.js', 'public, max-age=300'),
    rule('/v1/vista.json', 'public, max-age=300'),
  ].join('\n')
}

/** Where the pinned builds live (the production assets folder). */
export const RELEASES = 'releases'
/** Where `npm run build` assembles the demo's assets (wrangler.demo.toml [assets]). */
export const DEMO_ASSETS = '.wrangler/demo'
/** The demo's folders, copied in this order into DEMO_ASSETS. */
export const DEMO_SOURCES = ['demo/shop', 'demo/console']

/** Bytes of a file, or undefined when there is none. */
const bytesOf = (path: string) => readFile(path).catch(() => undefined)

/**
 * Writes v1/vista.js, v1/vista-<version>.js, v1/vista.json and _headers into the releases folder.
 * A pinned file is immutable: when vista-<version>.js exists with other bytes it throws and writes
 * nothing (bump the version in package.json to release a changed SDK).
 */
export async function writeSdk(assets = RELEASES, release = version): Promise<Manifest> {
  // The version becomes a file name and a URL path segment.
  if (!VERSIONED.test(`vista-${release}.js`)) throw new Error(`not a semver version: ${release}`)
  const { code, gzipBytes } = await bundle()
  const file = `vista-${release}.js`
  const manifest: Manifest = {
    version: release,
    url: `/v1/${file}`,
    integrity: integrity(code),
    bytes: code.byteLength,
    gzipBytes,
  }
  const dir = join(assets, 'v1')
  const pinnedBefore = await bytesOf(join(dir, file))
  if (pinnedBefore && !pinnedBefore.equals(code)) {
    throw new Error(
      `${join(dir, file)} is pinned and the SDK now builds to other bytes: shops that pinned ` +
        `${release} with its integrity would be refused. Bump "version" in package.json to release it.`,
    )
  }
  await mkdir(dir, { recursive: true })
  await Promise.all([
    writeFile(join(dir, 'vista.js'), code),
    writeFile(join(dir, file), code),
    writeFile(join(dir, 'vista.json'), `${JSON.stringify(manifest, null, 2)}\n`),
  ])
  // Every versioned file still in the folder stays pinnable: shops keep their old tags.
  const pinned = (await readdir(dir))
    .filter((f) => VERSIONED.test(f))
    .sort()
    .map((f) => `/v1/${f}`)
  await writeFile(join(assets, '_headers'), headersFor(pinned))
  return manifest
}

/** Copies the demo's folders and the releases into one fresh assets folder, as one origin serves them. */
export async function writeDemo(out = DEMO_ASSETS, sources = DEMO_SOURCES, releases = RELEASES): Promise<void> {
  await rm(out, { recursive: true, force: true })
  for (const from of [...sources, releases]) await cp(from, out, { recursive: true })
}

if (process.argv[1]?.endsWith('build-sdk.mjs')) {
  try {
    const m = await writeSdk()
    console.log(`sdk ${m.version}: ${m.url} ${m.bytes} B, ${m.gzipBytes} B gzip, ${m.integrity}`)
    await writeDemo()
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  }
}
