// The script tag: <script src="/v1/vista.js" data-site="demo" data-key="pk_..." async></script>
// Reads its settings from its own data attributes, puts a Vista on `window.vista` (replaying the
// calls queued there before it loaded) and tracks the page. Nothing here may throw into the host page.
// vista before autotrack, out of name order: esbuild lays the bundle out in import order, and this
// order gzips 16 B smaller, enough to keep within test/size.test.ts's budget.
import { createVista, safe, type Vista } from './vista'
import { autotrack } from './autotrack'

// Only while this file first runs: currentScript is null once the tag's code has returned.
const script = document.currentScript as HTMLScriptElement | null
const data = script?.dataset ?? {}

safe(() => {
  // The dataset's own names are the options' names: spread, it costs no bytes per option.
  const vista = createVista({ ...data, endpoint: data.endpoint ?? new URL('/v1', script?.src || location.href).href })
  const queued = (window as { vista?: unknown }).vista
  ;(window as { vista?: Vista }).vista = vista
  autotrack(vista)
  if (Array.isArray(queued)) queued.forEach(vista.push)
})()
