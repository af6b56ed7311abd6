// Tailor's loader: it starts tailor.wasm, feeds it the page's signals,
// fills the page's slots with its rankings, keeps the profile on the
// device and syncs profile deltas. Whatever fails, the page keeps its
// default content and the site's scripts see no error: every entry point
// catches, and no promise of ours rejects.

import { encode, decode } from './msgpack.js'
import { load } from './engine.js'
import { manifest, bytes, shardOf } from './model.js'
import * as store from './store.js'
import { scan } from './scan.js'
import { SLOT, names, named, item, fits, fromElement, fromGA, byId, mainItems, query, pageType, device, referrer } from './page.js'

const ITEM = 'data-tailor-item'
const VARIANT = 'data-tailor-variant'
const PRIVACY = ['local', 'federated', 'federated+ldp']
const KINDS = ['page', 'view', 'dwell', 'scroll', 'search', 'click', 'cart', 'purchase']

let o // options of start
let call // the engine (engine.js), once started; null when it failed
let granted // consent to store and sync
let privacy = 'local'
let ldp // federated+ldp: ε per delta and per day (wire.Config eps, budget; default 4 deltas' worth)
let mode = 'ai'
let modeSet // mode chosen through the API before the stored one was read
let version = 0
let stamp = 0 // when the profile in memory was saved or loaded
let model // the manifest (model.js)
let page = {} // context parts that hold for this page view
let main // the page's main item, for scroll depth
let ready$
let live // the engine is ready and the page's slots were ranked once
const queue = [] // events before the engine is ready
const held = [] // events while consent is required and not given, replayed on consent
const last = new Map() // item id → its last ranking, for explain
const viewed = new Set() // items viewed on this page view
const ranked = new WeakSet() // slots ranked at least once
const hidden = new Map() // slot → its inline visibility, while hidden against flicker
const shards = new Map() // shard index → Promise of {v, b}
let chain = Promise.resolve() // applications of weights, one at a time

const ready = new Promise((r) => (ready$ = r))
const log = (...a) => o?.debug && console.debug('tailor:', ...a)
const quiet = (p) => (p.catch(log), p)
const pause = () => new Promise((r) => setTimeout(r))
const all = (sel, root = document) => [...root.querySelectorAll(sel)]
const clamp = (x, max) => Math.max(0, Math.min(max, Math.round(+x) || 0))

// die stops using the engine (a trap leaves it unusable) and shows every slot.
function die(e) {
  log(e)
  call = null
  hide.done = 1
  ;[...hidden.keys()].forEach(reveal)
}

// guard runs f, turning any exception into a log line (and a dead engine
// when the guest trapped).
function guard(f, ...a) {
  try {
    return f(...a)
  } catch (e) {
    e instanceof WebAssembly.RuntimeError ? die(e) : log(e)
  }
}

/** start boots Tailor once; the script tag calls it with its data
 * attributes, an ES module user with options (see tailor.d.ts). */
export function start(opts) {
  if (!o)
    guard(() => {
      o = opts
      performance.mark('tailor:start')
      o.site = fits(o.site || '') || 'site'
      granted = o.consent != 'required'
      all('[' + SLOT + ']').forEach(hide)
      // Slots the parser (or an app) adds later: hidden until the engine
      // is ready, then ranked before they paint.
      new MutationObserver((ms) =>
        ms.forEach((m) =>
          m.addedNodes.forEach((n) => {
            if (n.nodeType == 1)
              for (const s of n.matches('[' + SLOT + ']') ? [n] : all('[' + SLOT + ']', n)) ranked.has(s) || (live ? rankSlot(s) : hide(s))
          })
        )
      ).observe(document.documentElement, { childList: true, subtree: true })
      setTimeout(() => {
        hide.done = 1
        ;[...hidden.keys()].forEach(reveal)
      }, +o.timeout || 300)
      boot().catch(die).finally(() => ready$(tailor))
    })
  return ready
}

