// Vista console: the marketer's page over the admin API (/v1/admin/:site/…). Plain DOM APIs and
// textContent only; the admin key lives in sessionStorage, never in localStorage or the URL.

const SESSION_KEY = 'vista-console'
const SVG = 'http://www.w3.org/2000/svg'
const COLUMNS = [
  ['day', 'Day'],
  ['key', 'Key'],
  ['impressions', 'Impressions'],
  ['clicks', 'Clicks'],
  ['acceptances', 'Acceptances'],
  ['dismissals', 'Dismissals'],
  ['ctr', 'CTR %'],
  ['orders', 'Orders'],
  ['revenue', 'Revenue'],
]

const $ = (id) => document.getElementById(id)
const euro = new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' })
const percent = (x) => `${(x * 100).toFixed(1)}%`

/** `tag` with text and attributes, built with DOM APIs only. */
function el(tag, text, attrs = {}) {
  const node = document.createElement(tag)
  if (text !== undefined && text !== null) node.textContent = String(text)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value)
  return node
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value))
  if (text !== undefined) node.textContent = String(text)
  return node
}

const status = (id, text, kind = '') => {
  const node = $(id)
  node.textContent = text
  node.className = `status ${kind}`.trim()
}

// ---- Session and API ----------------------------------------------------------------------------

let session = null

function readSession() {
  try {
    const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null')
    return value && typeof value.site === 'string' && typeof value.key === 'string' ? value : null
  } catch {
    return null
  }
}

/** The API's answer as { ok, status, data }; a failed network call becomes an error answer. */
async function api(path, { method = 'GET', body, csv, auth = session } = {}) {
  const headers = { Authorization: `Bearer ${auth.key}` }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (csv !== undefined) headers['Content-Type'] = 'text/csv; charset=utf-8'
  const url = `/v1/admin/${encodeURIComponent(auth.site)}${path}`
  try {
    const payload = csv ?? (body === undefined ? undefined : JSON.stringify(body))
    const res = await fetch(url, { method, headers, body: payload })
    const text = await res.text()
    let data = null
    try {
      data = text ? JSON.parse(text) : null
    } catch {
      data = { error: text.slice(0, 200) }
    }
    return { ok: res.ok, status: res.status, data }
  } catch (error) {
    return { ok: false, status: 0, data: { error: `network error: ${error.message}` } }
  }
}

const errorOf = (answer) => answer.data?.error ?? `HTTP ${answer.status}`

/** The API's issues as "path: message" lines, or its error. */
const issueLines = (answer) => {
  const issues = answer.data?.issues ?? []
  return issues.length > 0 ? issues.map((i) => `${i.path}: ${i.message}`) : [errorOf(answer)]
}

async function signIn(site, key) {
  const candidate = { site, key }
  const answer = await api('/settings', { auth: candidate })
  if (!answer.ok) return errorOf(answer)
  session = candidate
  try {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
  } catch {
    // Blocked storage: the console still works until the tab reloads.
  }
  showWorkspace(answer.data)
  return null
}

function signOut() {
  session = null
  try {
    sessionStorage.removeItem(SESSION_KEY)
  } catch {}
  $('admin-key').value = ''
  $('workspace').hidden = true
  $('sign-in-section').hidden = false
  $('sign-out').hidden = true
  $('signed-in-as').hidden = true
  $('console-nav').hidden = true
  $('profile').hidden = true
  $('admin-key').focus()
}

function showWorkspace(settings) {
  $('sign-in-section').hidden = true
  $('workspace').hidden = false
  $('sign-out').hidden = false
  $('console-nav').hidden = false
  const who = $('signed-in-as')
  who.textContent = `site ${session.site}`
  who.hidden = false
  renderSettings(settings)
  loadActions()
  loadReports()
  loadSegments()
}

// ---- Actions ------------------------------------------------------------------------------------

/** The action being edited, to keep the fields the form does not show (image, start, end). */
let editing = null

