// The demo site's keys, with no imports: the seed writes their digests, tests and benchmarks use them.

/** The demo shop's public site key, as in demo/shop/index.html. */
export const DEMO_KEY = 'pk_demo_vista_public'
/** The demo's admin key: for local use only; a real site's key is random and shown once. */
export const DEMO_ADMIN_KEY = 'sk_demo_vista_local_only'