async function boot() {
  const rec = granted ? store.get(o.site) : null
  model = await manifest(o.origin, o.site).catch(log)
  const eng = quiet(load(o.wasm || model?.wasm || o.origin + '/tailor.wasm', o.debug))
  const cfg = quiet(model?.config ? bytes(model.config) : Promise.reject())
  await new Promise((r) => (document.readyState == 'loading' ? document.addEventListener('DOMContentLoaded', r) : r()))
  const saved = await rec
  // Shards of the page's items and of the items the profile remembers
  // (all of them when the model is small) download while wasm compiles.
  const ids = all('[' + ITEM + ']').map((e) => e.getAttribute(ITEM))
  guard(() => {
    const p = decode(saved.p)
    for (const t of [p.session, p.history, p.purchases]) for (const [k] of t) ids.push(k.split('\0')[0])
  })
  fetchShards(ids)
  call = await eng
  await pause()
  configure(await cfg.catch(() => 0))
  if (saved) {
    saved.p && guard(call, 'load_profile', saved.p)
    restore(saved)
  }
  await (chain = applyShards())
  visit()
  listen()
  queue.splice(0).forEach(track)
  live = 1
  rankAll()
}

// configure initializes the device with the site's configuration, or,
// without one, a local configuration from the script tag. The device draws
// its randomness from crypto.getRandomValues itself (WASI random_get).
function configure(cfg) {
  try {
    const c = decode(cfg)
    privacy = c.privacy
    call('init', cfg)
    ldp = { epsilon: c.eps, budget: c.budget || 4 * c.eps }
  } catch {
    privacy = PRIVACY.includes(o.privacy) ? o.privacy : 'local'
    const unit = (x) => Math.min(1, Math.max(0, +x || 0))
    const eps = +o.epsilon > 0 ? +o.epsilon : 1
    call('init', encode({ schema: 1, site: o.site, privacy, eps, explore: unit(o.explore) }))
    ldp = { epsilon: eps, budget: 4 * eps }
  }
}

// restore takes names, mode and time from a stored record.
function restore(rec) {
  stamp = rec.t
  guard(() => rec.n.forEach(([id, n]) => named(id, n)))
  if (!modeSet && (rec.m == 'ai' || rec.m == 'rules')) mode = rec.m
}

// fetchShards starts downloading the model shards that hold ids (every
// shard when the model is small); it reports whether any was new.
function fetchShards(ids) {
  const m = model
  if (!m || !m.shards.length) return
  const want = new Set(ids.map((id) => shardOf(id, m.count)))
  let n = 0
  for (const s of m.shards)
    if (!shards.has(s.index) && (m.count <= 1 || m.bytes <= 1 << 20 || want.has(s.index)))
      n = shards.set(s.index, quiet(bytes(s.url).then((b) => ({ v: s.version, b }))))
  return n
}

// applyShards (re)applies every shard held, in ascending version as the
// manifest asks, a task each so that no long task blocks the page.
async function applyShards() {
  const got = (await Promise.all([...shards.values()].map((p) => p.catch(() => 0)))).filter(Boolean)
  for (const s of got.sort((a, b) => a.v - b.v)) {
    if (call) guard(call, 'weights', s.b)
    await pause()
  }
}

// need fetches the shards of ids not held yet, then re-ranks.
function need(ids) {
  if (fetchShards(ids)) return (chain = chain.then(applyShards).then(rankAll, log))
}

// ---- signals ----

// cx is the wire.Context of now.
function cx() {
  const d = new Date()
  return { h: d.getHours(), d: d.getDay(), m: d.getMonth() + 1, dv: page.dv, rf: page.rf, pg: page.pg, rg: fits(o.region || '') }
}

// send tracks one wire.Event (kind k, item it, ...), or queues it until
// the engine is ready.
function send(e) {
  e.ts = Date.now()
  call ? track(e) : call !== null && queue.length < 100 && queue.push(e)
}

