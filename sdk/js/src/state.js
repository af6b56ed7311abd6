// The loader's one state object, st, and the small helpers every module
// shares. Each module reads and writes st; nothing else is mutable at
// module level, so what a function may change is what it touches in st.

import { reveal } from './slots.js'

/** st is everything the loader keeps for the page's lifetime. Fields
 * that start unset are listed as comments (what is not written costs no
 * byte of the 8 KiB budget). */
export const st = {
  // o: the options of start
  // call: the engine (engine.js), once started; null when it failed
  // granted: consent to store and sync
  privacy: 'local',
  // ldp: federated+ldp: ε per delta and per day (wire.Config eps, budget; default 4 deltas' worth)
  mode: 'ai',
  // modeSet: the mode was chosen through the API before the stored one was read
  version: 0,
  stamp: 0, // when the profile in memory was saved or loaded
  // model: the manifest (model.js)
  page: {}, // context parts that hold for this page view
  // main: the page's main item, for scroll depth
  // live: the engine is ready and the page's slots were ranked once
  queue: [], // events before the engine is ready
  held: [], // events since the stored profile was read or written, tracked again over a newer one (sync.js)
  last: new Map(), // item id → its last ranking, for explain
  viewed: new Set(), // items viewed on this page view
  ranked: new WeakSet(), // slots ranked at least once
  hidden: new Map(), // slot → its inline visibility, while hidden against flicker
  // shown: the anti-flicker bound passed (or the engine died): hide nothing more
  shards: new Map(), // shard index → Promise of {v, b}
  chain: Promise.resolve(), // applications of weights, one at a time
  // ran: when Tailor's current stretch of main-thread work began (boot.js slice)
  timers: {}, // pending timeouts by purpose: save, rank, nav
  // io: the IntersectionObserver of dwell
  dwell: new Map(), // element → {it, on, since, total}
  depth: 0, // scroll depth read, in percent
  sent: 0, // scroll depth sent
  // busy: a scroll measure is queued for the next frame
  // dl: the dataLayer
  read: 0, // dataLayer entries read
  // [a chunk's file name]: Promise of the lazily loaded chunk's functions (chunk.js)
  // ua: set by the chunk: reads a dataLayer entry's Universal Analytics ecommerce
  // onvisit: set by the chunk: runs after each page view is read
}

let ready$
/** ready resolves with the API once Tailor runs (or failed to start). */
export const ready = new Promise((r) => (ready$ = r))
export const settle = (v) => ready$(v)

// mark records a stage of the start in the page's performance timeline
// (tailor:start, tailor:fetched ... tailor:ranked; sdk/js TestSpeed reads them).
export const mark = (n) => performance.mark('tailor:' + n)

export const log = (...a) => st.o?.debug && console.debug('tailor:', ...a)
export const quiet = (p) => (p.catch(log), p)
export const pause = () => new Promise((r) => setTimeout(r))
export const all = (sel, root = document) => [...root.querySelectorAll(sel)]
export const clamp = (x, max) => Math.max(0, Math.min(max, Math.round(+x) || 0))

// later (re)starts the timer of one purpose: f runs ms from now, once.
export const later = (k, f, ms) => (clearTimeout(st.timers[k]), (st.timers[k] = setTimeout(f, ms)))

// die stops using the engine (a trap leaves it unusable) and shows every slot.
export function die(e) {
  log(e)
  st.call = null
  st.shown = 1
  ;[...st.hidden.keys()].forEach(reveal)
}

// guard runs f, turning any exception into a log line (and a dead engine
// when the guest trapped).
export function guard(f, ...a) {
  try {
    return f(...a)
  } catch (e) {
    e instanceof WebAssembly.RuntimeError ? die(e) : log(e)
  }
}
