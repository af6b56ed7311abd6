// The API: window.tailor (script.js) and the ES module's exports
// (index.js), documented in tailor.d.ts. Every method catches, and no
// promise of ours rejects.

import * as storage from './storage.js'
import { names, fits, item, fromElement, byId } from './page.js'
import { extra, details } from './chunk.js'
import { st, ready, log, guard, clamp } from './state.js'
import { rank, fire, rankAll } from './slots.js'
import { send, interacted } from './signals.js'
import { save, take, wipe, syncing } from './sync.js'
import { need } from './boot.js'

const KINDS = ['page', 'view', 'dwell', 'scroll', 'search', 'click', 'cart', 'purchase']

// toItem reads an item given to the API: an id (described by the page's
// element for it, if any) or {id, category, tags, price, name}.
export function toItem(x) {
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
        const m = opts.mode == 'rules' || opts.mode == 'ai' ? opts.mode : st.mode
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
    const r = st.last.get(String(id))
    const t = r && WHY[r.reason]
    if (!t) return ''
    if (!r.ref && /[%#]/.test(t)) return 'Because it matches your interests'
    return t.replace('%', () => names.get(r.ref) || r.ref).replace('#', () => r.ref.replace(/[-_]+/g, ' '))
  },

  async profile() {
    await ready
    const out = {
      mode: st.mode,
      model: st.version,
      privacy: st.privacy,
      storage: st.granted && (await storage.usable()) ? 'indexeddb' : 'memory',
      sync: !!(st.call && syncing()),
    }
    // The rest, from a chunk of its own (details.js).
    const x = st.call && (await details())
    return (x && guard(x.profile, out)) || out
  },

  async forget() {
    await ready
    clearTimeout(st.timers.save)
    guard(wipe)
    // A record with nothing but its time, so that other pages forget too.
    await (st.granted ? storage.put(st.o.site, { t: (st.stamp = Date.now()) }) : storage.del(st.o.site))
    rankAll()
  },

  consent(g) {
    g = !!g
    if (!st.o || g == st.granted) return
    st.granted = g
    if (!g) return void storage.del(st.o.site)
    // Granted: the profile stored before, then what this page saw.
    ready
      .then(async () => {
        const rec = await storage.get(st.o.site)
        rec?.p && take(rec) // without an engine, take does nothing
        save()
        rankAll()
      })
      .catch(log)
  },

  mode(m) {
    if ((m == 'ai' || m == 'rules') && m != st.mode) {
      st.mode = m
      st.modeSet = 1
      save()
      rankAll()
    }
    return st.mode
  },

  /** scan returns the products the page shows as it is (scan.js, in the chunk). */
  async scan() {
    await ready
    return (await extra())?.scan() || { main: null, items: [], grids: [], events: [] }
  },

  // push runs a queued call: [name, ...args] or a function of tailor.
  push(x) {
    guard(() => (typeof x == 'function' ? ready.then(x).catch(log) : tailor[x[0]](...x.slice(1))))
  },
}
