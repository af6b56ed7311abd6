// Boot: start reads the options, hides the page's slots against flicker,
// then boot fetches the manifest, tailor.wasm and the weights, restores
// the stored profile, reads the page view and ranks the slots.

import { encode, decode } from './msgpack.js'
import { load } from './engine.js'
import { manifest, bytes, shardOf } from './model.js'
import * as storage from './storage.js'
import { ITEM, SLOT, fits } from './page.js'
import { st, ready, settle, log, quiet, pause, all, guard, die, mark } from './state.js'
import { hide, reveal, rankSlot, rankAll } from './slots.js'
import { visit, listen, track } from './signals.js'
import { restore } from './sync.js'
import { tailor } from './api.js'
import { extra } from './chunk.js'

const PRIVACY = ['local', 'federated', 'federated+ldp']

// REMEMBER bounds the items of the stored profile whose shards a page
// view requests: whoever serves shards (the operator, a CDN) logs them by
// address and time, and each names a bucket of the catalogue the visitor
// looked at (~40 items of 40,000). The page's own items the site sees
// anyway; of the profile, only the REMEMBER that weigh most in the
// ranking: this visit's newest (a session item's vote falls as 1/(1+2k)
// with k items after it), then earlier visits' and purchases' by weight.
// The rest rank on this page without their neighbours: on yoochoose-100k
// HR@20 .5639 -> .5637, MRR@20 .3468 -> .3465 (build/replay's remember
// models it). PRIVACY.md; sdk/js TestShardsRevealFewRememberedItems.
const REMEMBER = 4

/** start boots Tailor once; the script tag calls it with its data
 * attributes, an ES module user with options (see tailor.d.ts). */
export function start(opts) {
  if (!st.o)
    guard(() => {
      const o = (st.o = opts)
      mark('start')
      o.site = fits(o.site || '') || 'site'
      st.granted = o.consent != 'required'
      all('[' + SLOT + ']').forEach(hide)
      // Slots the parser (or an app) adds later: hidden until the engine
      // is ready, then ranked before they paint.
      new MutationObserver((ms) =>
        ms.forEach((m) =>
          m.addedNodes.forEach((n) => {
            if (n.nodeType == 1)
              for (const s of n.matches('[' + SLOT + ']') ? [n] : all('[' + SLOT + ']', n)) st.ranked.has(s) || (st.live ? rankSlot(s) : hide(s))
          })
        )
      ).observe(document.documentElement, { childList: true, subtree: true })
      setTimeout(() => {
        st.shown = 1
        ;[...st.hidden.keys()].forEach(reveal)
      }, +o.timeout || 300)
      boot().catch(die).finally(() => settle(tailor))
    })
  return ready
}

async function boot() {
  const o = st.o
  // In parallel from the start, the longest first: tailor.wasm, fetched
  // and compiled while it arrives at the hashed name this build was made
  // with (WASM, from build/loader.sh) unless the manifest names another;
  // the stored profile; the manifest.
  const early = WASM && !o.wasm && quiet(load(o.origin + '/assets/' + WASM, o.debug))
  const rec = st.granted ? storage.get(o.site) : null
  const man = manifest(o.origin, o.site)
  st.model = await man.catch(log)
  const named = st.model?.wasm
  const eng = early && (!named || named.endsWith('/' + WASM)) ? early : quiet(load(o.wasm || named || o.origin + '/tailor.wasm', o.debug))
  const cfg = quiet(st.model?.config ? bytes(st.model.config) : Promise.reject())
  // The head shard (the most popular items) needs no page: it downloads
  // while the page is still parsed, with the shards of the items parsed
  // so far; those of the rest once it is. (Demo home page, Chromium
  // traces at load 14-22: the manifest came 98-110 ms before
  // DOMContentLoaded in 2 of 9 loads, and the shards were requested only
  // then, the last thing the first slot waited for. Watching the parser
  // add items would cost 42 of the 8 KiB budget's bytes.)
  fetchShards(items())
  await new Promise((r) => (document.readyState == 'loading' ? document.addEventListener('DOMContentLoaded', r) : r()))
  // A page without Tailor's markup, or a site that declares slots by
  // selector: the chunk marks the slots and reads what the page shows.
  const slots = st.model?.slots
  if (slots || !document.querySelector('[' + ITEM + ']')) {
    const x = await extra()
    guard(() => x?.mark(slots))
  }
  // Shards of the page's items (all of them when the model is small)
  // and of the items the profile remembers download while wasm compiles:
  // those as soon as the profile is read (warm, IndexedDB answers before
  // the wasm is compiled), not once the engine runs. The engine is
  // configured meanwhile (cold, indexedDB.databases() can take longer).
  fetchShards(items())
  const read = rec?.then((r) => {
    mark('profile')
    st.ran = performance.now() // a task of its own (slice)
    guard(() => {
      const p = decode(r.p)
      const ids = p.session.reverse().concat(p.history.concat(p.purchases).sort((a, b) => b[1] - a[1]))
      fetchShards([...new Set(ids.map(([k]) => k.split('\0')[0]))].slice(0, REMEMBER))
    })
    return r
  })
  st.call = await eng
  await slice()
  configure(await cfg.catch(() => 0))
  await slice()
  const saved = await read
  if (saved) {
    saved.p && guard(st.call, 'load_profile', saved.p)
    restore(saved)
  }
  await (st.chain = applyShards())
  mark('shards')
  visit()
  listen()
  st.queue.splice(0).forEach(track)
  st.live = 1
  rankAll()
}

