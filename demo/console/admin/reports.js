// Reports: actions by day (table and chart) and the holdout uplift.
import { api, errorOf } from './api.js'
import { $, el, euro, percent, svg, status } from './dom.js'
import { loadSegments } from './segments.js'

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

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10)

/** Sets the report range to the last seven days. */
export function defaultRange() {
  const now = Date.now()
  $('report-from').value = isoDay(now - 6 * 86_400_000)
  $('report-to').value = isoDay(now)
}

/** Loads the report for the chosen range (a submit also refreshes the segment sizes). */
export async function loadReports(event) {
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
