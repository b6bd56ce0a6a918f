// The admin API client (/v1/admin/:site/…) and the signed-in session it uses.

const SESSION_KEY = 'vista-console'

/** The signed-in site and admin key, or null. */
let session = null

/** The session's site id, or '' when signed out. */
export const siteId = () => session?.site ?? ''

/** Signs in (kept in this tab's sessionStorage) or, with null, out. */
export function useSession(value) {
  session = value
  try {
    if (value) sessionStorage.setItem(SESSION_KEY, JSON.stringify(value))
    else sessionStorage.removeItem(SESSION_KEY)
  } catch {
    // Blocked storage: the console still works until the tab reloads.
  }
}

/** The session kept in this tab, or null. */
export function readSession() {
  try {
    const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null')
    return value && typeof value.site === 'string' && typeof value.key === 'string' ? value : null
  } catch {
    return null
  }
}

/** The API's answer as { ok, status, data }; a failed network call becomes an error answer. */
export async function api(path, { method = 'GET', body, csv, auth = session } = {}) {
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

/** The API's error message, or the HTTP status. */
export const errorOf = (answer) => answer.data?.error ?? `HTTP ${answer.status}`

/** The API's issues as "path: message" lines, or its error. */
export const issueLines = (answer) => {
  const issues = answer.data?.issues ?? []
  return issues.length > 0 ? issues.map((i) => `${i.path}: ${i.message}`) : [errorOf(answer)]
}
