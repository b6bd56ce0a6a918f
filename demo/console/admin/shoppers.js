// Shopper lookup: the customer 360 of one id.
import { api, errorOf } from './api.js'
import { $, el, euro, status } from './dom.js'

/** Shows one shopper's customer view. */
export async function lookup(event) {
  event.preventDefault()
  const id = $('lookup-id').value.trim()
  const box = $('profile')
  if (!id) return
  status('lookup-status', 'Loading…')
  const answer = await api(`/profiles/${encodeURIComponent(id)}`)
  if (!answer.ok) {
    box.hidden = true
    status('lookup-status', errorOf(answer), 'bad')
    return
  }
  status('lookup-status', '')
  const p = answer.data
  const facts = el('dl', null, { class: 'facts' })
  const fact = (term, value) => facts.append(el('dt', term), el('dd', value))
  fact('UID', p.uid ?? 'not linked (anonymous)')
  fact('Browsers', (p.browsers ?? []).join(', ') || '—')
  const identities = (p.identities ?? []).map((i) => `${i.kind} ${String(i.value).slice(0, 12)}`)
  if (identities.length > 0) fact('Identities', identities.join(', '))
  const claims = (p.unverified ?? []).map((i) => `${i.kind} ${String(i.value).slice(0, 12)}`)
  if (claims.length > 0) fact('Unverified claims (linked to nothing)', claims.join(', '))
  fact('Orders', p.summary?.orders ?? 0)
  fact('Revenue', euro.format(p.summary?.revenue ?? 0))
  for (const [name, value] of Object.entries(p.scores ?? {})) {
    if (value === null || value === undefined) fact(name, '—')
    else fact(name, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
  if (p.value) fact('Predicted value', euro.format(p.value.predictedValue ?? 0))
  const segments = el('ul', null, { class: 'segments' })
  for (const s of p.segments ?? []) {
    const li = el('li', null, { 'data-segment': s.id })
    li.append(el('strong', s.id))
    if (s.reason) li.append(document.createTextNode(` — ${s.reason}`))
    segments.append(li)
  }
  if ((p.segments ?? []).length === 0) {
    segments.append(el('li', 'No segment yet.', { class: 'empty' }))
  }
  box.replaceChildren(el('h3', `Shopper ${id}`), facts, el('h3', 'Segments'), segments)
  box.hidden = false
}