function track(e) {
  if (!call) return
  e.cx ||= cx()
  guard(call, 'track', encode(e))
  if (!granted && held.length < 300) held.push(e)
  saveSoon()
}

// visit reads a page view: the page, its own items, a site search.
function visit() {
  page = { dv: device(), rf: referrer(), pg: pageType() }
  viewed.clear()
  send({ k: 'page' })
  main = null
  for (const [it, el] of mainItems()) {
    main ||= it
    if (!viewed.has(it.i)) viewed.add(it.i), send({ k: 'view', it })
    watch(el || document.documentElement, it) // JSON-LD only: the page's visible time
  }
  const q = query()
  q && send({ k: 'search', q })
}

// An interaction (click, cart, purchase): keep it even if the page is
// about to unload, and re-rank.
function interacted() {
  save()
  clearTimeout(interacted.t)
  interacted.t = setTimeout(rankAll, 30)
}

// Dwell: the visible time of the page's own items (IntersectionObserver),
// sent as a dwell event of at least 2 s when the page is left.
let io
const dwell = new Map() // element → {it, on, since, total}
function watch(el, it) {
  io ||= new IntersectionObserver(
    (es) =>
      es.forEach((e) => {
        const d = dwell.get(e.target)
        if (d) (d.on = e.isIntersecting && e.intersectionRect.height >= Math.min(e.boundingClientRect.height, innerHeight) / 2), tick(d)
      }),
    { threshold: [0, 0.25, 0.5, 0.75, 1] }
  )
  dwell.set(el, { it, total: 0 })
  io.observe(el)
}
function tick(d) {
  const now = performance.now()
  if (d.since) d.total += now - d.since
  d.since = d.on && !document.hidden && now
}

// Scroll depth: the deepest point read, in percent of the page.
let depth = 0
let sent = 0
let busy
function scrolled() {
  busy ||= requestAnimationFrame(() => {
    busy = 0
    const h = document.documentElement.scrollHeight
    depth = Math.max(depth, Math.min(100, Math.round(((scrollY + innerHeight) / h) * 100)))
  })
}

// flush sends what was measured over time (dwell, scroll) so far.
function flush() {
  dwell.forEach((d) => {
    tick(d)
    if (d.total >= 2000) send({ k: 'dwell', it: d.it, dw: clamp(d.total, 864e5) }), (d.total = 0)
  })
  if (main && depth > sent) send({ k: 'scroll', it: main, sc: (sent = depth) })
}

// GA4 dataLayer: ecommerce events, as objects or gtag() arguments.
const GA = { view_item: 'view', select_item: 'click', add_to_cart: 'cart', purchase: 'purchase' }
function layer(x) {
  guard(() => {
    const [name, p] = x[0] == 'event' ? [x[1], x[2]] : [x.event, x.ecommerce]
    if (name == 'search' && p?.search_term) return send({ k: 'search', q: String(p.search_term).slice(0, 80) })
    const k = GA[name]
    if (!k || !p) return
    for (const g of [].concat(p.items || []).slice(0, 50)) {
      const it = fromGA(g)
      if (it && !(k == 'view' && viewed.has(it.i))) viewed.add(it.i), send({ k, it })
    }
    k != 'view' && interacted()
  })
}

// drain reads the dataLayer's new entries. Another script (a tag manager)
// may replace push after us: drain also runs after clicks and when the
// page is left, so its entries are read anyway.
let dl
let read = 0
function drain() {
  while (dl && read < dl.length) layer(dl[read++])
}

function listen() {
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
  dl = window.dataLayer ||= []
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
    dwell.forEach(tick)
    document.hidden ? leave() : refresh()
  })
  addEventListener('pagehide', leave)
  // Back to a page (restored from the back/forward cache, or loaded
  // again): the page that was left may still be writing its profile (a
  // busy machine took over 3 s), so look again for a while.
  const again = () => [0, 500, 1500, 3000, 6000, 12000].forEach((t) => setTimeout(refresh, t))
  addEventListener('pageshow', (e) => e.persisted && again())
  performance.getEntriesByType?.('navigation')[0]?.type == 'back_forward' && again()
  setInterval(sync, 60000)
}

