// Signals: what the visitor does on the page (views, clicks, dwell,
// scroll depth, site search, the dataLayer's ecommerce events), sent to
// the engine as wire.Events.

import { encode } from './msgpack.js'
import { ITEM, fits, fromElement, fromGA, mainItems, query, pageType, device, referrer } from './page.js'
import { st, guard, clamp, later } from './state.js'
import { rankAll } from './slots.js'
import { save, saveSoon, sync, refresh } from './sync.js'
import { need, items } from './boot.js'

// cx is the wire.Context of now.
export function cx() {
  const d = new Date()
  const p = st.page
  return { h: d.getHours(), d: d.getDay(), m: d.getMonth() + 1, dv: p.dv, rf: p.rf, pg: p.pg, rg: fits(st.o.region || '') }
}

// send tracks one wire.Event (kind k, item it, ...), or queues it until
// the engine is ready.
export function send(e) {
  e.ts = Date.now()
  st.call ? track(e) : st.call !== null && st.queue.length < 100 && st.queue.push(e)
}

export function track(e) {
  if (!st.call) return
  e.cx ||= cx()
  guard(st.call, 'track', encode(e))
  st.held.length < 300 && st.held.push(e)
  saveSoon()
}

// visit reads a page view: the page, its own items, a site search.
export function visit() {
  st.page = { dv: device(), rf: referrer(), pg: pageType() }
  st.viewed.clear()
  send({ k: 'page' })
  st.main = null
  for (const [it, el] of mainItems()) {
    st.main ||= it
    if (!st.viewed.has(it.i)) st.viewed.add(it.i), send({ k: 'view', it })
    watch(el || document.documentElement, it) // JSON-LD only: the page's visible time
  }
  const q = query()
  q && send({ k: 'search', q })
  st.onvisit?.()
  // Saved once the slots are ranked (the next task), not a second later:
  // Chromium freezes a page going into the back/forward cache before the
  // writes of its pagehide reach IndexedDB, and the pages after it would
  // not see this view until it came back.
  later('save', save)
}

// An interaction (click, cart, purchase): keep it even if the page is
// about to unload, and re-rank.
export function interacted() {
  save()
  later('rank', rankAll, 30)
}

// Dwell: the visible time of the page's own items (IntersectionObserver),
// sent as a dwell event of at least 2 s when the page is left.
function watch(el, it) {
  st.io ||= new IntersectionObserver(
    (es) =>
      es.forEach((e) => {
        const d = st.dwell.get(e.target)
        if (d) (d.on = e.isIntersecting && e.intersectionRect.height >= Math.min(e.boundingClientRect.height, innerHeight) / 2), tick(d)
      }),
    { threshold: [0, 0.25, 0.5, 0.75, 1] }
  )
  st.dwell.set(el, { it, total: 0 })
  st.io.observe(el)
}
function tick(d) {
  const now = performance.now()
  if (d.since) d.total += now - d.since
  d.since = d.on && !document.hidden && now
}

// Scroll depth: the deepest point read, in percent of the page.
function scrolled() {
  st.busy ||= requestAnimationFrame(() => {
    st.busy = 0
    const h = document.documentElement.scrollHeight
    st.depth = Math.max(st.depth, Math.min(100, Math.round(((scrollY + innerHeight) / h) * 100)))
  })
}

// flush sends what was measured over time (dwell, scroll) so far.
function flush() {
  st.dwell.forEach((d) => {
    tick(d)
    if (d.total >= 2000) send({ k: 'dwell', it: d.it, dw: clamp(d.total, 864e5) }), (d.total = 0)
  })
  if (st.main && st.depth > st.sent) send({ k: 'scroll', it: st.main, sc: (st.sent = st.depth) })
}

// GA4 dataLayer: ecommerce events, as objects or gtag() arguments.
const GA = { view_item: 'view', select_item: 'click', add_to_cart: 'cart', purchase: 'purchase' }
function layer(x) {
  guard(() => {
    st.ua?.(x)
    const [name, p] = x[0] == 'event' ? [x[1], x[2]] : [x.event, x.ecommerce]
    if (name == 'search' && p?.search_term) return send({ k: 'search', q: String(p.search_term).slice(0, 80) })
    const k = GA[name]
    if (!k || !p) return
    for (const g of [].concat(p.items || []).slice(0, 50)) {
      const it = fromGA(g)
      if (it && !(k == 'view' && st.viewed.has(it.i))) st.viewed.add(it.i), send({ k, it })
    }
    k != 'view' && interacted()
  })
}

// drain reads the dataLayer's new entries. Another script (a tag manager)
// may replace push after us: drain also runs after clicks and when the
// page is left, so its entries are read anyway.
function drain() {
  while (st.dl && st.read < st.dl.length) layer(st.dl[st.read++])
}

export function listen() {
  addEventListener('scroll', scrolled, { passive: true })
  document.addEventListener('click', (e) =>
    guard(() => {
      const el = e.target.closest?.('[' + ITEM + ']')
      const it = el && !e.target.closest('[data-tailor-ignore]') && fromElement(el)
      if (it) send({ k: 'click', it }), interacted()
      setTimeout(drain) // entries pushed by a push that is not ours (see below)
    })
  )
  // The dataLayer: entries already there, then each push.
  const dl = (st.dl = window.dataLayer ||= [])
  const push = dl.push
  drain()
  dl.push = function (...a) {
    const r = push.apply(this, a)
    drain()
    return r
  }
  // SPA navigation: the History API and back/forward.
  for (const k of ['pushState', 'replaceState']) {
    const f = history[k]
    history[k] = function (...a) {
      const url = location.href.split('#')[0]
      const r = f.apply(this, a)
      url != location.href.split('#')[0] && navigated()
      return r
    }
  }
  addEventListener('popstate', navigated)
  document.addEventListener('visibilitychange', () => {
    st.dwell.forEach(tick)
    document.hidden ? leave() : refresh()
  })
  addEventListener('pagehide', leave)
  // A page loaded (boot has just read the profile) or restored from the
  // back/forward cache (read it now): the page that was left, or another
  // tab, may still be writing its profile, so look again for a while. (A
  // first visit's page left before IndexedDB created the database wrote
  // nothing: no look finds it, RATIONALE.md. The attribute that
  // TestContextReachesRules lost under load was that, not a late write.)
  const again = () => [500, 1500, 3000, 6000, 12000].forEach((t) => setTimeout(refresh, t))
  addEventListener('pageshow', (e) => e.persisted && (refresh(), again()))
  again()
  setInterval(sync, 60000)
}

function navigated() {
  later('nav', () =>
    guard(() => {
      flush()
      st.io?.disconnect()
      st.dwell.clear()
      st.depth = st.sent = 0
      visit()
      need(items())
      rankAll()
    }), 50)
}

function leave() {
  drain()
  flush()
  sync()
  save()
}