async function loadActions() {
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

function clearForm() {
  editing = null
  const form = $('action-form')
  form.reset()
  $('action-form-title').textContent = 'New action'
  showErrors([])
  status('action-saved', '')
}

function showErrors(lines) {
  $('action-errors').replaceChildren(...lines.map((line) => el('li', line)))
  $('action-errors').closest('.errors-panel').classList.toggle('has-errors', lines.length > 0)
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

async function saveAction(event) {
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
async function previewAction() {
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

// ---- Catalog ------------------------------------------------------------------------------------

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
async function importCatalog(event) {
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

async function setStock(inStock) {
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

// ---- Segment sizes ------------------------------------------------------------------------------

async function loadSegments() {
  const chart = $('segments-chart')
  const table = $('segments-table')
  const empty = (text) => {
    status('segments-status', text)
    $('segments-body').hidden = true
    chart.replaceChildren()
    table.replaceChildren()
  }
  const unavailable = () => empty('Segment sizes are not available yet.')
  let answer
  try {
    answer = await api('/segments')
  } catch {
    return unavailable()
  }
  const days = Array.isArray(answer.data?.days) ? answer.data.days : null
  if (!answer.ok || !days) return unavailable()
  const sorted = [...days].filter((d) => d && typeof d.day === 'string')
  sorted.sort((a, b) => a.day.localeCompare(b.day))
  if (sorted.length === 0) return empty('No segment sizes yet.')
  $('segments-body').hidden = false
  const latest = sorted[sorted.length - 1]
  const sampled = answer.data.sampled
  const note = typeof sampled === 'number' ? `, ${sampled} shopper(s) sampled` : ''
  status('segments-status', `Latest day ${latest.day}${note}.`)
  $('segments-chart-title').textContent = `Latest day (${latest.day})`
  renderSegmentChart(latest.sizes ?? [])
  renderSegmentTable(sorted.slice(-7))
}

function renderSegmentChart(sizes) {
  const box = $('segments-chart')
  const rows = [...sizes].sort((a, b) => b.shoppers - a.shoppers)
  if (rows.length === 0) {
    box.replaceChildren(el('p', 'No segment on that day.', { class: 'caption' }))
    return
  }
  const max = Math.max(1, ...rows.map((r) => Number(r.shoppers) || 0))
  const [label, barH, gap, plotW] = [130, 14, 6, 260]
  const height = rows.length * (barH + gap) + 4
  const width = label + plotW + 50
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' })
  chart.append(svg('title', {}, 'Shoppers per segment on the latest day'))
  rows.forEach((r, i) => {
    const n = Number(r.shoppers) || 0
    const y = i * (barH + gap) + 2
    const w = Math.max(n > 0 ? 2 : 0, (n / max) * plotW)
    const at = { x: label - 8, y: y + barH - 3, 'text-anchor': 'end', class: 'bar-label' }
    chart.append(svg('text', at, r.segment))
    const bar = { x: label, y, width: w, height: barH, rx: 2, class: 'bar segment' }
    bar['data-segment'] = r.segment
    chart.append(svg('rect', bar))
    chart.append(svg('text', { x: label + w + 4, y: y + barH - 3, class: 'bar-value' }, n))
  })
  box.replaceChildren(chart)
}

function renderSegmentTable(days) {
  const names = new Set()
  for (const d of days) for (const s of d.sizes ?? []) names.add(s.segment)
  const head = el('thead')
  const tr = el('tr')
  tr.append(el('th', 'Segment', { scope: 'col' }))
  for (const d of days) tr.append(el('th', d.day.slice(5), { scope: 'col', class: 'num' }))
  head.append(tr)
  const body = el('tbody')
  for (const name of [...names].sort()) {
    const line = el('tr', null, { 'data-segment': name })
    line.append(el('td', name, { class: 'mono' }))
    for (const d of days) {
      const size = (d.sizes ?? []).find((s) => s.segment === name)
      line.append(el('td', size ? size.shoppers : '—', { class: 'num' }))
    }
    body.append(line)
  }
  $('segments-table').replaceChildren(head, body)
}

// ---- Reports ------------------------------------------------------------------------------------

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10)

function defaultRange() {
  const now = Date.now()
  $('report-from').value = isoDay(now - 6 * 86_400_000)
  $('report-to').value = isoDay(now)
}

async function loadReports(event) {
  event?.preventDefault()
  // A manual refresh also refreshes the segment sizes.
  if (event) loadSegments()
  const from = $('report-from').value
  const to = $('report-to').value
  status('report-status', 'Loading…')
  const answer = await api(`/reports?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)
  if (!answer.ok) {
    const issues = answer.data?.issues ?? []
    const lines = [errorOf(answer), ...issues.map((i) => `${i.path}: ${i.message}`)]
    status('report-status', lines.join('; '), 'bad')
    return
  }
  const { actions = [], recommendations = [], uplift } = answer.data
  reportTable($('report-actions'), actions, 'No offer shown in this range.')
  const none = 'No recommendation shown in this range.'
  reportTable($('report-recommendations'), recommendations, none)
  renderChart(actions)
  renderUplift(uplift)
  status('report-status', `${from} to ${to} (UTC), updated ${new Date().toLocaleTimeString()}.`)
}

function cell(row, key) {
  if (key === 'ctr') return (row.ctr * 100).toFixed(1)
  if (key === 'revenue') return euro.format(row.revenue ?? 0)
  return row[key]
}

function reportTable(table, rows, empty) {
  const head = el('thead')
  const tr = el('tr')
  for (const [key, label] of COLUMNS) {
    tr.append(el('th', label, { scope: 'col', class: key === 'day' || key === 'key' ? '' : 'num' }))
  }
  head.append(tr)
  const body = el('tbody')
  for (const row of rows) {
    const line = el('tr', null, { 'data-key': row.key, 'data-day': row.day })
    for (const [key] of COLUMNS) {
      const kind = key === 'day' || key === 'key' ? '' : 'num'
      line.append(el('td', cell(row, key), { class: kind, 'data-col': key }))
    }
    body.append(line)
  }
  if (rows.length === 0) {
    const line = el('tr', null, { class: 'empty' })
    line.append(el('td', empty, { colspan: String(COLUMNS.length) }))
    body.append(line)
  }
  table.replaceChildren(head, body)
}

/** Grouped bars of impressions and acceptances per action over the range, in inline SVG. */
function renderChart(rows) {
  const totals = new Map()
  for (const r of rows) {
    const t = totals.get(r.key) ?? { impressions: 0, acceptances: 0 }
    t.impressions += r.impressions
    t.acceptances += r.acceptances
    totals.set(r.key, t)
  }
  const box = $('report-chart')
  if (totals.size === 0) {
    box.replaceChildren(el('p', 'Nothing to chart yet.', { class: 'caption' }))
    return
  }
  const entries = [...totals.entries()]
  const max = Math.max(1, ...entries.map(([, t]) => Math.max(t.impressions, t.acceptances)))
  const [label, barH, gap, plotW] = [120, 12, 10, 260]
  const height = entries.length * (2 * barH + gap) + 30
  const width = label + plotW + 50
  const viewBox = `0 0 ${width} ${height}`
  const chart = svg('svg', { viewBox, width, height, role: 'img', class: 'bars' })
  chart.append(svg('title', {}, 'Impressions and acceptances per action'))
  entries.forEach(([key, t], i) => {
    const y = i * (2 * barH + gap)
    const at = { x: label - 8, y: y + barH + 4, 'text-anchor': 'end', class: 'bar-label' }
    chart.append(svg('text', at, key))
    const bars = [
      ['impressions', t.impressions, 0],
      ['acceptances', t.acceptances, barH],
    ]
    for (const [kind, n, dy] of bars) {
      const w = Math.max(n > 0 ? 2 : 0, (n / max) * plotW)
      const bar = { x: label, y: y + dy, width: w, height: barH - 2, rx: 2, class: `bar ${kind}` }
      chart.append(svg('rect', bar))
      chart.append(svg('text', { x: label + w + 4, y: y + dy + barH - 3, class: 'bar-value' }, n))
    }
  })
  const legendY = height - 10
  const legend = [
    ['impressions', 'Impressions', label],
    ['acceptances', 'Acceptances', label + 110],
  ]
  for (const [kind, text, x] of legend) {
    const key = { x, y: legendY - 9, width: 10, height: 10, rx: 2, class: `bar ${kind}` }
    chart.append(svg('rect', key))
    chart.append(svg('text', { x: x + 14, y: legendY, class: 'bar-label' }, text))
  }
  box.replaceChildren(chart)
}

function renderUplift(uplift) {
  const box = $('uplift')
  if (!uplift || !(uplift.holdout?.shoppers > 0)) {
    const treated = uplift?.treated?.shoppers ?? 0
    const converted = uplift?.treated?.converted ?? 0
    box.replaceChildren(
      el('p', 'No holdout data yet.', { class: 'uplift-none' }),
      el('p', `Treated: ${treated} shopper(s), ${converted} converted.`, { class: 'caption' }),
    )
    return
  }
  const list = el('dl', null, { class: 'facts' })
  const fact = (term, value) => list.append(el('dt', term), el('dd', value))
  const group = (g) => `${percent(g.rate)} (${g.converted} of ${g.shoppers} ordered)`
  fact('Treated', group(uplift.treated))
  fact('Holdout', group(uplift.holdout))
  const points = (x) => (x * 100).toFixed(1)
  fact('Difference', `${uplift.difference >= 0 ? '+' : ''}${points(uplift.difference)} points`)
  const [low, high] = uplift.interval ?? []
  const interval = uplift.interval ? `${points(low)} to ${points(high)} points` : 'not enough data'
  fact('95% interval', interval)
  box.replaceChildren(list)
}

// ---- Shopper lookup -----------------------------------------------------------------------------

async function lookup(event) {
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

// ---- Settings -----------------------------------------------------------------------------------

function renderSettings(data) {
  const origins = data?.origins ?? []
  $('settings-origins').replaceChildren(
    ...(origins.length > 0
      ? origins.map((o) => el('li', o, { class: 'mono' }))
      : [el('li', 'No origin listed.')]),
  )
  $('settings-json').value = JSON.stringify(data?.settings ?? {}, null, 2)
  // The tag is what browsers obey, so the console spells out the one that matches the saved mode.
  const consent = data?.settings?.consent ?? 'tracking-with-opt-out'
  $('settings-tag').textContent =
    `<script src="${location.origin}/v1/vista.js" data-site="${session?.site ?? ''}" data-key="YOUR_PUBLIC_KEY" data-consent="${consent}" async></script>`
  $('settings-identity').textContent = data?.identitySecret
    ? 'This site has an identity secret: logins your backend signs join one customer across devices.'
    : 'No identity secret yet: logins stay claims of their browser and join nothing. Create one for your backend to sign with.'
  $('settings-identity-risk').hidden = data?.settings?.identity?.unverifiedLinking !== true
}

async function rotateIdentitySecret() {
  const replacing = $('settings-identity').textContent.startsWith('This site has')
  if (replacing && !confirm('Signatures made with the current secret stop working within a minute. Continue?')) return
  const answer = await api('/keys/identity/rotate', { method: 'POST' })
  if (!answer.ok) return status('settings-status', errorOf(answer), 'bad')
  const box = $('identity-secret')
  box.textContent = `${answer.data.key}\n\nShown once: store it with your backend's secrets; Vista keeps only a sealed copy.`
  box.hidden = false
  await reloadSettings()
}

function showSettingsErrors(lines) {
  $('settings-errors').replaceChildren(...lines.map((line) => el('li', line)))
  $('settings-errors').closest('.errors-panel').classList.toggle('has-errors', lines.length > 0)
}

async function saveSettings(event) {
  event.preventDefault()
  status('settings-status', '')
  $('settings-saved').hidden = true
  let settings
  try {
    settings = JSON.parse($('settings-json').value)
  } catch (error) {
    return showSettingsErrors([`JSON syntax error: ${error.message}`])
  }
  if (!settings || typeof settings !== 'object' || Array.isArray(settings)) {
    return showSettingsErrors(['settings: must be a JSON object'])
  }
  const button = $('settings-save')
  button.disabled = true
  const answer = await api('/settings', { method: 'PATCH', body: { settings } })
  button.disabled = false
  if (!answer.ok) return showSettingsErrors(issueLines(answer))
  showSettingsErrors([])
  renderSettings(answer.data)
  const saved = $('settings-saved')
  saved.textContent = JSON.stringify(answer.data.settings ?? {}, null, 2)
  saved.hidden = false
  status('settings-status', `Saved at ${new Date().toLocaleTimeString()}; applied at once.`, 'good')
}

async function reloadSettings() {
  const answer = await api('/settings')
  if (!answer.ok) return status('settings-status', errorOf(answer), 'bad')
  showSettingsErrors([])
  renderSettings(answer.data)
  status('settings-status', 'Reloaded.')
}

// ---- Start --------------------------------------------------------------------------------------

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const error = $('sign-in-error')
  error.hidden = true
  const site = $('site').value.trim()
  const key = $('admin-key').value.trim()
  if (!site || !key) {
    error.textContent = 'Enter the site id and its admin key.'
    error.hidden = false
    return
  }
  $('sign-in').disabled = true
  const problem = await signIn(site, key)
  $('sign-in').disabled = false
  if (problem) {
    error.textContent = problem
    error.hidden = false
  }
})
$('sign-out').addEventListener('click', signOut)
$('action-form').addEventListener('submit', saveAction)
$('new-action').addEventListener('click', clearForm)
$('report-form').addEventListener('submit', loadReports)
$('lookup-form').addEventListener('submit', lookup)
$('preview-action').addEventListener('click', previewAction)
$('catalog-form').addEventListener('submit', importCatalog)
$('stock-in').addEventListener('click', () => setStock(true))
$('stock-out').addEventListener('click', () => setStock(false))
$('stock-form').addEventListener('submit', (event) => event.preventDefault())
$('settings-form').addEventListener('submit', saveSettings)
$('settings-reload').addEventListener('click', reloadSettings)
$('identity-rotate').addEventListener('click', rotateIdentitySecret)

defaultRange()
const saved = readSession()
if (saved) {
  $('site').value = saved.site
  signIn(saved.site, saved.key).then((problem) => {
    if (problem) signOut()
  })
}
