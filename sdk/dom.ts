// Builds contract/markup.ts's trees with DOM APIs: server strings only ever become text or
// attribute values, never HTML.
import type { Markup } from '../contract/markup'

/** The element a markup tree describes. */
export function build([tag, attributes, content]: Markup): HTMLElement {
  const node = document.createElement(tag)
  for (const name in attributes) node.setAttribute(name, attributes[name]!)
  if (typeof content === 'string') node.textContent = content
  else if (content) node.append(...content.map(build))
  return node
}
