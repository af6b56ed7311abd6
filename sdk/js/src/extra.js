// The lazily loaded chunk (built to assets/tailor-extra.HASH.js): what
// only some pages need, kept out of the script tag's core (chunk.js loads
// it). It holds the page scanner (scan.js) and what real shops need
// without Tailor's markup — slots declared by CSS selector in the site's
// configuration, clicks on the tiles the scanner finds, Universal
// Analytics enhanced-ecommerce events. profile()'s details are a chunk of
// their own (details.js).
//
// It shares no module with the core: the core hands it its state and the
// functions it calls (chunk.js), so that there is one st.

import { scan, tile, ua, products } from './scan.js'

const MAX = 200 // tiles read per declared slot

/** init returns the chunk's functions over the core's state and calls. */
export function init(core) {
  const { st, send, interacted, hide, toItem } = core
  const tiles = new WeakMap() // a grid's tile element → its scanned product
  // event sends an event of a scanned product p, as the core's dataLayer
  // reading does (a product viewed once per page view); it returns the item.
  const event = (k, p) => {
    const it = p && toItem(p)
    if (!it || (k == 'view' && st.viewed.has(it.i))) return it
    st.viewed.add(it.i)
    send({ k, it })
    k != 'view' && interacted()
    return it
  }

  // mark gives the page's declared slots Tailor's markup, in place: the
  // tiles' parent becomes the slot (data-tailor-slot) and each tile an
  // item (data-tailor-item and what it shows), so that the core ranks,
  // reorders (moving the tiles, nothing else) and counts their clicks as
  // it does for marked-up pages. An "auto" slot is the page's largest
  // grid the scanner found. It also remembers every grid's tiles, whose
  // clicks count, and, after each page view the core reads, sends the view
  // of a main product only the scanner finds.
  function mark(slots) {
    let found = scan(document, tiles)
    for (const s of [].concat(slots || []).slice(0, 16))
      try {
        const sel = s.auto ? found.grids.sort((a, b) => b.count - a.count)[0]?.selector : s.tile ? s.container + ' ' + s.tile : s.container + ' > *'
        // The largest group of siblings: the grid's tiles (or its first
        // largest row, when each row is an element of its own).
        const by = new Map()
        for (const e of sel ? [...document.querySelectorAll(sel)].slice(0, MAX) : []) by.get(e.parentElement)?.push(e) || by.set(e.parentElement, [e])
        const [p, els] = [...by].sort((a, b) => b[1].length - a[1].length)[0] || []
        if (!p || p.hasAttribute('data-tailor-slot')) continue
        p.setAttribute('data-tailor-slot', String(s.name || 'auto').slice(0, 64))
        s.limit > 0 && p.setAttribute('data-tailor-limit', s.limit)
        const ids = new Set()
        for (const e of els) {
          const t = tiles.get(e) || tile(e)
          if (!t || ids.has(t.id)) continue // a product shown twice keeps its second place
          ids.add(t.id)
          e.setAttribute('data-tailor-item', t.id)
          for (const k of ['name', 'price', 'category']) t[k] && e.setAttribute('data-tailor-' + k, t[k])
        }
        hide(p)
      } catch {}
    st.onvisit = () => {
      try {
        const m = (found ||= scan(document, tiles)).main
        found = null // an SPA's next page view scans anew
        if (!st.main && m) st.main = event('view', m)
      } catch {}
    }
    // Clicks on the grids' tiles outside a slot (those inside, the core counts).
    document.addEventListener('click', (e) => {
      if (e.target.closest?.('[data-tailor-item]')) return
      for (let x = e.target, d = 0; x && d < 16; x = x.parentElement, d++) if (tiles.has(x)) return event('click', tiles.get(x))
    })
    // Universal Analytics enhanced ecommerce, as the core reads GA4's.
    st.ua = (x) => {
      for (const [k, list] of ua(x)) for (const p of products(list)) event(k, p)
    } // the core calls it inside its guard
  }

  // scan(doc): the console's page checker scans a pasted page's document
  return { scan: (doc = document) => scan(doc), mark }
}