function navigated() {
  clearTimeout(navigated.t)
  navigated.t = setTimeout(guard, 50, () => {
    flush()
    io?.disconnect()
    dwell.clear()
    depth = sent = 0
    visit()
    need(all('[' + ITEM + ']').map((e) => e.getAttribute(ITEM)))
    rankAll()
  })
}

// refresh takes the stored profile when it is newer than the one in
// memory: another tab, or the pages visited since this one went into the
// back/forward cache, learned more, and saving ours would lose that.
// A record without a profile is what forget() leaves: forget here too.
async function refresh() {
  const rec = granted && (await store.get(o.site))
  if (call && rec?.t > stamp) guard(() => (rec.p ? call('load_profile', rec.p) : wipe(), restore(rec), rankAll()))
}

// wipe forgets the visitor in memory.
function wipe() {
  names.clear()
  last.clear()
  held.length = queue.length = 0
  call?.('forget')
}

function leave() {
  drain()
  flush()
  sync()
  save()
}

// ---- storage and sync ----

function saveSoon() {
  save.t ||= setTimeout(save, 1000)
}

function save() {
  clearTimeout(save.t)
  save.t = 0
  if (call && granted)
    guard(() => {
      const p = call('save_profile')
      p.length < 1 << 16 && store.put(o.site, { p, n: [...names], m: mode, t: (stamp = Date.now()) })
    })
}

const syncing = () => granted && privacy != 'local' && !navigator.globalPrivacyControl

// sync sends the profile delta, if any, to {origin}/v1/sync: a text/plain
// body, so that no CORS preflight is needed.
function sync() {
  if (call && syncing())
    guard(() => {
      const d = call('take_delta')
      if (!d.length) return
      const url = o.origin + '/v1/sync'
      const body = new Blob([d], { type: 'text/plain' })
      navigator.sendBeacon?.(url, body) || quiet(fetch(url, { method: 'POST', body, keepalive: true, mode: 'no-cors', credentials: 'omit' }))
      save()
    })
}

// ---- ranking and slots ----

// rank asks the engine to order wire.Items; without an engine, the
// site's own order comes back.
// rerank: the items were shown before in this page view (not new
// impressions for the uplift report).
function rank(slot, items, limit, m = mode, rerank = false) {
  const req = { s: fits(slot) || 'slot', c: items.slice(0, 5000), l: limit, ts: Date.now(), cx: cx(), m, rr: rerank }
  const res = call && guard(() => decode(call('rank', encode(req))))
  const out = res
    ? res.items.map(([id, score, source, reason, ref]) => ({ id, score, source, reason, ref }))
    : items.slice(0, limit || 1e4).map((it) => ({ id: it.i, score: 0, source: 'default', reason: '', ref: '' }))
  if (last.size > 5000) last.clear()
  out.forEach((r) => last.set(r.id, r))
  version = res?.v ?? version
  res && saveSoon()
  return { slot, items: out, arm: res?.arm || '', version }
}

function fire(detail) {
  document.dispatchEvent(new CustomEvent('tailor:ranked', { detail }))
}

function rankAll() {
  call && all('[' + SLOT + ']').forEach(rankSlot)
}

// units returns a slot's [unit, item element] pairs: elements with attr
// inside the slot (not a nested one), each with the slot's child holding it.
function units(s, attr) {
  const seen = new Set()
  return all('[' + attr + ']', s).flatMap((el) => {
    let u = el
    while (u.parentElement != s) u = u.parentElement
    if (el.closest('[' + SLOT + ']') != s || seen.has(u)) return []
    seen.add(u)
    return [[u, el.hasAttribute(ITEM) ? el : el.querySelector('[' + ITEM + ']')]]
  })
}

