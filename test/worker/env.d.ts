// A script, not a module (no top-level import), so the wildcard module below is ambient.
declare namespace Cloudflare {
  // An interface cannot extend an import() type directly; a generic wrapper around it can.
  interface Env extends Readonly<import('../../worker/env').Bindings> {
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[]
    IDENTITY_KEK: string
  }
}

/** Vite's raw imports: a file's text (wrangler.toml in the rate limit test). */
declare module '*?raw' {
  const text: string
  export default text
}
