//# allFunctionsCalledOnLoad
// scan finds a page's products as the page marks them, with no Tailor
// markup: the main product of a product page and the product tiles of its
// grids. It reads, never writes, and never throws: a page it cannot read
// gives {main: null, items: [], grids: [], events: []}.
//
// Ids, so that one product has one id on a listing and on its own page:
// the SKU when the markup names one (JSON-LD or microdata sku, a data-sku
// attribute, a "sku" in a tile's JSON), else the product's URL path (the
// page's canonical URL, a tile's link; a product named in the query keeps
// that parameter), else another id the markup gives (data-product-id, a
// hidden product input, a price element's id). An id keeps its last 64
// characters (a long path's end names the product). A page's own
// data-tailor-item wins.
//
// Work is bounded: at most LINKS links and LINKS elements with ids, each
// climbing at most DEPTH ancestors; 16 JSON-LD blocks of 200 KB; product
// JSON in attributes of 100 KB; 200 dataLayer entries. It reads no layout
// (no sizes, no computed style): on the saved shop pages (sdk/js
// TestScanShops) its cost is the page's links and elements with ids, a
// querySelectorAll per selector and a few ancestors each.
//
// The first line is V8's compile hint: a page's first scan calls nearly
// every function here, and compiling each lazily at its first call cost
// that scan about a third of its CPU time (sampled profiles of the first
// scan of the 31 saved shop pages and the hostile page: 5,489 samples in
// scan() without the hint, 3,543 with); with it V8 compiles them all as
// it loads the module, on its streaming thread. It works only as the
// file's first line: build/loader.sh writes it atop the chunk, which
// bundles this file.

const LINKS = 3000
const DEPTH = 12

const s = (v) => (v == null || typeof v == 'object' ? '' : String(v).trim())
const first = (x) => [].concat(x ?? [])[0]
const clip = (v) => s(v).slice(-64) // sdk/wire's id limit

// num reads a price: the last separator before one or two digits is the
// decimal point ("1.759,99", "1,759.99", "19.50"), others group thousands.
const num = (v) => ((v = +s(v).replace(/[^\d.,]/g, '').replace(/[.,](?=\d\d?$)/, 'D').replace(/[.,]/g, '').replace('D', '.')), v > 0 && v < 1e9 ? v : undefined)

