// The console's building blocks: elements by id, DOM and SVG elements, status lines, formats.

const SVG = 'http://www.w3.org/2000/svg'

/** The element with this id. */
export const $ = (id) => document.getElementById(id)
/** Formats amounts in euros. */
export const euro = new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' })
/** A share as a percentage with one decimal. */
export const percent = (x) => `${(x * 100).toFixed(1)}%`

/** `tag` with text and attributes, built with DOM APIs only. */
export function el(tag, text, attrs = {}) {
  const node = document.createElement(tag)
  if (text !== undefined && text !== null) node.textContent = String(text)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value)
  return node
}

/** An SVG element with attributes and text. */
export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value))
  if (text !== undefined) node.textContent = String(text)
  return node
}

/** Sets a status line's text and kind (good, bad or none). */
export const status = (id, text, kind = '') => {
  const node = $(id)
  node.textContent = text
  node.className = `status ${kind}`.trim()
}
