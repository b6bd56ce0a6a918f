// Vista console: the marketer's page over the admin API (/v1/admin/:site/…). Plain DOM APIs and
// textContent only; the admin key lives in sessionStorage, never in localStorage or the URL.
import { clearForm, loadActions, previewAction, saveAction } from './admin/actions.js'
import { api, errorOf, readSession, siteId, useSession } from './admin/api.js'
import { importCatalog, setStock } from './admin/catalog.js'
import { $ } from './admin/dom.js'
import { addVariant, loadExperiments, saveExperiment } from './admin/experiments.js'
import { defaultRange, loadReports } from './admin/reports.js'
import { loadSegments } from './admin/segments.js'
import { reloadSettings, renderSettings, rotateIdentitySecret, saveSettings } from './admin/settings.js'
import { lookup } from './admin/shoppers.js'

async function signIn(site, key) {
  const candidate = { site, key }
  const answer = await api('/settings', { auth: candidate })
  if (!answer.ok) return errorOf(answer)
  useSession(candidate)
  showWorkspace(answer.data)
  return null
}

function signOut() {
  useSession(null)
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
  who.textContent = `site ${siteId()}`
  who.hidden = false
  renderSettings(settings)
  loadActions()
  loadReports()
  loadExperiments()
  loadSegments()
}

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
$('experiment-form').addEventListener('submit', saveExperiment)
$('experiment-add-variant').addEventListener('click', addVariant)
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
