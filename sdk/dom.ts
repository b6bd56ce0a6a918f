// DOM helpers for what the SDK renders: server strings only ever become text, never HTML.

/** An element with a class and, optionally, text content. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string) {
  const node = document.createElement(tag)
  node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

/** The URL if it is https or a path on this origin, else '' (no javascript:, data:, //host, /\host or /<tab>/host). */
export const safeUrl = (url = '') => (/^(https:\/\/|\/(?![\/\\\t\n\r]))/.test(url) ? url : '')
