// Segment sizes over time: a chart and a table per day.
import { api } from './api.js'
import { $, el, svg, status } from './dom.js'

/** Loads the segment sizes over time. */
export async function loadSegments() {
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
