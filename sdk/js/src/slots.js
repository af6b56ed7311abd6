// Ranking and slots: the engine's rank call, and the page's slots
// (data-tailor-slot) ordered or given their best variant, hidden against
// flicker until then for a bounded time.

import { encode, decode } from './msgpack.js'
import { ITEM, SLOT, fits, fromElement } from './page.js'
import { st, guard, all, clamp } from './state.js'
import { cx } from './signals.js'
import { saveSoon } from './sync.js'

const VARIANT = 'data-tailor-variant'

// rank asks the engine to order wire.Items; without an engine, the
// site's own order comes back.
// rerank: the items were shown before in this page view (not new
// impressions for the uplift report).
export function rank(slot, items, limit, m = st.mode, rerank = false) {
  const req = { s: fits(slot) || 'slot', c: items.slice(0, 5000), l: limit, ts: Date.now(), cx: cx(), m, rr: rerank }
  const res = st.call && guard(() => decode(st.call('rank', encode(req))))
  const out = res
    ? res.items.map(([id, score, source, reason, ref]) => ({ id, score, source, reason, ref }))
    : items.slice(0, limit || 1e4).map((it) => ({ id: it.i, score: 0, source: 'default', reason: '', ref: '' }))
  if (st.last.size > 5000) st.last.clear()
  out.forEach((r) => st.last.set(r.id, r))
  st.version = res?.v ?? st.version
  // A re-ranking changes nothing on the device (no impression, no visit):
  // nothing to save, and saving it could overwrite what other pages stored
  // since (a page back from the back/forward cache did, with a re-ranking's
  // save due while it was frozen).
  rerank || saveSoon()
  return { slot, items: out, arm: res?.arm || '', version: st.version }
}

export function fire(detail) {
  document.dispatchEvent(new CustomEvent('tailor:ranked', { detail }))
}

export function rankAll() {
  st.call && all('[' + SLOT + ']').forEach(rankSlot)
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
export function rankSlot(s) {
  const rerank = st.ranked.has(s)
  st.ranked.add(s)
  guard(() => {
    if (!st.call) return
    const vs = units(s, VARIANT)
    const us = vs.length ? vs : units(s, ITEM)
    const by = new Map()
    const items = []
    for (const [u, el] of us) {
      const it = el && fromElement(el)
      if (it && !by.has(it.i)) by.set(it.i, [u, el]), items.push(it)
    }
    if (!items.length) return
    const r = rank(s.getAttribute(SLOT), items, vs.length ? 1 : clamp(s.getAttribute('data-tailor-limit'), 5000), st.mode, rerank)
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
// place a unit held, so that other children keep theirs. A unit already
// in its place stays (the units after the last one shown, often most of
// a long slot): each move is DOM work and a record for the observers.
function order(s, cur, seq) {
  const marks = cur.map((u, i) => u != seq[i] && u.parentNode.insertBefore(document.createComment(''), u))
  seq.forEach((u, i) => marks[i] && marks[i].after(u))
  marks.forEach((m) => m && m.remove())
}

// Anti-flicker: a slot (never the body) stays hidden until ranked, for
// at most the timeout; on a page already loaded, nothing is hidden.
export function hide(s) {
  if (document.readyState != 'complete' && !st.shown && !st.hidden.has(s) && !st.ranked.has(s))
    st.hidden.set(s, s.style.visibility), s.classList.add('tailor-loading'), (s.style.visibility = 'hidden')
}

export function reveal(s) {
  if (st.hidden.has(s)) {
    s.style.visibility = st.hidden.get(s)
    st.hidden.delete(s)
    s.classList.remove('tailor-loading')
  }
}