// configure initializes the device with the site's configuration, or,
// without one, a local configuration from the script tag. The device draws
// its randomness from crypto.getRandomValues itself (WASI random_get).
function configure(cfg) {
  const o = st.o
  try {
    const c = decode(cfg)
    st.privacy = c.privacy
    st.call('init', cfg)
    st.ldp = { epsilon: c.eps, budget: c.budget || 4 * c.eps }
  } catch {
    const privacy = (st.privacy = PRIVACY.includes(o.privacy) ? o.privacy : 'local')
    const unit = (x) => Math.min(1, Math.max(0, +x || 0))
    const eps = +o.epsilon > 0 ? +o.epsilon : 1
    st.call('init', encode({ schema: 1, site: o.site, privacy, eps, explore: unit(o.explore) }))
    st.ldp = { epsilon: eps, budget: 4 * eps }
  }
}

// fetchShards starts downloading the model shards that hold ids and the
// head shard (the most popular items, which cold pages need); it reports
// whether any was new. A page downloads what it shows, never the model.
function fetchShards(ids) {
  const m = st.model
  if (!m || !m.shards.length) return
  const want = new Set(ids.map((id) => shardOf(id, m.count)))
  let n = 0
  for (const s of m.shards)
    if (!st.shards.has(s.index) && (m.count <= 1 || s.head || want.has(s.index)))
      n = st.shards.set(s.index, quiet(bytes(s.url).then((b) => ((st.ran = performance.now()), { v: s.version, b }))))
  return n
}

// items returns the ids of the page's items.
export const items = () => all('[' + ITEM + ']').map((e) => e.getAttribute(ITEM))

// applyShards (re)applies every shard held, in ascending version as the
// manifest asks, in tasks of about 10 ms (slice) so that no long task
// blocks the page: the ranking after them shares the last one only when
// the shards took less (a task a shard, as before, cost a yield to the
// page each, behind its parser or a frame; while the ranking shared the
// last shard's task whatever it took, the demo's TestSpeed saw a 70 ms
// frame run from a shard's arrival).
async function applyShards() {
  const got = (await Promise.all([...st.shards.values()].map((p) => p.catch(() => 0)))).filter(Boolean)
  for (const s of got.sort((a, b) => a.v - b.v)) {
    if (st.call) guard(st.call, 'weights', s.b)
    await slice()
  }
}

// slice lets the page have the main thread (a new task) once Tailor's
// work has held it for 10 ms since st.ran: small shards, the page view
// and the first ranking share a task, and a long start (cold, each
// function compiles at its first call) is cut into tasks the page runs
// between. st.ran is when the task began that Tailor works in: the
// engine instantiated, the stored profile or a shard arrived; a wait
// for one of them is not work (cold, the profile often came last, and
// the shards' first slice then yielded before the page view).
const slice = async () => performance.now() - st.ran > 10 && (await pause(), (st.ran = performance.now()))

// need fetches the shards of ids not held yet, then re-ranks.
export function need(ids) {
  if (fetchShards(ids)) return (st.chain = st.chain.then(applyShards).then(rankAll, log))
}
