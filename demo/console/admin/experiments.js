// A/B tests: the list with start / stop / report, a form for a new experiment (variants as rows,
// strategies from the API), and the report table with intervals and the verdict.
import { api, errorOf, issueLines } from './api.js'
import { $, el, euro, percent, status } from './dom.js'

let strategies = []

/** One variant row of the form: name, strategy, limit, weight. */
function variantRow(index, values = {}) {
  const row = el('div', null, { class: 'row variant-row', 'data-variant': String(index) })
  const field = (label, input) => {
    const wrap = el('label', label, { class: 'field inline' })
    wrap.append(input)
    return wrap
  }
  const name = el('input', null, {
    name: 'name',
    value: values.name ?? String.fromCharCode(65 + index),
    spellcheck: 'false',
  })
  const strategy = el('select', null, { name: 'strategy' })
  for (const s of strategies) strategy.append(el('option', s, { value: s }))
  strategy.value = values.strategy ?? strategies[0] ?? ''
  const limit = el('input', null, { name: 'limit', type: 'number', min: '1', max: '50', placeholder: 'slot’s' })
  const weight = el('input', null, { name: 'weight', type: 'number', min: '0', step: 'any', value: '1' })
  row.append(field('Name', name), field('Strategy', strategy), field('Limit', limit), field('Weight', weight))
  return row
}

/** Adds a variant row (at most five). */
export function addVariant() {
  const box = $('experiment-variants')
  if (box.children.length < 5) box.append(variantRow(box.children.length))
}

function resetForm() {
  $('experiment-form').reset()
  $('experiment-variants').replaceChildren(variantRow(0), variantRow(1))
}

/** Loads the experiments and the strategies the API serves. */
export async function loadExperiments() {
  const answer = await api('/experiments')
  if (!answer.ok) return status('experiment-status', errorOf(answer), 'bad')
  const first = strategies.length === 0
  strategies = answer.data.strategies ?? []
  if (first) resetForm()
  renderList(answer.data.experiments ?? [])
}

function renderList(experiments) {
  const body = el('tbody')
  for (const e of experiments) {
    const tr = el('tr', null, { 'data-experiment': e.id })
    tr.append(
      el('td', e.id),
      el('td', e.slot),
      el(
        'td',
        e.variants.map((v) => `${v.name}: ${v.strategy}${v.limit ? ` ×${v.limit}` : ''} (${v.weight})`).join(', '),
      ),
      el('td', percent(e.holdout), { class: 'num' }),
      el('td', e.status, { 'data-col': 'status' }),
    )
    const actions = el('td')
    const button = (text, cls, onClick) => {
      const b = el('button', text, { type: 'button', class: `button secondary small ${cls}` })
      b.addEventListener('click', onClick)
      actions.append(b)
    }
    if (e.status === 'draft') button('Start', 'start', () => change(e.id, 'start'))
    if (e.status === 'running') button('Stop', 'stop', () => change(e.id, 'stop'))
    button('Report', 'report', () => loadReport(e.id))
    tr.append(actions)
    body.append(tr)
  }
  if (experiments.length === 0) {
    const tr = el('tr', null, { class: 'empty' })
    tr.append(el('td', 'No experiment yet.', { colspan: '6' }))
    body.append(tr)
  }
  $('experiments').querySelector('tbody').replaceWith(body)
}

async function change(id, verb) {
  const answer = await api(`/experiments/${encodeURIComponent(id)}/${verb}`, { method: 'POST' })
  if (!answer.ok) return status('experiment-status', errorOf(answer), 'bad')
  status('experiment-status', `${id} ${verb === 'start' ? 'started' : 'stopped'}.`, 'good')
  await loadExperiments()
  if (verb === 'stop') await loadReport(id)
}

/** Saves the form as a draft experiment, or lists the API's issues. */
export async function saveExperiment(event) {
  event.preventDefault()
  const form = $('experiment-form')
  const id = form.elements.id.value.trim()
  const variants = [...$('experiment-variants').children].map((row) => {
    const value = (name) => row.querySelector(`[name="${name}"]`).value.trim()
    return {
      name: value('name'),
      strategy: value('strategy'),
      weight: Number(value('weight')),
      ...(value('limit') ? { limit: Number(value('limit')) } : {}),
    }
  })
  const body = {
    slot: form.elements.slot.value.trim(),
    variants,
    holdout: Number(form.elements.holdout.value || 0) / 100,
  }
  const answer = await api(`/experiments/${encodeURIComponent(id)}`, { method: 'PUT', body })
  const errors = $('experiment-errors')
  if (!answer.ok) {
    errors.replaceChildren(...issueLines(answer).map((line) => el('li', line)))
    return
  }
  errors.replaceChildren()
  status('experiment-status', `Saved ${id} as a draft: start it when the slot is ready.`, 'good')
  resetForm()
  await loadExperiments()
}

const interval = (estimate, format) =>
  estimate.interval
    ? `${format(estimate.value)} [${format(estimate.interval[0])}, ${format(estimate.interval[1])}]`
    : format(estimate.value)

const COLUMNS = [
  ['name', 'Variant', (a) => a.name],
  ['shoppers', 'Shoppers', (a) => a.shoppers],
  ['impressions', 'Impressions', (a) => a.impressions],
  ['clicks', 'Clicks', (a) => a.clicks],
  ['ctr', 'CTR', (a) => percent(a.ctr)],
  ['attributed', 'Attributed orders', (a) => a.attributedOrders],
  ['attributedRevenue', 'Attributed revenue', (a) => euro.format(a.attributedRevenue)],
  ['conversion', 'Conversion (95%)', (a) => interval(a.conversion, percent)],
  ['rps', 'Revenue per shopper (95%)', (a) => interval(a.revenuePerShopper, (x) => euro.format(x))],
]

/** Shows one experiment's report: every arm, and the verdict. */
export async function loadReport(id) {
  const answer = await api(`/experiments/${encodeURIComponent(id)}/report`)
  if (!answer.ok) return status('experiment-status', errorOf(answer), 'bad')
  const report = answer.data
  $('experiment-report-title').textContent =
    `Report: ${report.id} on slot ${report.slot} (${report.status}, day ${Math.floor(report.days)})`
  const head = el('tr')
  for (const [, label] of COLUMNS) head.append(el('th', label, { scope: 'col' }))
  const body = el('tbody')
  for (const arm of report.arms) {
    const tr = el('tr', null, { 'data-arm': arm.name })
    for (const [key, , cell] of COLUMNS) tr.append(el('td', cell(arm), { 'data-col': key }))
    body.append(tr)
  }
  const thead = el('thead')
  thead.append(head)
  $('experiment-report').replaceChildren(thead, body)
  const lift = (c) =>
    c.lift
      ? `${c.variant} vs ${c.control}: lift ${interval(c.lift, percent)} at ${percent(c.level)}`
      : `${c.variant} vs ${c.control}: difference ${interval(c.difference, (x) => euro.format(x))}`
  $('experiment-comparisons').replaceChildren(...report.comparisons.map((c) => el('li', lift(c))))
  $('experiment-verdict').textContent = report.verdict
  $('experiment-waiting').textContent =
    report.waiting ?? 'The fixed horizon is reached: read the verdict once, then stop.'
  $('experiment-report-panel').hidden = false
}