// rankSlot orders a slot's items, or shows its best variant, and marks
// each ranked element with its reason, source and ref.
function rankSlot(s) {
  const rerank = ranked.has(s)
  ranked.add(s)
  guard(() => {
    if (!call) return
    const vs = units(s, VARIANT)
    const us = vs.length ? vs : units(s, ITEM)
    const by = new Map()
    const items = []
    for (const [u, el] of us) {
      const it = el && fromElement(el)
      if (it && !by.has(it.i)) by.set(it.i, [u, el]), items.push(it)
    }
    if (!items.length) return
    const r = rank(s.getAttribute(SLOT), items, vs.length ? 1 : clamp(s.getAttribute('data-tailor-limit'), 5000), mode, rerank)
    const top = r.items.map((x) => by.get(x.id)).filter(Boolean)
    const shown = new Set(top.map((x) => x[0]))
    if (!vs.length) order(s, us.map((x) => x[0]), [...shown, ...us.map((x) => x[0]).filter((u) => !shown.has(u))])
    us.forEach(([u]) => (u.hidden = !shown.has(u)))
    r.items.forEach((x) => {
      const el = by.get(x.id)?.[1]
      el && ['source', 'reason', 'ref'].forEach((k) => el.setAttribute('data-tailor-' + k, x[k]))
    })
    fire({ ...r, element: s })
  })
  reveal(s)
}

// order moves a slot's units from the order cur to seq, each into a
// place a unit held, so that other children keep theirs.
function order(s, cur, seq) {
  if (cur.every((u, i) => u == seq[i])) return
  const marks = cur.map((u) => u.parentNode.insertBefore(document.createComment(''), u))
  seq.forEach((u, i) => marks[i].after(u))
  marks.forEach((m) => m.remove())
}

// Anti-flicker: a slot (never the body) stays hidden until ranked, for
// at most the timeout; on a page already loaded, nothing is hidden.
function hide(s) {
  if (document.readyState != 'complete' && !hide.done && !hidden.has(s) && !ranked.has(s))
    hidden.set(s, s.style.visibility), s.classList.add('tailor-loading'), (s.style.visibility = 'hidden')
}

function reveal(s) {
  if (hidden.has(s)) {
    s.style.visibility = hidden.get(s)
    hidden.delete(s)
    s.classList.remove('tailor-loading')
  }
}

// ---- the API ----

// toItem reads an item given to the API: an id (described by the page's
// element for it, if any) or {id, category, tags, price, name}.
function toItem(x) {
  if (x && typeof x == 'object') return item(x.id, x.category, x.tags, x.price, x.name)
  const el = x != null && byId(String(x))
  return el ? fromElement(el) : item(x)
}

const WHY = {
  session: 'Because you viewed %',
  history: 'Because you viewed % on an earlier visit',
  repeat: 'Because you viewed it recently',
  affinity: 'Because you like #',
  search: 'Because you searched for "#"',
  popular: 'Popular with other visitors',
  rule: 'Recommended by the store',
  replenish: 'Time for a refill? You bought %',
  explore: 'Something new to discover',
}

const rows = (t, f) =>
  (t || []).map(([k, w, ts]) => ({ ...f(...k.split('\0')), weight: Math.round(w * 1e3) / 1e3, time: new Date(ts).toISOString() }))
const TRAITS = { cat: 'category', tag: 'tag', price: 'price band', q: 'search' }

