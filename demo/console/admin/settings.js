// Settings: origins, the tag to paste, the identity secret and the JSON settings editor.
import { api, errorOf, issueLines, siteId } from './api.js'
import { $, el, status } from './dom.js'

/** Shows the site's origins, its tag, the identity state and the settings JSON. */
export function renderSettings(data) {
  const origins = data?.origins ?? []
  $('settings-origins').replaceChildren(
    ...(origins.length > 0 ? origins.map((o) => el('li', o, { class: 'mono' })) : [el('li', 'No origin listed.')]),
  )
  $('settings-json').value = JSON.stringify(data?.settings ?? {}, null, 2)
  // The tag is what browsers obey, so the console spells out the one that matches the saved mode.
  const consent = data?.settings?.consent ?? 'tracking-with-opt-out'
  $('settings-tag').textContent =
    `<script src="${location.origin}/v1/vista.js" data-site="${siteId()}" data-key="YOUR_PUBLIC_KEY" data-consent="${consent}" async></script>`
  $('settings-identity').textContent = data?.identitySecret
    ? 'This site has an identity secret: logins your backend signs join one customer across devices.'
    : 'No identity secret yet: logins stay claims of their browser and join nothing. Create one for your backend to sign with.'
  $('settings-identity-risk').hidden = data?.settings?.identity?.unverifiedLinking !== true
}

/** Creates or replaces the identity secret and shows it once. */
export async function rotateIdentitySecret() {
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
  $('settings-errors')
    .closest('.errors-panel')
    .classList.toggle('has-errors', lines.length > 0)
}

/** Saves the settings JSON, or shows the API's issues with it. */
export async function saveSettings(event) {
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

/** Reloads the settings from the API. */
export async function reloadSettings() {
  const answer = await api('/settings')
  if (!answer.ok) return status('settings-status', errorOf(answer), 'bad')
  showSettingsErrors([])
  renderSettings(answer.data)
  status('settings-status', 'Reloaded.')
}
