// Catalog: the import (CSV as it is, or JSON rows) and stock changes.
import { api, issueLines } from './api.js'
import { $, el, status } from './dom.js'

const IMPORT_CHUNK = 1000

/** JSON rows to import, or the problem with them. */
function readJsonRows(text) {
  try {
    const items = JSON.parse(text)
    if (!Array.isArray(items)) return { items: [], problems: ['Expected a JSON array.'] }
    return { items, problems: items.length === 0 ? ['No rows to import.'] : [] }
  } catch (error) {
    return { items: [], problems: [`Not valid JSON: ${error.message}`] }
  }
}

// CSV goes to the API as it is (text/csv), so the API reads it by its own rules (header, quotes,
// which in_stock words mean out of stock): the console has no CSV parser that could disagree.
/** Imports the pasted rows and shows the API's counts and rejected rows. */
export async function importCatalog(event) {
  event.preventDefault()
  const box = $('catalog-result')
  const text = $('catalog-rows').value.trim()
  const json = text.startsWith('[')
  const { items, problems } = json ? readJsonRows(text) : { items: [], problems: text ? [] : ['No rows to import.'] }
  if (problems.length > 0) {
    const list = el('ul', null, { class: 'errors' })
    for (const p of problems) list.append(el('li', p))
    box.replaceChildren(list)
    return
  }
  const button = $('catalog-import')
  button.disabled = true
  const total = { created: 0, updated: 0, rejected: [] }
  const failures = []
  /** Adds one API answer to the totals; `start` is the index of its first row. */
  const count = (answer, start, label) => {
    if (!answer.ok) return failures.push(`${label}${issueLines(answer).join('; ')}`)
    total.created += answer.data.created ?? 0
    total.updated += answer.data.updated ?? 0
    for (const r of answer.data.rejected ?? []) total.rejected.push({ ...r, row: start + r.row + 1 })
  }
  if (json) {
    for (let start = 0; start < items.length; start += IMPORT_CHUNK) {
      const end = Math.min(items.length, start + IMPORT_CHUNK)
      box.replaceChildren(el('p', `Importing rows ${start + 1}–${end} of ${items.length}…`))
      const answer = await api('/catalog', { method: 'POST', body: { items: items.slice(start, end) } })
      count(answer, start, `rows ${start + 1}–${end}: `)
    }
  } else {
    box.replaceChildren(el('p', 'Importing…'))
    count(await api('/catalog', { method: 'POST', csv: text }), 0, '')
  }
  button.disabled = false
  const { created, updated, rejected } = total
  const summary = `created ${created}, updated ${updated}, rejected ${rejected.length}`
  const parts = [el('p', summary, { class: 'import-summary' })]
  if (total.rejected.length > 0 || failures.length > 0) {
    const list = el('ul', null, { class: 'rejected' })
    for (const r of total.rejected) {
      const id = r.id === undefined || r.id === null ? 'no id' : String(r.id)
      list.append(el('li', `row ${r.row} (${id}): ${(r.errors ?? []).join('; ')}`))
    }
    for (const f of failures) list.append(el('li', f))
    parts.push(list)
  }
  box.replaceChildren(...parts)
  box.className = 'import-result'
}

/** Marks one item in or out of stock. */
export async function setStock(inStock) {
  const id = $('stock-id').value.trim()
  if (!id) return status('stock-status', 'Enter an item id.', 'bad')
  const body = { items: [{ id, in_stock: inStock }] }
  const answer = await api('/catalog/stock', { method: 'PATCH', body })
  if (!answer.ok) return status('stock-status', issueLines(answer).join('; '), 'bad')
  if (!(answer.data?.updated > 0)) {
    return status('stock-status', `Unknown item ${id}.`, 'bad')
  }
  status('stock-status', `${id} is now ${inStock ? 'in stock' : 'out of stock'}.`, 'good')
}