// path returns the path of a URL as a product id ('' when it is not a
// product's: not http(s), the home page, a cart or account page, an
// image). It reads the URL as written and joins relative ones to the base
// as strings: parsing each of a page's thousands of links with URL costs
// more than the whole budget.
let base // {path, dir} of the document's base URL
let paths // URL as written → its path, for one document: nav links repeat (null on its first scan: see at)
const docs = new WeakMap() // document → {uri, base, paths} (at)
function path(h) {
  if (!paths) return toPath(s(h))
  let p = paths.get((h = s(h)))
  if (p == null) paths.set(h, (p = toPath(h)))
  return p
}
function toPath(h) {
  if (!h) return ''
  // A path from the root (most links) needs no expression to tell it,
  // nor does one with no colon (no scheme): relative, or this page.
  if (h[0] == '#') return ''
  if (h[0] != '/' || h[1] == '/') {
    if (h[0] == '/' || (h.includes(':') && /^https?:\/\//i.test(h))) h = h.slice(h.indexOf('/', h.indexOf('//') + 2) >>> 0)
    else if (h.includes(':') && /^(?!https?:)[a-z][\w+.-]*:/i.test(h)) return '' // not http(s)
    else h = (h[0] == '?' ? base.path : base.dir) + h
  }
  const q = h.includes('=') && /[?&]((product|products|item)?_?id|pid|sku|p)=([^&#]+)/i.exec(h)
  // The path without its query, fragment and trailing slashes (indexOf,
  // not an expression, a replace or a split: they cost more).
  let c = h.indexOf('?')
  const f = h.indexOf('#')
  if (c < 0 || (f >= 0 && f < c)) c = f < 0 ? h.length : f
  while (h[c - 1] == '/') c--
  h = h.slice(0, c) + (q ? '?' + q[1] + '=' + q[3] : '')
  return /cart|basket|wish|login|account|checkout|\.(jpe?g|png|gif|pdf)$/i.test(h) ? '' : clip(h)
}

// product builds the {id, name, price, category} of a description.
function product(id, name, price, category) {
  if (!(id = clip(id))) return null
  const p = { id }
  if ((name = s(name).replace(/\s+/g, ' ').slice(0, 120))) p.name = name
  if ((price = num(price))) p.price = price
  if ((category = s(category?.name ?? category).slice(0, 64))) p.category = category
  return p
}

// ld collects schema.org Products from JSON-LD: top-level, in arrays,
// @graph and mainEntity (not in lists, which hold other products).
function ld(x, out, canon, d = 0) {
  if (d > 4 || !x || typeof x != 'object') return
  if (Array.isArray(x)) return x.forEach((y) => ld(y, out, canon, d + 1)) // bounded by the 200 KB of text
  if ([].concat(x['@type']).some((t) => /Product$/.test(t))) {
    const o = first(x.offers) || {}
    out.push(product(s(x.sku) || path(x.url) || canon, x.name, o.price ?? o.lowPrice ?? o.priceSpecification?.price, x.category))
  }
  ld(x['@graph'], out, canon, d + 1)
  ld(x.mainEntity, out, canon, d + 1)
}

// layer reads the ecommerce entries of a dataLayer, objects or gtag()
// arguments: GA4 events and Universal Analytics enhanced ecommerce
// (detail, click, add, purchase). It returns the product viewed first.
const GA4 = { view_item: 'view', add_to_cart: 'cart', purchase: 'purchase' }
const UA = { detail: 'view', click: 'click', add: 'cart', purchase: 'purchase' }
export function layer(dl, events) {
  let main = null
  for (const e of (Array.isArray(dl) ? dl : []).slice(0, 200)) {
    try {
      const lists = e[0] == 'event' ? [[GA4[e[1]], e[2]?.items]] : [[GA4[e.event], e.ecommerce?.items], ...ua(e)]
      for (const [kind, list] of lists)
        for (const it of kind ? products(list) : []) {
          events.length < 50 && events.push({ kind, item: it.id })
          if (kind == 'view') main ||= it
        }
    } catch {}
  }
  return main
}

/** ua returns the actions of a Universal Analytics enhanced-ecommerce
 * entry ({ecommerce: {add: {products: [...]}}}) as [kind, products]. */
export const ua = (e) => Object.keys(Object(e?.ecommerce)).flatMap((k) => (UA[k] ? [[UA[k], e.ecommerce[k]?.products]] : []))

/** products reads a list of ecommerce products (GA4 items, UA products),
 * 50 at most. */
export const products = (list) =>
  [].concat(list || []).slice(0, 50).flatMap((g) => [product(g.item_id ?? g.id, g.item_name ?? g.name, g.price, g.item_category ?? g.category) || []])

// meta reads a <meta property>: the page's metas read once a scan (at
// empties metas) into property → the first one's content, not a selector
// per property, which looks through the whole page when there is none.
let metas
function meta(doc, k) {
  if (!metas) {
    metas = new Map()
    for (const m of doc.getElementsByTagName('meta')) {
      const p = m.getAttribute('property')
      p == null || metas.has(p) || metas.set(p, m.content)
    }
  }
  return metas.get(k)
}
const MD = '[itemscope][itemtype*="schema.org/Product" i]'

// canonical returns the path of the page's own URL: its canonical link,
// og:url, else its address.
export const canonical = (doc) => path(doc.querySelector('link[rel=canonical]')?.getAttribute('href') || meta(doc, 'og:url') || doc.URL)

/** jsonld returns the first Product of the page's JSON-LD (16 blocks of
 * 200 KB at most; a block that does not parse is skipped). */
export function jsonld(doc, canon) {
  const lds = []
  // A selector, which Chromium runs through the page natively: on a
  // page's first scan, a little faster than reading each script's type
  // from JavaScript not yet optimized (median 0.25 ms against 0.30 on
  // eight large shop pages).
  const ss = doc.querySelectorAll('script[type="application/ld+json" i]')
  for (let i = 0; i < ss.length && i < 16; i++) {
    const el = ss[i]
    try {
      // Some wrap the JSON in /*<![CDATA[*/ ... /*]]>*/ for old parsers.
      const t = el.textContent.replace(/\/\*.*?\*\//g, '')
      if (t.length < 2e5) ld(JSON.parse(t), lds, canon)
    } catch {}
  }
  return lds.find(Boolean)
}

/** microdata returns the Product around the page's h1, or the page's only
 * one (a listing marks each tile a Product). */
export function microdata(doc, canon) {
  const mds = doc.querySelectorAll(MD)
  const md = doc.querySelector('h1')?.closest(MD) || (mds.length == 1 && mds[0])
  const p = (k) => {
    const e = md.querySelector(`[itemprop="${k}"]`)
    return e && (e.getAttribute('content') || e.textContent)
  }
  return md && product(s(p('sku')) || canon, p('name'), p('price'))
}

/** opengraph returns the product of OpenGraph product tags. */
export const opengraph = (doc, canon) => /product/i.test(meta(doc, 'og:type')) && product(canon, meta(doc, 'og:title'), meta(doc, 'product:price:amount'))

// mainProduct finds the page's main product, merging the sources in this
// order: JSON-LD, microdata, the dataLayer, OpenGraph (the core reads
// data-tailor-item itself, which wins).
function mainProduct(doc, events) {
  const canon = canonical(doc)
  const found = [jsonld(doc, canon), microdata(doc, canon), layer(doc.defaultView?.dataLayer, events), opengraph(doc, canon)]
  const main = found.find(Boolean)
  if (main) for (const f of found) if (f) for (const k in f) main[k] ??= f[k]
  return main || null
}

// IDS selects the elements whose data attributes may hold a product's id
// or its JSON (tiles queries DATA, INPUT and [id*=price] one by one); SKU
// names the attributes that hold a SKU.
const DATA = ['product-id', 'pid', 'sku', 'item-id', 'id', 'product', 'item'].map((a) => '[data-' + a + ']')
const INPUT = 'input[type=hidden][name*=product i],input[type=hidden][name*=sku i]'
const IDS = DATA + ',' + INPUT + ',[id*=price i]'
const SKU = /sku/i

// LINK selects the elements that link somewhere. tiles() reads those
// outside menus (MENU): not in a list item of a list item (a menu's
// submenus), a nav element, or an ARIA navigation, menu or menu bar. A
// menu's links are most of a large page's (ar-sa-namshi 1,241 of 1,376,
// vmzona 3,670 of 3,744, k-rauta 534 of 992 in ../shared/pages) and each
// costs a scan its path and climb, to find at best a false grid of
// categories; left out in the query (Chromium tests each link's
// ancestors natively), not by a closest() per link.
const LINK = 'a[href],[data-href],[data-url]'
const MENU = ':not(li li *,nav *,[role=navigation] *,[role=menu] *,[role=menubar] *)'
const LINKED = LINK.split(',').map((l) => l + MENU)

// union returns doc.querySelectorAll(all) in document order, cut at
// LINKS, given all's selectors one by one (sels) and the elements of the
// rest (some). Chromium answers a lone attribute selector that no element
// has at once, but a list of selectors by matching every element of the
// page against each: a query per selector costs a fraction. The few
// elements of the smaller lists are inserted into the largest by binary
// search (an element among the first LINKS of the union is among the
// first LINKS of its list); when there are more than 100, all is queried.
function union(doc, sels, all, some) {
  const [out, ...ls] = [some, ...sels.map((s) => doc.querySelectorAll(s))].filter((l) => l.length).sort((a, b) => b.length - a.length)
  if (!ls.length) return out || []
  let n = 0
  for (const l of ls) n += l.length
  if (n > 100) return doc.querySelectorAll(all) // at most 100 × 12 comparisons
  const o = [].slice.call(out, 0, LINKS)
  for (const l of ls)
    for (let i = 0, lo = 0; i < l.length; i++, lo++) {
      let hi = o.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        o[mid].compareDocumentPosition(l[i]) & 4 ? (lo = mid + 1) : (hi = mid) // l[i] follows
      }
      o[lo] === l[i] || o.splice(lo, 0, l[i])
    }
  return o
}

// href returns the path a link points to: its href, data-href or data-url.
const href = (el) => path(el.getAttribute(el.localName == 'a' ? 'href' : el.hasAttribute('data-href') ? 'data-href' : 'data-url'))

// pointer reads an element's product pointer: [link path, [rank, id],
// the element], where rank orders ids (0 a SKU, 2 another id) around the
// path.
function pointer(el) {
  let id
  const ks = el.getAttributeNames() // not el.attributes: it makes an Attr node of each
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i]
    const v = el.getAttribute(k)
    let j
    try {
      j = v[0] == '{' && v.length < 1e5 && JSON.parse(v)
    } catch {}
    const x = j && (j.sku ?? j.id ?? j.productId ?? j.product_id)
    if (j) s(x) && (id ??= [j.sku ? 0 : 2, x])
    else if (/^data-(product|item|variant|p)?[-_]?(id|sku)$/i.test(k) && s(v)) id ??= [SKU.test(k) ? 0 : 2, v]
  }
  if (el.localName == 'input') id = [SKU.test(el.name) ? 0 : 2, el.value]
  else if (!id && /price/i.test(el.id)) id = [2, el.id.match(/\d{2,}$/)?.[0]]
  return [href(el), s(id?.[1]) ? id : null, el]
}

// PRICE matches a price in a tile's text: a currency sign or code by a
// number, or a number with cents. SC is the currency signs of Unicode 17
// (\p{Sc}; not the six beyond 16 bits, fractions of old Tamil and Indic
// accounts) written out: an expression with \p{Sc} costs Chromium 1-2 ms
// to compile, on the first scans and again whenever it has dropped the
// compiled code.
const SC = '[$¢-¥֏؋߾߿৲৳৻૱௹฿៛₠-⃁꠸﷼﹩＄￠￡￥￦]'
const PRICE = RegExp(SC + '\\s?\\d|\\d\\s?(' + SC + '|kr|zł|lei|руб|eur|usd|chf)|\\d[.,]\\d\\d(?!\\d)', 'i')
// PRODUCT matches the paths of product pages (for tiles that show no price).
const PRODUCT = /\/(p|pd|dp|item)\/|produ|[?&](pid|id)=|\d{4,}/i
const HIDE = '[hidden],[style*="display:none" i],[style*="display: none" i]'

// tiles finds product tiles: each pointer climbs its ancestors, counting
// the paths and ids each ancestor points to. A tile points to one product
// (one id, or one path more often than any other: a tile may also link to
// its brand or a shipping page) and its parent to several; tiles under
// parents with one selector (the rows of a grid too) make a grid when
// there are three or more. A climb stops at an ancestor that points to
// too many products already.
//
// Its cost is the page's links: a querySelectorAll per selector, then per
// pointer a few ancestors and small arrays, not a Map each (k.l, an array
// or '*', is compared with ===: == would join the array into a string
// each time); the checks that read
// the DOM (images, text, hidden ancestors) run only on the candidates
// that point to one product, cheapest first. No layout is read.
export function tiles(doc, mainId, els) {
  const seen = new Map() // element → {l: [path, count, ...] ('*' past 8 paths), i: id ('*' for several), r: the id's rank, p: its parent once read}
  const ptrs = []
  const withIds = new Set()
  // A page may have thousands of inputs: the hidden ones are few.
  const inputs = [...doc.querySelectorAll('input[type=hidden]')].filter((x) => x.matches(INPUT))
  const ids = union(doc, [...DATA, '[id*=price i]'], IDS, inputs)
  for (let i = 0; i < ids.length && i < LINKS; i++) withIds.add(ids[i])
  const links = union(doc, LINKED, LINKED.join(), [])
  // Each element read from the list once (an indexed read of a
  // NodeList is a call into the DOM).
  for (let i = 0, n = Math.min(links.length, LINKS); i < n; i++) {
    const el = links[i]
    withIds.has(el) || ptrs.push([href(el), null, el])
  }
  for (const el of withIds) ptrs.push(pointer(el))
  // A path linked from more than 20 places is navigation, not a product.
  const uses = new Map()
  const body = doc.body // a getter that looks for it each time
  for (let i = 0, l; i < ptrs.length; i++) uses.set((l = ptrs[i][0]), (uses.get(l) || 0) + 1)
  for (let i = 0; i < ptrs.length; i++) {
    const p = ptrs[i]
    const id = p[1]
    let l = p[0]
    if (uses.get(l) > 20) l = ''
    if (!l && !id) continue
    // An element's parent is read from the DOM once (k.p), not once per
    // pointer under it.
    for (let x = p[2], d = 0, k; x && x != body && d < DEPTH; x = k.p === undefined ? (k.p = x.parentElement) : k.p, d++) {
      k = seen.get(x)
      if (!k) seen.set(x, (k = { l: null, i: null, r: 0, d: null, p: undefined }))
      if ((!l || k.l === '*') && (!id || k.i == '*')) break
      if (l && k.l !== '*') {
        const a = (k.l ||= [])
        let j = 0
        while (j < a.length && a[j] != l) j += 2
        j < a.length ? a[j + 1]++ : j < 16 ? a.push(l, 1) : (k.l = '*')
      }
      if (id) (k.i = !k.i || k.i == id[1] ? id[1] : '*'), (k.r = id[0])
    }
  }
  // dom returns the path an element points to most, '*' when none does.
  const dom = (k) => {
    if (k.d == null) {
      const a = k.l
      let n = 0
      k.d = a === '*' ? a : ''
      for (let j = 0; a && j < a.length; j += 2) a[j + 1] > n ? ((n = a[j + 1]), (k.d = a[j])) : a[j + 1] == n && (k.d = '*')
    }
    return k.d
  }
  const one = (k) => (k.i ? k.i != '*' : (k = dom(k)) && k != '*')
  // The candidates: elements that point to one product, under a parent
  // that points to several, that look like tiles; grouped first by their
  // parent's own step (a grid's tiles, rows too, share it), so that only
  // groups of three or more cost a selector and a description.
  const groups = new Map() // step of the parent > tag → [[x, k, p, img, n]]
  const steps = new Map() // parent → its step
  let n = 0
  seen.forEach((k, x) => {
    n++
    if (!one(k)) return // most point to several: their parent is not read
    const p = k.p === undefined ? x.parentElement : k.p
    const pk = seen.get(p)
    if (!pk || one(pk)) return
    // querySelector, not getElementsByTagName(...)[0], which makes a
    // live list (and its JavaScript object) per element: half the time
    // on a page's first scan.
    const img = x.querySelector('img')
    if (!looks(x, k.i, dom(k), img) || /template/i.test(x.className) || x.closest(HIDE)) return
    let g = steps.get(p)
    if (g == null) steps.set(p, (g = step(p)))
    g += ' > ' + x.localName
    const c = [x, k, p, img, n]
    groups.get(g)?.push(c) || groups.set(g, [c])
  })
  const grids = new Map() // selector → [its tiles, the first's place in seen]
  const sel = new Map() // parent → its selector
  groups.forEach((cs) => {
    if (cs.length < 3) return
    for (const [x, k, p, img, n] of cs) {
      const l = dom(k)
      const it = describe(x, k.i && (k.r == 0 || !l || l == '*') ? k.i : l, img)
      if (!sel.has(p)) sel.set(p, selector(p))
      const g = sel.get(p) + ' > ' + x.localName
      if (!grids.has(g)) grids.set(g, [[], n])
      it && grids.get(g)[0].push([x, it])
    }
  })
  const items = new Map()
  const out = []
  for (const [selector, [found]] of [...grids].sort((a, b) => a[1][1] - b[1][1])) {
    if (found.length < 3) continue
    out.push({ selector, count: found.length })
    for (const [x, it] of found) {
      els?.set(x, it)
      if (it.id != mainId && !items.has(it.id)) items.set(it.id, it)
    }
  }
  return { items: [...items.values()], grids: out }
}

const text = (x) => x.textContent.slice(0, 2000)

// looks tells whether x looks like a product tile: with an id, an image or
// a price; with only a link, an image and a product's path or a price.
const looks = (x, id, l, img) => (id ? img || PRICE.test(text(x)) : img && (PRODUCT.test(l) || PRICE.test(text(x))))

// describe builds the product of tile x given its id: its name from a
// heading or its image, its price from a price element or its text.
const describe = (x, id, img = x.querySelector('img')) =>
  product(
    id,
    x.querySelector('h2,h3,h4,[class*=name i]')?.textContent || img?.alt,
    (x.querySelector('[class*=price i]')?.textContent || text(x)).match(/\d[\d.,]*/)?.[0]
  )

/** tile reads the product of one tile a site declared (a slot's tile
 * selector), with the rules tiles() follows: a SKU its markup gives, else
 * the path it links to most, else another id it gives. Null when it names
 * no product or does not look like a tile (a heading, a form). */
export function tile(x) {
  try {
    at(x.ownerDocument)
    let id
    for (const el of [x, ...[...x.querySelectorAll(IDS)].slice(0, 50)]) {
      const i = pointer(el)[1]
      if (i && (!id || i[0] < id[0])) id = i
    }
    const ls = new Map()
    for (const el of [x, ...[...x.querySelectorAll(LINK)].slice(0, 50)]) {
      const l = href(el)
      l && ls.set(l, (ls.get(l) || 0) + 1)
    }
    const l = [...ls].sort((a, b) => b[1] - a[1])[0]?.[0]
    const img = x.querySelector('img')
    return looks(x, id, l, img) ? describe(x, id && (!id[0] || !l) ? id[1] : l, img) : null
  } catch {
    return null
  }
}

// step names one element for CSS: #its id, else tag.class.class (two
// classes at most).
function step(el) {
  if (/^[a-z][\w-]*$/i.test(el.id)) return '#' + el.id
  const c = el.classList
  return el.localName + (c[0] ? '.' + CSS.escape(c[0]) : '') + (c[1] ? '.' + CSS.escape(c[1]) : '')
}

// selector names an element for CSS: its path of steps from the nearest
// ancestor with an id (or from six levels up).
function selector(el) {
  let out = ''
  for (let d = 0; el.localName != 'body' && d < 6; el = el.parentElement, d++) {
    const t = step(el)
    if (t[0] == '#') return t + out
    out = ' > ' + t + out
  }
  return out.slice(3)
}

// at reads doc's base URL, which relative links are joined to. A link's
// path depends on its URL as written and that base alone: the paths are
// kept across scans of one document while its base URL stays (the loader
// scans at boot, then at each tailor.scan() and SPA page view), and
// dropped once they pass 4 × LINKS. Not on the document's first scan,
// the one every page load pays: there most URLs are new, and a Map entry
// for each (hashing each URL) costs more than the repeats save.
export function at(doc) {
  const uri = doc.baseURI
  let d = docs.get(doc)
  if (!d || d.uri !== uri || d.paths?.size > 4 * LINKS) {
    const p = new URL(uri).pathname
    docs.set(doc, (d = { uri, base: { path: p, dir: p.replace(/[^/]*$/, '') }, paths: null }))
  } else d.paths ||= new Map()
  base = d.base
  paths = d.paths
  metas = null
}

/** scan returns the products doc shows: {main, items, grids, events}.
 * els, when given, receives each tile element of a grid with its product. */
export function scan(doc = document, els) {
  const events = []
  try {
    at(doc)
    const main = mainProduct(doc, events)
    return { main, ...tiles(doc, main?.id, els), events }
  } catch {
    return { main: null, items: [], grids: [], events }
  }
}
