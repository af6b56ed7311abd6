// The chunk of profile()'s details (built to assets/tailor-details.HASH.js):
// what the device knows of its visitor, in words, loaded only when a page
// calls profile() (chunk.js), not with the core nor with the page scanner's
// chunk (extra.js), which every page without Tailor's markup loads. Like
// that chunk, it shares no module with the core: the core hands it its
// state and the functions it calls.

const rows = (t, f) =>
  (t || []).map(([k, w, ts]) => ({ ...f(...k.split('\0')), weight: Math.round(w * 1e3) / 1e3, time: new Date(ts).toISOString() }))
const TRAITS = { cat: 'category', tag: 'tag', price: 'price band', q: 'search' }
const trait = (k) => ({ kind: TRAITS[k.split(':')[0]], value: k.slice(k.indexOf(':') + 1) })

/** init returns the chunk's functions over the core's state and calls. */
export function init(core) {
  const { st, names, decode } = core
  // profile adds to out what the device knows of its visitor.
  function profile(out) {
    const p = decode(st.call('save_profile'))
    const it = (id, category) => ({ item: id, name: names.get(id), category })
    return Object.assign(out, {
      visits: p.visits,
      lastSeen: p.last ? new Date(p.last).toISOString() : null,
      holdout: p.holdout,
      session: rows(p.session, it),
      history: rows(p.history, it),
      interests: rows(p.intent, trait), // this visit's
      lasting: rows(p.traits, trait), // earlier visits', each weighing about one
      facts: rows(p.facts, (fact) => ({ fact })),
      purchases: rows(p.purchases, it),
      transitions: rows(p.links, (from, to) => ({ from, to })),
      attributes: p.attrs,
      shown: p.shown,
      clicked: p.clicked,
      // what the next sync would report: items and how many transitions
      pending: { items: Object.keys(p.pending?.[1] || {}), transitions: Object.keys(p.pending?.[0] || {}).length },
      // federated+ldp: the privacy budget spent today (UTC) of the day's
      ldp: st.privacy == 'federated+ldp' && st.ldp ? { ...st.ldp, spent: p.eps?.[0] == Math.floor(Date.now() / 864e5) ? p.eps[1] : 0 } : undefined,
    })
  }
  return { profile }
}
