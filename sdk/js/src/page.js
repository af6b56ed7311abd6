// What the loader reads from the page: items as the page describes them
// (data-tailor-* attributes, schema.org Product JSON-LD, GA4 dataLayer
// items), the moment's context, and the site search query. Everything is
// cut to wire's limits (sdk/wire: ids 64 bytes, text 256, 16 tags), so the
// guest never refuses a document for its size.

import { utf8 } from './msgpack.js'

export const ITEM = 'data-tailor-item'
export const SLOT = 'data-tailor-slot'

/** fits returns s when it is a non-empty string of at most max UTF-8 bytes
 * (a UTF-16 unit takes 3 at most: short strings need no encoding). */
export const fits = (s, max = 64) => (s && (s.length * 3 <= max || utf8(s).length <= max) ? s : '')

/** names holds display names of items, for explanations (bounded). */
export const names = new Map()

/** named records an item's display name. */
export function named(id, name) {
  name = (name || '').trim().replace(/\s+/g, ' ').slice(0, 80)
  if (!name) return
  names.delete(id)
  names.set(id, name)
  if (names.size > 300) names.delete(names.keys().next().value)
}

/** item returns a wire.Item {i, c, t, p} from a description, or null. */
export function item(id, category, tags, price, name) {
  id = fits(String(id ?? '').trim())
  if (!id) return null
  named(id, name)
  price = +price
  return {
    i: id,
    c: fits(String(category || '').trim()),
    t: (Array.isArray(tags) ? tags : String(tags || '').split(','))
      .map((t) => fits(String(t).trim()))
      .filter(Boolean)
      .slice(0, 16),
    p: price > 0 && price < 1e9 ? price : 0,
  }
}

const attr = (el, k) => el.getAttribute('data-tailor-' + k)

/** fromElement reads an element with data-tailor-item. */
export const fromElement = (el) =>
  item(
    attr(el, 'item'),
    attr(el, 'category'),
    attr(el, 'tags'),
    attr(el, 'price'),
    attr(el, 'name') || el.querySelector('h1,h2,h3,h4,[itemprop=name]')?.textContent || el.textContent
  )

/** byId finds the element describing item id, if the page has one. */
export const byId = (id) => document.querySelector('[' + ITEM + '="' + CSS.escape(id) + '"]')

/** mainItems returns the page's own items: those outside any slot, when
 * there are at most three (a product or article page, not a list), and
 * schema.org Products from JSON-LD. Each is [item, element or null]. */
export function mainItems() {
  const els = [...document.querySelectorAll('[' + ITEM + ']')].filter((e) => !e.closest('[' + SLOT + ']'))
  const out = els.length > 3 ? [] : els.map((e) => [fromElement(e), e])
  for (const s of document.querySelectorAll('script[type="application/ld+json"]')) {
    try {
      products(JSON.parse(s.textContent), out)
    } catch {}
  }
  return out.filter((x) => x[0])
}

// products collects schema.org Products (also in arrays and @graph).
function products(x, out) {
  if (Array.isArray(x)) return x.forEach((y) => products(y, out))
  if (!x || typeof x != 'object') return
  if ([].concat(x['@type']).includes('Product')) {
    const o = [].concat(x.offers || [])[0] || {}
    const cat = typeof x.category == 'object' ? x.category.name : x.category
    const id = x.sku || x.productID || x.mpn || x['@id']
    const el = id && byId(id)
    out.push([
      el
        ? fromElement(el)
        : item(
            id,
            String(cat || '').split(/\s*[>/]\s*/).pop(),
            [x.color, x.material, x.brand?.name || x.brand].filter((t) => typeof t == 'string'),
            o.price ?? o.lowPrice,
            x.name
          ),
      el,
    ])
  }
  products(x['@graph'], out)
}

/** fromGA reads a GA4 ecommerce item; the page's own description of the
 * same id, when it has one, wins (its categories are the site's slugs). */
export function fromGA(g) {
  const id = g.item_id ?? g.id
  const el = id != null && byId(String(id))
  if (el) return fromElement(el)
  return item(
    id,
    g.item_category ?? g.category,
    [g.item_category2, g.item_category3, g.item_brand, g.item_variant].filter(Boolean),
    g.price,
    g.item_name ?? g.name
  )
}

/** query returns the site search query of the URL, if any. */
export function query() {
  const u = new URLSearchParams(location.search)
  const q = ['q', 's', 'search', 'query'].map((k) => u.get(k)).find((v) => v && v.trim())
  return q ? q.trim().slice(0, 80) : ''
}

const PAGES = ['home', 'product', 'category', 'article', 'search', 'cart', 'other']

/** pageType is <body data-tailor-page>, or a guess from the URL and content. */
export function pageType() {
  const v = document.body && attr(document.body, 'page')
  if (v) return PAGES.includes(v) ? v : 'other'
  const p = location.pathname
  return /^\/(index\.\w+)?$/.test(p)
    ? 'home'
    : query()
      ? 'search'
      : /cart|basket|bag|checkout/i.test(p)
        ? 'cart'
        : mainItems().length
          ? 'product'
          : /blog|article|post|news|journal|stor(y|ies)/i.test(p)
            ? 'article'
            : document.querySelector('[' + ITEM + ']')
              ? 'category'
              : 'other'
}

/** device is the device class: "mobile", "tablet" or "desktop". */
export function device() {
  const ua = navigator.userAgent
  const coarse = matchMedia('(pointer:coarse)').matches
  if (navigator.userAgentData?.mobile) return 'mobile'
  if (/iPad|Tablet/i.test(ua) || (coarse && Math.min(screen.width, screen.height) >= 600) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1))
    return 'tablet'
  return coarse || /Mobi/i.test(ua) ? 'mobile' : 'desktop'
}

/** referrer classifies how the visitor came: utm_medium and click ids
 * first, then document.referrer's host. */
export function referrer() {
  const u = new URLSearchParams(location.search)
  const med = (u.get('utm_medium') || '').toLowerCase()
  if (/cpc|ppc|paid|display|^ads?$|banner|retargeting/.test(med) || u.has('gclid') || u.has('msclkid')) return 'ads'
  if (/mail|newsletter/.test(med)) return 'email'
  if (/social/.test(med)) return 'social'
  let h
  try {
    h = new URL(document.referrer).hostname
  } catch {
    return 'direct'
  }
  return h == location.hostname
    ? 'internal'
    : /(^|\.)(google|bing|yahoo|duckduckgo|baidu|yandex|ecosia|qwant|startpage|naver)\./.test(h)
      ? 'search'
      : /(^|\.)(facebook|instagram|linkedin|pinterest|tiktok|reddit|youtube|twitter|threads|snapchat)\.|^(t\.co|x\.com|lnkd\.in)$/.test(h)
        ? 'social'
        : /(^|\.)(mail|webmail|outlook)\./.test(h)
          ? 'email'
          : 'other'
}