/** tailor is the public API (window.tailor, and the ES module's exports). */
export const tailor = {
  ready,

  async rank(items, opts) {
    await ready
    opts = Object(opts)
    const src = new Map()
    const its = []
    guard(() => {
      for (const x of items) {
        const it = toItem(x)
        if (it && !src.has(it.i)) src.set(it.i, x), its.push(it)
      }
    })
    await need(its.map((it) => it.i))
    return (
      guard(() => {
        const m = opts.mode == 'rules' || opts.mode == 'ai' ? opts.mode : mode
        const r = rank(String(opts.slot || 'api'), its, clamp(opts.limit, 5000), m)
        const out = r.items.map((x) => ({ ...(typeof src.get(x.id) == 'object' ? src.get(x.id) : {}), ...x }))
        fire({ ...r, items: out })
        return out
      }) || []
    )
  },

  track(e) {
    guard(() => {
      const k = e.kind
      const it = e.item != null ? toItem(e.item) : null
      if (!KINDS.includes(k) || (!it && !/page|scroll|search/.test(k))) return
      send({ k, it, dw: clamp(e.dwell, 864e5), sc: clamp(e.scroll, 100), q: String(e.query || '').slice(0, 80) })
      if (/click|cart|purchase/.test(k)) interacted()
    })
  },

  set(attrs) {
    guard(() => {
      const a = {}
      Object.entries(attrs)
        .filter(([k]) => fits(k))
        .slice(0, 32)
        .forEach(([k, v]) => (a[k] = v == null ? '' : String(v).slice(0, 80)))
      send({ k: 'attrs', a })
    })
  },

  explain(id) {
    const r = last.get(String(id))
    const t = r && WHY[r.reason]
    if (!t) return ''
    if (!r.ref && /[%#]/.test(t)) return 'Because it matches your interests'
    return t.replace('%', () => names.get(r.ref) || r.ref).replace('#', () => r.ref.replace(/[-_]+/g, ' '))
  },

  async profile() {
    await ready
    const out = {
      mode,
      model: version,
      privacy,
      storage: granted && (await store.usable()) ? 'indexeddb' : 'memory',
      sync: !!(call && syncing()),
    }
    return (
      guard(() => {
        const p = decode(call('save_profile'))
        const it = (id, category) => ({ item: id, name: names.get(id), category })
        return Object.assign(out, {
          visits: p.visits,
          lastSeen: p.last ? new Date(p.last).toISOString() : null,
          holdout: p.holdout,
          session: rows(p.session, it),
          history: rows(p.history, it),
          interests: rows(p.traits, (k) => ({ kind: TRAITS[k.split(':')[0]], value: k.slice(k.indexOf(':') + 1) })),
          facts: rows(p.facts, (fact) => ({ fact })),
          purchases: rows(p.purchases, it),
          transitions: rows(p.links, (from, to) => ({ from, to })),
          attributes: p.attrs,
          shown: p.shown,
          clicked: p.clicked,
          // what the next sync would report: items and how many transitions
          pending: { items: Object.keys(p.pending?.[1] || {}), transitions: Object.keys(p.pending?.[0] || {}).length },
          // federated+ldp: the privacy budget spent today (UTC) of the day's
          ldp:
            privacy == 'federated+ldp' && ldp
              ? { ...ldp, spent: p.eps?.[0] == Math.floor(Date.now() / 864e5) ? p.eps[1] : 0 }
              : undefined,
        })
      }) || out
    )
  },

  async forget() {
    await ready
    clearTimeout(save.t)
    guard(wipe)
    // A record with nothing but its time, so that other pages forget too.
    await (granted ? store.put(o.site, { t: (stamp = Date.now()) }) : store.del(o.site))
    rankAll()
  },

  consent(g) {
    g = !!g
    if (!o || g == granted) return
    granted = g
    if (!g) return void store.del(o.site)
    // Granted: the profile stored before, then what this page saw.
    ready.then(async () => {
      const rec = await store.get(o.site)
      if (call && rec?.p && guard(call, 'load_profile', rec.p)) restore(rec), held.forEach(track)
      held.length = 0
      save()
      rankAll()
    }).catch(log)
  },

  mode(m) {
    if ((m == 'ai' || m == 'rules') && m != mode) {
      mode = m
      modeSet = 1
      save()
      rankAll()
    }
    return mode
  },

  /** scan returns the products the page shows as it is: see scan.js. */
  scan: () => scan(document),

  // push runs a queued call: [name, ...args] or a function of tailor.
  push(x) {
    guard(() => (typeof x == 'function' ? ready.then(x).catch(log) : tailor[x[0]](...x.slice(1))))
  },
}
