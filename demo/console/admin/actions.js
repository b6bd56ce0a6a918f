// Actions: the banners and offers the Worker chooses from, their editor and the preview.
import { api, errorOf, issueLines } from './api.js'
import { $, el, status } from './dom.js'

/** The action being edited, to keep the fields the form does not show (image, start, end). */
let editing = null

/** Fills the actions table from the API. */
export async function loadActions() {
  const answer = await api('/actions')
  const body = $('actions').tBodies[0]
  if (!answer.ok) {
    status('actions-status', errorOf(answer), 'bad')
    return
  }
  const actions = answer.data.actions ?? []
  body.replaceChildren(...actions.map(actionRow))
  const count = actions.length === 0 ? 'No actions yet.' : `${actions.length} action(s).`
  status('actions-status', count)
}

function actionRow(action) {
  const row = el('tr', null, { 'data-action-id': action.id })
  if (action.lever === 0) row.classList.add('paused')
  row.append(
    el('td', action.id, { class: 'mono' }),
    el('td', action.title),
    el('td', action.placement),
    el('td', action.value, { class: 'num' }),
    el('td', action.lever === 0 ? '0 (paused)' : action.lever, { class: 'num' }),
  )
  const when = el('td')
  when.append(el('code', JSON.stringify(action.when ?? {})))
  const buttons = el('td', null, { class: 'row-buttons' })
  const edit = el('button', 'Edit', { type: 'button', class: 'small-button edit' })
  edit.addEventListener('click', () => fillForm(action))
  const remove = el('button', 'Delete', { type: 'button', class: 'small-button delete' })
  remove.addEventListener('click', () => deleteAction(action.id))
  buttons.append(edit, remove)
  row.append(when, buttons)
  return row
}

function fillForm(action) {
  editing = action
  const form = $('action-form')
  for (const name of ['id', 'title', 'text', 'link', 'placement', 'value', 'lever', 'reason']) {
    form.elements[name].value = action[name] ?? ''
  }
  form.elements.when.value = JSON.stringify(action.when ?? {}, null, 2)
  $('action-form-title').textContent = `Edit ${action.id}`
  showErrors([])
  status('action-saved', '')
  form.elements.title.focus()
}

/** Empties the action form for a new action. */
export function clearForm() {
  editing = null
  const form = $('action-form')
  form.reset()
  $('action-form-title').textContent = 'New action'
  showErrors([])
  status('action-saved', '')
}

function showErrors(lines) {
  $('action-errors').replaceChildren(...lines.map((line) => el('li', line)))
  $('action-errors')
    .closest('.errors-panel')
    .classList.toggle('has-errors', lines.length > 0)
}

/** The action the form describes, or the problems found before asking the API. */
function readForm() {
  const f = $('action-form').elements
  const problems = []
  const id = f.id.value.trim()
  if (!id) problems.push('id: required')
  const number = (name) => {
    const raw = f[name].value.trim()
    if (raw === '') return undefined
    const n = Number(raw)
    if (!Number.isFinite(n)) problems.push(`${name}: must be a number`)
    return n
  }
  let when = {}
  const text = f.when.value.trim()
  if (text) {
    try {
      when = JSON.parse(text)
    } catch (error) {
      problems.push(`when: not valid JSON (${error.message})`)
    }
  }
  const action = {
    title: f.title.value.trim(),
    text: f.text.value,
    placement: f.placement.value.trim(),
    when,
  }
  const value = number('value')
  const lever = number('lever')
  if (value !== undefined) action.value = value
  if (lever !== undefined) action.lever = lever
  if (f.link.value.trim()) action.link = f.link.value.trim()
  if (f.reason.value.trim()) action.reason = f.reason.value.trim()
  // Keep what the form does not show when saving the action it was filled from.
  if (editing && editing.id === id) {
    for (const name of ['image', 'start', 'end']) {
      if (editing[name] !== undefined) action[name] = editing[name]
    }
  }
  return { id, action, problems }
}

/** Saves the form's action, or shows the API's issues with it. */
export async function saveAction(event) {
  event.preventDefault()
  status('action-saved', '')
  const { id, action, problems } = readForm()
  if (problems.length > 0) return showErrors(problems)
  const button = $('save-action')
  button.disabled = true
  const answer = await api(`/actions/${encodeURIComponent(id)}`, { method: 'PUT', body: action })
  button.disabled = false
  if (!answer.ok) return showErrors(issueLines(answer))
  showErrors([])
  editing = answer.data.action
  $('action-form-title').textContent = `Edit ${id}`
  status('action-saved', `Saved ${id}.`, 'good')
  await loadActions()
}

async function deleteAction(id) {
  if (!window.confirm(`Delete the action ${id}?`)) return
  const answer = await api(`/actions/${encodeURIComponent(id)}`, { method: 'DELETE' })
  if (!answer.ok) status('actions-status', errorOf(answer), 'bad')
  if (editing?.id === id) clearForm()
  await loadActions()
}

/** A dry run of the form's action over recent shoppers, and optionally for one shopper. */
export async function previewAction() {
  status('action-saved', '')
  const { id, action, problems } = readForm()
  if (problems.length > 0) return showErrors(problems)
  const body = { action: { id, ...action } }
  const shopper = $('preview-shopper').value.trim()
  if (shopper) body.anonymousId = shopper
  const button = $('preview-action')
  const box = $('preview-result')
  button.disabled = true
  box.replaceChildren(el('p', 'Previewing…', { class: 'caption' }))
  const answer = await api('/preview', { method: 'POST', body })
  button.disabled = false
  if (!answer.ok) {
    showErrors(issueLines(answer))
    box.replaceChildren(el('p', 'No preview: see the problems above.', { class: 'caption' }))
    return
  }
  showErrors([])
  const { population = {}, shopper: one } = answer.data
  const sampled = population.sampled ?? 0
  const eligible = population.eligible ?? 0
  const share = ((population.share ?? 0) * 100).toFixed(0)
  const parts = [
    el('p', `${eligible} of ${sampled} recent shoppers eligible (${share}%)`, {
      class: 'preview-population',
    }),
  ]
  const segments = population.segments ?? []
  if (segments.length > 0) {
    parts.push(el('p', 'Top segments among them:', { class: 'caption' }))
    const list = el('ul', null, { class: 'preview-segments' })
    for (const s of segments) {
      list.append(el('li', `${s.id}: ${s.shoppers}`, { 'data-segment': s.id }))
    }
    parts.push(list)
  }
  if (one) {
    const facts = el('dl', null, { class: 'facts preview-shopper' })
    const fact = (term, value) => facts.append(el('dt', term), el('dd', value))
    fact('Shopper', one.anonymousId ?? shopper)
    fact('Eligible', one.eligible ? 'yes' : 'no')
    fact('Why', (one.why ?? []).filter(Boolean).join('; ') || '—')
    fact('Would see now', one.wouldSee?.action ?? 'nothing')
    fact('Because', (one.wouldSee?.reasons ?? []).join('; ') || '—')
    fact('Trace', one.wouldSee?.trace?.summary ?? '—')
    parts.push(facts)
  }
  box.replaceChildren(...parts)
}
