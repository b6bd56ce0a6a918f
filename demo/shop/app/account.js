// The "You" page: sign in, and what Vista knows about you, with the shopper's privacy controls.
import { formatPrice } from './catalog.js'
import { field, h, toast } from './dom.js'
import { navigate, render } from './router.js'

const SITE_QUERY = 'site=demo&key=pk_demo_vista_public'

async function fetchProfile() {
  const local = await window.vista?.profile?.()
  if (!local?.anonymousId) return null
  const res = await fetch(`/v1/profile?${SITE_QUERY}&anonymousId=${encodeURIComponent(local.anonymousId)}`)
  return res.ok ? res.json() : null
}

function signIn(event) {
  event.preventDefault()
  const form = new FormData(event.target)
  const user = String(form.get('user') || '').trim()
  if (!user) return
  // Vista hashes the e-mail on this device; only the SHA-256 reaches the server.
  window.vista?.identify?.(user, { email: String(form.get('email') || '') })
  toast(`Signed in as ${user}`)
  setTimeout(render, 800)
}

async function fillProfile(box) {
  const view = await fetchProfile().catch(() => null)
  if (!view) {
    box.replaceChildren(h('p', { class: 'notice' }, 'Nothing known yet: browse a little first.'))
    return
  }
  const money = formatPrice(view.summary.revenue)
  box.replaceChildren(
    h(
      'p',
      { class: 'lead' },
      view.uid
        ? `One customer (${view.uid}) across ${view.browsers.length} browser(s). `
        : 'Not signed in: this browser only. ',
      `${view.summary.events} events, ${view.summary.orders} orders, ${money} spent.`,
    ),
    h('h2', {}, 'Your segments, and why'),
    h(
      'ul',
      { class: 'segments' },
      view.segments.map((s) => h('li', { 'data-segment': s.id }, h('strong', {}, s.id), ' — ', s.reason)),
    ),
    // replaceChildren, unlike h(), would print a null child as the text "null".
    ...(view.identities.length
      ? [
          h(
            'p',
            { class: 'caption' },
            'Linked ids: ',
            view.identities
              .map((i) => `${i.kind} ${i.kind === 'email' ? `${i.value.slice(0, 10)}…` : i.value}`)
              .join(', '),
          ),
        ]
      : []),
  )
}

/** The "You" page: what Vista knows about this shopper, the privacy controls and a sign-in form. */
export function mePage() {
  const box = h('div', { class: 'panel' }, h('p', { class: 'notice' }, 'Loading…'))
  const form = h(
    'form',
    { class: 'form panel', onsubmit: signIn },
    h('h2', {}, 'Sign in'),
    field('Customer id', { name: 'user', value: 'alex-demo', required: true }),
    field('Email', { name: 'email', type: 'email', value: 'alex@example.com', required: false }),
    h('button', { id: 'sign-in', type: 'submit' }, 'Sign in'),
  )
  const privacy = h('section', { class: 'panel', id: 'privacy' }, h('h2', {}, 'Your privacy'))
  return {
    type: 'account',
    title: 'You',
    content: [h('header', { class: 'page-head' }, h('h1', {}, 'What Vista knows about you')), box, privacy, form],
    after: () => {
      fillProfile(box)
      fillPrivacy(privacy)
    },
  }
}

const CONSENT_WORDS = {
  full: 'Vista remembers what you browse on this device and personalises the shop.',
  anonymous: 'Vista counts what you browse without remembering you: nothing is kept on this device.',
  off: 'Vista does not track you: nothing is kept or sent.',
}

/** Consent, export and erasure: the shopper's controls over what Vista keeps. */
async function fillPrivacy(panel) {
  const state = await window.vista?.consent?.()
  if (!state) return panel.append(h('p', { class: 'notice' }, 'Vista is not loaded.'))
  const signal = state.signal ? ` Your browser asks not to be tracked (${state.signal.toUpperCase()}).` : ''
  const status = h('p', { id: 'consent-state' }, CONSENT_WORDS[state.level] + signal)
  const choose = (tracking) => async () => {
    await window.vista.consent({ tracking })
    panel.replaceChildren(h('h2', {}, 'Your privacy'))
    fillPrivacy(panel)
  }
  const download = async () => {
    const data = await window.vista.exportData()
    const link = h('a', {
      href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })),
      download: 'my-vista-data.json',
    })
    link.click()
    URL.revokeObjectURL(link.href)
  }
  const erase = async () => {
    const done = await window.vista.forget()
    toast(
      done
        ? 'Everything Vista knew about you is erased.'
        : 'Could not reach the server; nothing was erased. Try again.',
    )
    if (done) navigate('/me')
  }
  panel.append(
    status,
    h(
      'div',
      { class: 'actions' },
      state.level === 'full'
        ? h('button', { type: 'button', id: 'consent-off', onclick: choose(false) }, 'Stop tracking me')
        : h('button', { type: 'button', id: 'consent-on', onclick: choose(true) }, 'Allow personalisation'),
      h('button', { type: 'button', id: 'export-data', onclick: download }, 'Download my data'),
      h('button', { type: 'button', id: 'forget-me', onclick: erase }, 'Erase everything'),
    ),
  )
}
