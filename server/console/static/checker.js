// The console's page checker (install page): what Tailor finds in a page's
// HTML, pasted by its owner. The products, grids and events come from the
// loader's own scanner — the chunk tailor.js loads (sdk/js/src/extra.js,
// scan.js), imported from this server's assets — run on the pasted HTML
// parsed into a document that runs none of its scripts; so the checker and
// tailor.scan() on the live page agree. The slots and items marked up with
// data-tailor-* attributes are read as the loader's contract says.
//
// Nothing here reaches what visitors download: it is served under
// /console/static only.

const form = document.getElementById('checker')
const out = document.getElementById('found')
const MAX_HTML = 2e6

// el builds an element with text (never HTML: the page is untrusted).
function el(tag, text, attrs) {
  const e = document.createElement(tag)
  if (text != null) e.textContent = String(text)
  for (const k in attrs || {}) e.setAttribute(k, attrs[k])
  return e
}

function table(caption, head, rows) {
  const t = el('table')
  t.append(el('caption', caption))
  const tr = el('tr')
  head.forEach((h) => tr.append(el('th', h, { scope: 'col' })))
  const thead = el('thead')
  thead.append(tr)
  t.append(thead)
  const body = el('tbody')
  rows.forEach((r) => {
    const row = el('tr')
    r.forEach((c) => row.append(el('td', c ?? '')))
    body.append(row)
  })
  t.append(body)
  return t
}

function section(id, title, ...children) {
  const s = el('section', null, { 'aria-labelledby': id })
  s.append(el('h2', title, { id }), ...children)
  return s
}

// literal reads a JavaScript object or array literal written as pages
// write dataLayer pushes: JSON, or with single quotes, bare keys and
// trailing commas. It evaluates nothing.
function literal(src) {
  try {
    return JSON.parse(src)
  } catch {}
  const json = src
    .replace(/'((?:[^'\\]|\\.)*)'/g, (_, s) => JSON.stringify(s.replace(/\\'/g, "'")))
    .replace(/([{,]\s*)([A-Za-z_$][\w$]*)\s*:/g, '$1"$2":')
    .replace(/,\s*([}\]])/g, '$1')
  return JSON.parse(json)
}

// args returns the text of the call's arguments starting at i (just after
// its "("), up to the matching ")".
function args(text, i) {
  let depth = 1
  let quote = ''
  for (let j = i; j < text.length && j < i + 1e5; j++) {
    const c = text[j]
    if (quote) {
      if (c == '\\') j++
      else if (c == quote) quote = ''
    } else if (c == '"' || c == "'" || c == '`') quote = c
    else if (c == '(' || c == '{' || c == '[') depth++
    else if (c == ')' || c == '}' || c == ']') if (--depth == 0) return text.slice(i, j)
  }
  return null
}

