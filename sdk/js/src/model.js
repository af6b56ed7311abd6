// The model: the site's manifest, its configuration and weight shards
// (server/api: GET /v1/model, /v1/config/{hash}, /v1/shards/{hash}).

import { utf8 } from './msgpack.js'

/** manifest fetches GET {origin}/v1/model?site=KEY and returns what the
 * loader needs of it. Every field of the server's manifest that the loader
 * reads is read here, and nowhere else:
 *
 *   {hashes: [shard name by index], versions: [shard version by index],
 *    head: true, config: {url}, assets: {"tailor.wasm": {url}}, slots}
 *
 * Shard i < count holds the items shardOf(id, count) = i; with head, the
 * last shard (index count, one less than the hashes) is the head: the
 * most popular items. A shard's URL is /v1/shards/{name} (its name: 128
 * bits of its hash, in hex); other URLs may be relative to the origin.
 * The browser's HTTP cache revalidates the manifest with its ETag
 * (If-None-Match) once its max-age is over, behind the page while
 * server/api's stale-while-revalidate allows; setting that header by hand
 * would cost a CORS preflight. */
export async function manifest(origin, site) {
  const r = await fetch(origin + '/v1/model?site=' + encodeURIComponent(site), { credentials: 'omit' })
  if (!r.ok) throw Error('manifest: HTTP ' + r.status)
  const abs = (u) => new URL(u, origin).href
  // What every page view fetches next (server/api FetchHeader: the
  // configuration and the head shard), requested now, not once the body
  // is read: on a cold page the main thread hands that over 10-280 ms
  // after the headers. A failure shows where the blob is used. Two at
  // most, whatever a hostile header names (PRIVACY.md, code delivery).
  r.headers.get('tailor-fetch')?.split(' ', 2).map((u) => bytes(abs(u)).catch((e) => e))
  const m = await r.json()
  const h = m.hashes || [], n = h.length - !!m.head
  return {
    count: n,
    config: m.config && abs(m.config.url),
    shards: h.map((s, index) => ({ index, version: m.versions[index], head: index == n, url: abs('/v1/shards/' + s) })),
    // tailor.wasm at its content-hashed, immutable URL; its integrity hash
    // is not used: it comes from the same server as the wasm itself
    wasm: m.assets?.['tailor.wasm'] && abs(m.assets['tailor.wasm'].url),
    // the site's slots declared by CSS selector (extra.js, mark)
    slots: m.slots,
  }
}

/** bytes fetches a blob (configuration, shard), once a page view:
 * immutable, so the HTTP cache keeps it. */
export const bytes = (url) =>
  (got[url] ||= fetch(url, { credentials: 'omit' }).then(async (r) => {
    if (!r.ok) throw Error('HTTP ' + r.status)
    return new Uint8Array(await r.arrayBuffer())
  }))
const got = {}

/** shardOf is wire.ShardOf: FNV-1a 32 over the id's UTF-8 bytes, mod n. */
export function shardOf(id, n) {
  if (n <= 1) return 0
  let h = 2166136261
  for (const b of utf8(id)) h = Math.imul(h ^ b, 16777619) >>> 0
  return h % n
}
