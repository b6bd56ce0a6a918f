// DOM helpers for what the SDK renders: server strings only ever become text, never HTML.

/** An element with a class and, optionally, text content. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string) {
  const node = document.createElement(tag)
  node.className = className
  if (text !== undefined) node.textContent = text
  return node
}