// pushes returns the dataLayer entries the page's inline scripts push
// (dataLayer.push({...}), gtag('event', ...)), and how many it could not
// read.
function pushes(doc) {
  const entries = []
  let unread = 0
  for (const s of [...doc.querySelectorAll('script:not([src])')].slice(0, 100)) {
    const text = s.textContent.slice(0, 5e5)
    for (const m of text.matchAll(/\b(dataLayer\.push|gtag)\s*\(/g)) {
      const a = args(text, m.index + m[0].length)
      try {
        if (a == null) throw Error('unbalanced')
        entries.push(m[1] == 'gtag' ? literal('[' + a + ']') : literal(a))
      } catch {
        unread++
      }
      if (entries.length >= 200) break
    }
  }
  return { entries, unread }
}

// ldProducts lists the schema.org Products of the page's JSON-LD blocks,
// and the blocks that are not JSON.
function ldProducts(doc) {
  const found = []
  let bad = 0
  const walk = (x, d) => {
    if (d > 4 || !x || typeof x != 'object') return
    if (Array.isArray(x)) return x.forEach((y) => walk(y, d + 1))
    if ([].concat(x['@type']).some((t) => /Product$/.test(t))) found.push(x)
    walk(x['@graph'], d + 1)
    walk(x.mainEntity, d + 1)
  }
  for (const s of [...doc.querySelectorAll('script[type="application/ld+json"]')].slice(0, 16)) {
    try {
      walk(JSON.parse(s.textContent.replace(/\/\*.*?\*\//g, '')), 0)
    } catch {
      bad++
    }
  }
  return { found, bad }
}

// slots reads the slots and items the page marks up for Tailor.
function slots(doc) {
  return [...doc.querySelectorAll('[data-tailor-slot]')].slice(0, 100).map((s) => {
    const items = [...s.querySelectorAll('[data-tailor-item]')]
    return {
      name: s.getAttribute('data-tailor-slot'),
      items: items.map((i) => i.getAttribute('data-tailor-item')),
      categories: [...new Set(items.map((i) => i.getAttribute('data-tailor-category')).filter(Boolean))],
      uncategorized: items.filter((i) => !i.getAttribute('data-tailor-category')).length,
    }
  })
}

async function check(html, url) {
  const doc = new DOMParser().parseFromString(html, 'text/html')
  const { entries, unread } = pushes(doc)
  // The scanner reads a page's dataLayer from its window; a parsed
  // document has none, so it gets the pushes read above. Its URL is the
  // console's: the scanner gets the page's, given (a <base> element would
  // break the console's policy, base-uri 'none').
  const view = { dataLayer: entries }
  const page = new Proxy(doc, {
    get(t, k) {
      if (k == 'defaultView') return view
      if (url && (k == 'baseURI' || k == 'URL')) return url
      const v = Reflect.get(t, k)
      return typeof v == 'function' ? v.bind(t) : v
    },
  })
  const { init } = await import(form.dataset.scanner)
  const found = init({}).scan(page)
  const marked = slots(doc)
  const ld = ldProducts(doc)
  const warnings = []
  const tag = doc.querySelector('script[src*="tailor"]')
  if (!tag) warnings.push('No Tailor script tag: paste the tag above into the page.')
  else if (tag.dataset.site != form.dataset.site) warnings.push(`The script tag names site "${tag.dataset.site || ''}", not "${form.dataset.site}".`)
  else if (!tag.integrity) warnings.push('The script tag has no integrity attribute (Subresource Integrity).')
  if (!marked.length && !found.grids.length) warnings.push('No slot: mark a list with data-tailor-slot, or declare one by CSS selector in the site configuration.')
  for (const s of marked) {
    if (!s.items.length) warnings.push(`Slot "${s.name}" holds no data-tailor-item.`)
    if (s.uncategorized) warnings.push(`Slot "${s.name}": ${s.uncategorized} items without data-tailor-category (category rules and affinities cannot use them).`)
  }
  if (!found.main && /product/i.test(doc.querySelector('meta[property="og:type"]')?.content || '')) warnings.push('The page says it is a product page, but no product was found (add JSON-LD Product).')
  if (ld.bad) warnings.push(`${ld.bad} JSON-LD blocks are not valid JSON.`)
  if (unread) warnings.push(`${unread} dataLayer pushes could not be read (not literal objects).`)
  if (!entries.length) warnings.push('No dataLayer event: add-to-cart and purchases are then seen only through data-tailor-* buttons.')

  const list = el('ul')
  warnings.forEach((w) => list.append(el('li', w)))
  out.replaceChildren()
  out.append(
    section('fw', `Warnings (${warnings.length})`, warnings.length ? list : el('p', 'None.')),
    section('fs', `Slots (${marked.length})`, table('Slots marked with data-tailor-slot', ['Slot', 'Items', 'Categories'],
      marked.map((s) => [s.name, `${s.items.length}: ${s.items.slice(0, 12).join(', ')}${s.items.length > 12 ? ', …' : ''}`, s.categories.join(', ')]))),
    section('fm', 'Main product', el('p', found.main ? `${found.main.id}${found.main.name ? ' — ' + found.main.name : ''}${found.main.category ? ' (' + found.main.category + ')' : ''}` : 'None found.')),
    section('fg', `Product grids (${found.grids.length})`, table('Grids the scanner found', ['Selector', 'Tiles'], found.grids.map((g) => [g.selector, g.count]))),
    section('fi', `Items (${found.items.length})`, table('Products the scanner found in grids', ['Id', 'Name', 'Price', 'Category'],
      found.items.slice(0, 100).map((i) => [i.id, i.name, i.price, i.category]))),
    section('fl', `JSON-LD products (${ld.found.length})`, table('schema.org Products', ['SKU', 'Name', 'Category'],
      ld.found.slice(0, 50).map((p) => [p.sku, p.name, p.category?.name ?? p.category]))),
    section('fe', `dataLayer events (${found.events.length})`, table('Ecommerce events the scanner reads', ['Kind', 'Item'], found.events.map((e) => [e.kind, e.item]))),
  )
  out.hidden = false
}

form.hidden = false
document.getElementById('needs-js')?.remove()
form.addEventListener('submit', async (e) => {
  e.preventDefault()
  const status = document.getElementById('status')
  const html = form.elements.html.value
  if (html.length > MAX_HTML) {
    status.textContent = 'The page is over 2 MB: paste less.'
    return
  }
  status.textContent = 'Checking…'
  try {
    const url = form.elements.url.value.trim()
    await check(html, url && new URL(url, location.href).href)
    status.textContent = 'Checked.'
  } catch (err) {
    status.textContent = 'The check failed: ' + err.message
  }
})
