'use strict'
;(() => {
  function nt(t) {
    let n = navigator
    return t ? null : n.globalPrivacyControl ? 'gpc' : n.doNotTrack === '1' ? 'dnt' : null
  }
  var rt = (t, n, e) =>
    e?.tracking
      ? 'full'
      : t === 'anonymous-until-consent'
        ? 'anonymous'
        : e || n || t === 'no-tracking-until-consent'
          ? 'off'
          : 'full'
  var Ot = ['source', 'medium', 'campaign', 'term', 'content']
  function Mt(t, n) {
    return /iPad|Tablet|Android(?!.*Mobi)/i.test(t)
      ? 'tablet'
      : /Mobi|iPhone/i.test(t) || n < 600
        ? 'mobile'
        : 'desktop'
  }
  var it,
    ot = (t) => {
      it = location.origin + t
    }
  function Q() {
    let t = it ?? document.referrer,
      n = new URLSearchParams(location.search),
      e = {}
    for (let r of Ot) {
      let o = n.get(`utm_${r}`)
      o && (e[r] = o.slice(0, 200))
    }
    return {
      page: {
        url: location.href.slice(0, 2048),
        path: location.pathname.slice(0, 1024),
        referrer: t.slice(0, 2048),
        title: document.title.slice(0, 300),
      },
      utm: e,
      device: Mt(navigator.userAgent, innerWidth),
      viewport: { width: innerWidth, height: innerHeight },
      locale: navigator.language.slice(0, 35),
    }
  }
  var D = (t) => ({
    anonymousId: t,
    userId: null,
    traits: {},
    firstSeen: 0,
    lastSeen: 0,
    events: 0,
    pageViews: 0,
    sessions: 0,
    visits: 0,
    lastSessionId: null,
    lastVisitDay: null,
    recent: [],
    cart: {},
    cartPrices: {},
    ratings: {},
    categories: {},
    orders: 0,
    revenue: 0,
    orderIds: [],
  })
  function st(t, n) {
    if (n.type === 'Order Completed' && t.orderIds.includes(n.properties.order_id)) return t
    let e = {
        ...t,
        recent: [...t.recent],
        cart: { ...t.cart },
        cartPrices: { ...t.cartPrices },
        ratings: { ...t.ratings },
        categories: { ...t.categories },
      },
      r = new Date(n.timestamp).toISOString().slice(0, 10)
    e.events++,
      (e.firstSeen = e.firstSeen || n.timestamp),
      (e.lastSeen = Math.max(e.lastSeen, n.timestamp)),
      n.userId && (e.userId = n.userId),
      n.sessionId !== e.lastSessionId && e.sessions++,
      (e.lastSessionId = n.sessionId),
      r !== e.lastVisitDay && e.visits++,
      (e.lastVisitDay = r)
    let o = (i) => {
      i.category && (e.categories[i.category] = (e.categories[i.category] ?? 0) + 1)
    }
    switch (n.type) {
      case 'Page Viewed':
        e.pageViews++
        break
      case 'Product Viewed':
        ;(e.recent = [n.properties.product_id, ...e.recent.filter((i) => i !== n.properties.product_id)].slice(0, 20)),
          o(n.properties)
        break
      case 'Product Added': {
        let { product_id: i, quantity: s = 1, price: l } = n.properties
        ;(e.cart[i] = (e.cart[i] ?? 0) + s), l !== void 0 && (e.cartPrices[i] = l), o(n.properties)
        break
      }
      case 'Product Removed': {
        let { product_id: i, quantity: s } = n.properties,
          l = s === void 0 ? 0 : (e.cart[i] ?? 0) - s
        l > 0 ? (e.cart[i] = l) : (delete e.cart[i], delete e.cartPrices[i])
        break
      }
      case 'Cart Viewed':
        ;(e.cart = Object.fromEntries(n.properties.products.map((i) => [i.product_id, i.quantity ?? 1]))),
          (e.cartPrices = Object.fromEntries(
            n.properties.products.flatMap((i) => (i.price === void 0 ? [] : [[i.product_id, i.price]])),
          ))
        break
      case 'Order Completed':
        ;(e.orderIds = [n.properties.order_id, ...e.orderIds].slice(0, 50)),
          e.orders++,
          (e.revenue = Math.round((e.revenue + n.properties.revenue) * 100) / 100),
          (e.cart = {}),
          (e.cartPrices = {}),
          n.properties.products.forEach(o)
        break
      case 'Product Reviewed':
        e.ratings[n.properties.product_id] = n.properties.rating
        break
    }
    return e
  }
  var at = (t) =>
    Object.entries(t.cart).reduce(
      (n, [e, r]) => ({ total: n.total + r * (t.cartPrices[e] ?? 0), count: n.count + r }),
      { total: 0, count: 0 },
    )
  function P(t, n, e) {
    let r = document.createElement(t)
    return ((r.className = n), e !== void 0 && (r.textContent = e), r)
  }
  function N(t) {
    return new Promise((n, e) => {
      ;(t.oncomplete = t.onsuccess = () => n(t.result)), (t.onabort = t.onerror = () => e(t.error))
    })
  }
  function ct(t, n) {
    let e,
      r = () => {
        if (e) return e
        let o = indexedDB.open(t)
        return (
          (o.onupgradeneeded = () => o.result.createObjectStore(n)),
          (e = N(o)),
          e.then(
            (i) => {
              i.onclose = () => (e = void 0)
            },
            () => {
              e = void 0
            },
          ),
          e
        )
      }
    return (o, i) => r().then((s) => i(s.transaction(n, o).objectStore(n)))
  }
  var _t = (t, n) => n('readonly', (e) => N(e.get(t))),
    Dt = (t, n, e) =>
      e(
        'readwrite',
        (r) =>
          new Promise((o, i) => {
            let s = r.get(t)
            ;(s.onsuccess = () => {
              try {
                r.put(n(s.result), t), o(N(r.transaction))
              } catch (l) {
                i(l)
              }
            }),
              (s.onerror = () => i(s.error))
          }),
      ),
    Lt = (t, n) => n('readwrite', (e) => (e.delete(t), N(e.transaction))),
    dt = (t) => t('readwrite', (n) => (n.clear(), N(n.transaction))),
    C = new Map(),
    j,
    z = !0
  function Ut() {
    if (j === void 0)
      try {
        j = ct('vista', 'kv')
      } catch {
        j = null
      }
    return j
  }
  async function B(t, n, e = !1) {
    let r = z || e ? Ut() : null
    if (r)
      try {
        return await t(r)
      } catch {
        j = null
      }
    return n()
  }
  async function ut(t, n) {
    if (t === z) return
    let e = [...C]
    if ((C.clear(), (z = t), t)) for (let [r, o] of e) await E(r, () => o)
    else {
      let r = await G(n)
      await B(dt, () => {}, !0), r !== void 0 && (await Y(n, r))
    }
  }
  var lt = (t) => (n) => (C.set(t, n), n),
    S = (t, n = !1) =>
      B(
        (e) => _t(t, e).then(lt(t)),
        () => C.get(t),
        n,
      )
  async function E(t, n, e = !1) {
    let r,
      o = (i) => (r = n(i))
    return (
      await B(
        (i) => Dt(t, o, i).then(() => lt(t)(r)),
        () => {
          C.set(t, o(C.get(t)))
        },
        e,
      ),
      r
    )
  }
  var G = (t) => S(t, !0),
    Y = (t, n) => E(t, () => n, !0),
    mt = (t) =>
      B(
        (n) =>
          Lt(t, n).then(() => {
            C.delete(t)
          }),
        () => {
          C.delete(t)
        },
      )
  async function ft() {
    C.clear(), await B(dt, () => {}, !0)
  }
  var qt = /^(https:\/\/|\/(?![\/\\\t\n\r]))/,
    V = (t = '') => (qt.test(t) ? t : '')
  var pt = (t) => `rec:${t.strategy ?? 'for-you'}:${t.item ?? t.category ?? ''}`
  async function yt(t, n, e) {
    let r = new URLSearchParams(),
      o = { ...n, ...e, limit: e.limit && String(e.limit), rules: e.rules && JSON.stringify(e.rules) }
    for (let [i, s] of Object.entries(o)) s && r.set(i, String(s))
    try {
      let i = await fetch(`${t}/recommendations?${r}`)
      if (!i.ok) throw i
      let s = await i.json()
      return (E(pt(e), () => s).catch(() => {}), s)
    } catch {
      return Z(e)
    }
  }
  var Z = (t) =>
    S(pt(t)).then(
      (n) => n ?? null,
      () => null,
    )
  function tt(t, n, e) {
    let r = t.dataset.link ?? '/p/{id}',
      o = t.dataset.currency,
      i = P('ul', 'vista-items')
    n.items.forEach((l, x) => {
      let w = P('a', 'vista-item')
      if (
        ((w.href = V(r.replace('{id}', encodeURIComponent(l.id)))),
        (w.dataset.vistaRec = n.id),
        (w.dataset.vistaPosition = String(x)),
        (w.dataset.vistaProduct = l.id),
        l.image && V(l.image))
      ) {
        let c = P('img', 'vista-image')
        ;(c.src = V(l.image)), (c.alt = ''), (c.loading = 'lazy'), w.append(c)
      }
      let A = o ? new Intl.NumberFormat(void 0, { style: 'currency', currency: o }).format(l.price) : l.price.toFixed(2)
      w.append(P('span', 'vista-name', l.title), P('span', 'vista-price', A))
      let T = P('small', 'vista-reason', l.reasons[0] ?? '')
      ;(T.title = l.reasons.join(' \xB7 ')), w.append(T)
      let u = P('li', 'vista-entry')
      u.append(w), i.append(u)
    })
    let s = P('h2', 'vista-title', t.dataset.title ?? n.label)
    t.replaceChildren(s, i), (t.dataset.vistaFilled = e ? 'cache' : n.id)
  }
  var vt = 30 * 6e4,
    gt = (t) => Array.from(t, (n) => n.toString(16).padStart(2, '0')).join(''),
    L = () => gt(crypto.getRandomValues(new Uint8Array(16))),
    ht = async (t) => gt(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(t)))),
    wt = (t, n) => E('attribution', (e = {}) => ({ ...e, [t]: n }))
  async function Pt(t, n) {
    if (t !== 'Product Viewed' && t !== 'Product Added' && t !== 'Order Completed') return
    let e = (await S('attribution')) ?? {},
      r = n
    for (let o of t === 'Order Completed' ? (r.products ?? []) : [r]) {
      let i = e[o.product_id]
      i && !o.recommendation_id && (o.recommendation_id = i)
    }
  }
  var bt = 1e3,
    Nt = 6e4,
    Ht = 1e3,
    Et = 5 * 6e4,
    et = 'outbox'
  function kt(t) {
    let n = { sent: 0, dropped: 0, retries: 0 },
      e = [],
      r,
      o,
      i = 0,
      s = 0
    async function l(m) {
      ;(e = await E(et, (f = []) => {
        let p = [...f, m]
        return ((n.dropped += Math.max(0, p.length - bt)), p.slice(-bt))
      })),
        x(e.length >= t.flushAt ? 0 : t.flushInterval)
    }
    function x(m) {
      let f = Math.max(Date.now() + m, s)
      clearTimeout(r),
        (r = setTimeout(() => {
          w().catch(() => {})
        }, f - Date.now()))
    }
    function w() {
      return (
        o ??
          (o = (async () => {
            try {
              await (navigator.locks ? navigator.locks.request('vista-outbox', A) : A())
            } finally {
              o = void 0
            }
          })()),
        o
      )
    }
    async function A() {
      for (;;) {
        if (((e = (await S(et)) ?? []), e.length === 0)) return
        if (Date.now() < s) return x(0)
        let m = St(e),
          f = await g(m).catch(() => null)
        if (f?.ok) (n.sent += m.length), (i = 0), await R(m)
        else if (f?.status === 400) {
          let p = await f.json().catch(() => ({})),
            y = new Set(p.issues?.map((M) => M.event).filter((M) => M !== void 0)),
            H = m.filter((M, K) => y.has(K)),
            $ = H.length > 0 ? H : m
          ;(n.dropped += $.length), await R($)
        } else if (f && f.status < 500 && ![401, 403, 408, 429].includes(f.status)) (n.dropped += m.length), await R(m)
        else {
          u(f)
          return
        }
      }
    }
    function T() {
      ;(s = i = 0), w().catch(() => {})
    }
    function u(m) {
      n.retries++
      let f = Math.min(Et, Ht * 2 ** i++),
        p = jt(m) ?? f / 2 + Math.random() * (f / 2)
      ;(s = Date.now() + Math.ceil(p)), x(0)
    }
    let c = (m) => JSON.stringify({ site: t.site, key: t.key, sentAt: Date.now(), consent: t.consent, events: m }),
      g = (m) => fetch(`${t.endpoint}/events`, { method: 'POST', body: c(m), signal: AbortSignal.timeout?.(3e4) })
    async function R(m) {
      let f = new Set(m.map((p) => p.id))
      e = await E(et, (p = []) => p.filter((y) => !f.has(y.id)))
    }
    function O(m = []) {
      let f = new Set(e.map((p) => p.id))
      for (let p = [...e, ...m.filter((y) => !f.has(y.id))]; p.length > 0; ) {
        let y = St(p)
        ;(p = p.slice(y.length)),
          navigator.sendBeacon?.(`${t.endpoint}/events`, c(y)) ||
            fetch(`${t.endpoint}/events`, { method: 'POST', body: c(y), keepalive: !0 }).catch(() => {})
      }
    }
    function F() {
      ;(e = []), clearTimeout(r)
    }
    return [l, w, T, O, F, n]
  }
  function jt(t) {
    let n = t?.headers.get('Retry-After')
    if (!n) return
    let e = /^\d+$/.test(n) ? Number(n) * 1e3 : Date.parse(n) - Date.now()
    return Number.isFinite(e) ? Math.min(Et, Math.max(0, e)) : void 0
  }
  function St(t, n = Nt, e = 100) {
    let r = [],
      o = 200
    for (let i of t.slice(0, e)) {
      let s = JSON.stringify(i).length + 1
      if (r.length > 0 && o + s > n) break
      r.push(i), (o += s)
    }
    return r
  }
  var k =
    (t) =>
    (...n) => {
      try {
        Promise.resolve(t(...n)).catch(() => {})
      } catch {}
    }
  function xt(t) {
    let { endpoint: n, site: e, key: r } = t,
      o = t.consent ?? 'tracking-with-opt-out',
      i = (a, d) => fetch(`${n}/${a}`, { method: 'POST', body: JSON.stringify(d) }),
      s = () => Promise.all([S('ids'), S('profile')]),
      [l, x, w, A, T, u] = kt({
        endpoint: n,
        site: e ?? '',
        key: r ?? '',
        consent: o,
        flushAt: +t.flushAt || 10,
        flushInterval: +t.flushInterval || 2e3,
      }),
      c = Promise.resolve(),
      g = (a) => {
        let d = c.then(a)
        return ((c = d.catch(() => {})), d)
      },
      R = new Map(),
      O
    function F() {
      T(), R.clear(), (O = void 0)
    }
    let m = (a, d) =>
        E('ids', (h) => {
          let v = h ?? { anonymousId: L(), userId: null, sessionId: L(), lastActivity: a },
            b = a - v.lastActivity > vt ? L() : v.sessionId
          return { ...v, sessionId: b, lastActivity: a, ...d?.(v) }
        }).then((h) => (O = h)),
      f = nt(t.privacySignals === 'ignore'),
      p = null,
      y = 'off'
    async function H(a) {
      ;(p = a), (y = rt(o, f, a)), y !== 'full' && F(), await ut(y === 'full', 'consent')
    }
    function $(a, d) {
      let h = Date.now(),
        v = Q(),
        b = d,
        I = a === 'Order Completed' && b.order_id ? `order:${b.order_id}` : L(),
        X = ({ anonymousId: q, userId: _, sessionId: J }) => ({
          id: I,
          type: a,
          timestamp: h,
          anonymousId: q,
          userId: _,
          sessionId: J,
          context: v,
          properties: d,
        })
      return (
        O && y !== 'off' && R.set(I, X(O)),
        g(async () => {
          if (y === 'off') return void R.delete(I)
          let q = await m(h)
          await Pt(a, d)
          let _ = X(q)
          await E('profile', (J) => st(J ?? D(q.anonymousId), _)), await l(_), R.delete(I)
        })
      )
    }
    async function M() {
      let a = await S('link')
      if (!a) return
      ;(await i('identify', a)).status < 500 && (await mt('link'))
    }
    let K = {
      track: k((a, d) => $(a, d ?? {})),
      identify: k((a, d, h) =>
        g(async () => {
          if (typeof a != 'string' || !a || y !== 'full') return
          let v = await m(Date.now(), () => ({ userId: a }))
          await E('profile', (I) => ({ ...(I ?? D(v.anonymousId)), userId: a, traits: { ...I?.traits, ...d } }))
          let b = { site: e ?? '', key: r ?? '', anonymousId: v.anonymousId, userId: a, signatures: h }
          typeof d?.crmId == 'string' && (b.crmId = d.crmId),
            typeof d?.loyaltyId == 'string' && (b.loyaltyId = d.loyaltyId),
            typeof d?.email == 'string' && (b.emailHash = await ht(d.email.trim().toLowerCase())),
            await E('link', () => b),
            M().catch(() => {})
        }),
      ),
      reset: k(() =>
        g(async () => {
          let a = L()
          await m(Date.now(), () => ({ anonymousId: a, userId: null, sessionId: L() })), await E('profile', () => D(a))
        }),
      ),
      profile: () => g(async () => (await S('profile')) ?? D('')).catch(() => D('')),
      flush: () =>
        g(async () => {})
          .then(x)
          .catch(() => {}),
      decide: async (a) => {
        try {
          if ((await g(async () => {}), y === 'off')) return null
          let [d, h] = await s(),
            v = document.querySelector('[data-vista-view]')?.dataset,
            b = Q(),
            I = new Date(),
            X = {
              page: {
                type: document.body?.dataset.vistaPage,
                path: location.pathname,
                item: v?.vistaView,
                category: v?.vistaCategory,
              },
              cart: { ...at(h ?? D('')), items: Object.keys(h?.cart ?? {}) },
              device: b.device,
              time: { hour: I.getHours(), weekday: I.getDay() },
              referrer: b.page.referrer,
              utm: b.utm,
            },
            q = { site: e, key: r, anonymousId: d?.anonymousId, placement: a, context: X },
            _ = await i('decide', q)
          return _.ok ? await _.json() : null
        } catch {
          return null
        }
      },
      exportData: async () => {
        let [[a, d], h] = await g(() => Promise.all([s(), S('outbox')])),
          v = new URLSearchParams({ site: e ?? '', key: r ?? '', anonymousId: a?.anonymousId ?? '' }),
          b = await fetch(`${n}/privacy/export?${v}`)
            .then((I) => (I.ok ? I.json() : null))
            .catch(() => null)
        return { device: { ids: a, profile: d, outbox: h }, server: b }
      },
      forget: async () => {
        try {
          let a = await g(() => S('ids')),
            d = a ? await i('privacy/erase', { site: e, key: r, anonymousId: a.anonymousId }).catch(() => null) : null
          return a && !d?.ok
            ? !1
            : (await g(async () => {
                F(), await ft()
              }),
              !0)
        } catch {
          return !1
        }
      },
      recommend: async (a = {}) => {
        try {
          await g(async () => {})
          let [d, h] = await s(),
            v = Object.keys(h?.cart ?? {}).join(',')
          return await yt(n, { site: e, key: r, anonymousId: d?.anonymousId, cart: v }, a)
        } catch {
          return null
        }
      },
      consent: (a) =>
        g(async () => {
          if (typeof a?.tracking == 'boolean') {
            let d = { tracking: a.tracking, at: Date.now() }
            await Y('consent', d), await H(d)
          }
        })
          .then(() => {
            x().catch(() => {})
          })
          .catch(() => {})
          .then(() => ({ mode: o, level: y, choice: p, signal: f })),
      push: k((a) => {
        let [d, ...h] = a,
          v = K[d]
        typeof v == 'function' && d !== 'push' && v(...h)
      }),
      stats: u,
    }
    return (
      g(async () => {
        await H((await G('consent')) ?? null), y !== 'off' && (O = await S('ids'))
      })
        .then(() => Promise.all([x(), M()]))
        .catch(() => {}),
      addEventListener('online', k(w)),
      addEventListener(
        'pagehide',
        k(() => A([...R.values()])),
      ),
      document.addEventListener(
        'visibilitychange',
        k(() => document.visibilityState === 'hidden' && A([...R.values()])),
      ),
      K
    )
  }
  function Tt(t, n) {
    let e = n.action
    if (((t.dataset.vistaDecision = n.id), !e)) return ((t.hidden = !0), null)
    let r = P('a', 'vista-offer')
    if (((r.href = V(e.link) || '#'), V(e.image))) {
      let s = P('img', 'vista-offer-image')
      ;(s.src = V(e.image)), (s.alt = ''), r.append(s)
    }
    r.append(P('strong', 'vista-offer-title', e.title), P('span', 'vista-offer-text', e.text))
    let o = P('small', 'vista-why', `Why this? ${n.reasons.join('; ')}`),
      i = P('button', 'vista-dismiss', '\xD7')
    return (
      i.setAttribute('aria-label', 'Not interested'),
      t.replaceChildren(r, o, i),
      (t.hidden = !1),
      { link: r, dismiss: i }
    )
  }
  async function Rt(t, n) {
    let e = t.dataset,
      r = document.querySelector('[data-vista-view]')?.dataset,
      o = {
        strategy: e.strategy ?? 'for-you',
        limit: Number(e.limit) || 4,
        item: e.item ?? r?.vistaView,
        category: e.category ?? r?.vistaCategory ?? document.body?.dataset.vistaCategory,
      },
      i = await Z(o)
    i && !e.vistaFilled && tt(t, i, !0)
    let s = await n.recommend(o)
    !s ||
      s.id === i?.id ||
      (tt(t, s, !1),
      n.track('Recommendation Shown', {
        recommendation_id: s.id,
        product_ids: s.items.map((l) => l.id),
        slot: e.slotName ?? o.strategy,
        strategy: s.strategy,
      }))
  }
  async function It(t, n) {
    let e = t.dataset,
      r = await n.decide(e.placement ?? 'top')
    r || (e.vistaDecision = 'none')
    let o = r && Tt(t, r)
    if (!r?.action || !o) return
    let i = { decision_id: r.id, action_id: r.action.id, placement: r.placement }
    n.track('Offer Shown', i),
      o.link.addEventListener('click', () => n.track('Offer Accepted', i)),
      o.dismiss.addEventListener(
        'click',
        k(() => {
          ;(t.hidden = !0), n.track('Offer Dismissed', i)
        }),
      )
  }
  var U = (t) => (t && Number.isFinite(+t) ? +t : void 0)
  function W(t, n) {
    let e = t.dataset,
      r = { product_id: n }
    return (
      e.vistaName && (r.name = e.vistaName),
      e.vistaCategory && (r.category = e.vistaCategory),
      U(e.vistaPrice) !== void 0 && (r.price = U(e.vistaPrice)),
      U(e.vistaQuantity) !== void 0 && (r.quantity = U(e.vistaQuantity)),
      r
    )
  }
  function At(t) {
    let { track: n } = t,
      e = '',
      r = new Set(),
      o = new WeakSet(),
      i = new Set()
    function s() {
      let T = location.pathname + location.search
      if (T !== e) {
        e && ot(e), (e = T), (r = new Set()), (o = new WeakSet())
        let u = { name: document.title },
          c = document.body?.dataset.vistaPage
        c && (u.page_type = c), n('Page Viewed', u)
      }
      for (let u of document.querySelectorAll('[data-vista-view]')) {
        let c = u.dataset.vistaView
        r.has(c) || (r.add(c), n('Product Viewed', W(u, c)))
      }
      for (let u of document.querySelectorAll('[data-vista-slot]'))
        o.has(u) || (o.add(u), (u.dataset.vistaSlot === 'banner' ? It : Rt)(u, t).catch(() => {}))
      for (let u of document.querySelectorAll('[data-vista-order]')) {
        let c = u.dataset.vistaOrder
        if (i.has(c)) continue
        i.add(c)
        let g = [...u.querySelectorAll('[data-vista-line]')]
        n('Order Completed', {
          order_id: c,
          revenue: U(u.dataset.vistaRevenue) ?? 0,
          ...(u.dataset.vistaCurrency ? { currency: u.dataset.vistaCurrency } : {}),
          products: g.map((R) => W(R, R.dataset.vistaLine)),
        })
      }
    }
    let l,
      x = k(() => {
        clearTimeout(l), (l = setTimeout(k(s), 0))
      })
    function w(T) {
      let u = T.target?.closest?.('[data-vista-add],[data-vista-remove],[data-vista-rate],[data-vista-rec]')
      if (!u) return
      let c = u.dataset
      c.vistaRec && c.vistaProduct
        ? (n('Recommendation Clicked', {
            recommendation_id: c.vistaRec,
            product_id: c.vistaProduct,
            position: Number(c.vistaPosition),
          }),
          wt(c.vistaProduct, c.vistaRec).catch(() => {}))
        : c.vistaAdd
          ? n('Product Added', W(u, c.vistaAdd))
          : c.vistaRemove
            ? n('Product Removed', W(u, c.vistaRemove))
            : c.vistaRate &&
              U(c.vistaRating) &&
              n('Product Reviewed', { product_id: c.vistaRate, rating: U(c.vistaRating) })
    }
    for (let T of ['pushState', 'replaceState']) {
      let u = history[T]
      history[T] = function (...c) {
        let g = u.apply(this, c)
        return (x(), g)
      }
    }
    addEventListener('popstate', x),
      document.addEventListener('click', k(w), !0),
      new MutationObserver(x).observe(document.documentElement, {
        childList: !0,
        subtree: !0,
        attributes: !0,
        attributeFilter: ['data-vista-view', 'data-vista-order', 'data-vista-slot'],
      })
    let A = performance.getEntriesByType?.('navigation')[0]
    document.readyState === 'loading' || (A && !A.domContentLoadedEventStart)
      ? document.addEventListener('DOMContentLoaded', x)
      : s()
  }
  var Vt = document.currentScript,
    Ct = Vt?.dataset ?? {}
  k(() => {
    let t = xt({ ...Ct, endpoint: Ct.endpoint ?? new URL('/v1', Vt?.src || location.href).href }),
      n = window.vista
    ;(window.vista = t), At(t), Array.isArray(n) && n.forEach(t.push)
  })()
})()
