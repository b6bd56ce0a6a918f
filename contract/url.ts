// The one rule for links and images from the server, shared by the SDK's renderer and the
// Worker's action schema. No imports: the SDK bundles this file, so zod must stay out of it.

/** https, or a path on this origin: no javascript:, data:, //host, /\host or /<tab>/host. */
export const SAFE_URL = /^(https:\/\/|\/(?![/\\\t\n\r]))/

/** The URL if it passes SAFE_URL, else ''. */
export const safeUrl = (url = '') => (SAFE_URL.test(url) ? url : '')
