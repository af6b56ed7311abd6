// MessagePack, only the subset Tailor's wire documents use (package
// sdk/wire): nil, bool, int, float32/64, str, bin, array, map. Integers
// are written in their shortest form, as sdk/msgp does; other numbers as
// float64, which the guest's Float32 reader accepts. Object keys keep
// their insertion order; undefined values are left out.

const te = new TextEncoder()
const td = new TextDecoder()

/** utf8 returns the UTF-8 bytes of s. */
export const utf8 = (s) => te.encode(s)

/** text decodes UTF-8 bytes. */
export const text = (b) => td.decode(b)

/** encode returns v as MessagePack bytes. */
export function encode(v) {
  let buf = new Uint8Array(512)
  let dv = new DataView(buf.buffer)
  let n = 0
  const need = (k) => {
    if (n + k > buf.length) {
      const b = new Uint8Array(2 * (n + k))
      b.set(buf)
      buf = b
      dv = new DataView(b.buffer)
    }
  }
  const byte = (b) => {
    need(1)
    buf[n++] = b
  }
  // head writes a tag for length or value k: fix (or -1 for none) up to
  // fixMax, then the tags for 8, 16 and 32 bits (0 for none).
  const head = (k, fix, fixMax, t8, t16, t32) => {
    need(5)
    if (k < fixMax) buf[n++] = fix | k
    else if (t8 && k < 256) (buf[n++] = t8), (buf[n++] = k)
    else if (k < 65536) (buf[n++] = t16), dv.setUint16(n, k), (n += 2)
    else (buf[n++] = t32), dv.setUint32(n, k), (n += 4)
  }
  const raw = (b) => {
    need(b.length)
    buf.set(b, n)
    n += b.length
  }
  const put = (v) => {
    if (v == null) byte(0xc0)
    else if (typeof v == 'boolean') byte(v ? 0xc3 : 0xc2)
    else if (typeof v == 'bigint') need(9), (buf[n++] = 0xcf), dv.setBigUint64(n, v), (n += 8)
    else if (typeof v == 'number') {
      if (!Number.isInteger(v)) need(9), (buf[n++] = 0xcb), dv.setFloat64(n, v), (n += 8)
      else if (v >= 0) v < 2 ** 32 ? head(v, 0, 128, 0xcc, 0xcd, 0xce) : put(BigInt(v))
      else if (v >= -32) byte(v & 0xff)
      else need(9), (buf[n++] = 0xd3), dv.setBigInt64(n, BigInt(v)), (n += 8)
    } else if (typeof v == 'string') {
      // ASCII (ids, keys, categories) is copied a byte a character: a
      // TextEncoder call a string was a tenth of a warm start's work
      // (RATIONALE.md); other text goes back and through it.
      const at = n
      let i = 0
      head(v.length, 0xa0, 32, 0xd9, 0xda, 0xdb)
      need(v.length)
      for (let c; i < v.length && (c = v.charCodeAt(i)) < 128; i++) buf[n++] = c
      if (i < v.length) {
        const b = utf8(v)
        n = at
        head(b.length, 0xa0, 32, 0xd9, 0xda, 0xdb)
        raw(b)
      }
    } else if (v instanceof Uint8Array) head(v.length, 0, 0, 0xc4, 0xc5, 0xc6), raw(v)
    else if (Array.isArray(v)) {
      head(v.length, 0x90, 16, 0, 0xdc, 0xdd)
      v.forEach(put)
    } else {
      const e = Object.entries(v).filter((x) => x[1] !== undefined)
      head(e.length, 0x80, 16, 0, 0xde, 0xdf)
      for (const [k, x] of e) put(k), put(x)
    }
  }
  put(v)
  return buf.slice(0, n)
}

/** decode reads one whole MessagePack document: maps become objects, bin
 * becomes Uint8Array, 64-bit integers become (possibly rounded) numbers. */
export function decode(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  let o = 0
  const num = (get, k) => ((o += k), dv[get](o - k))
  const bytes = (k) => {
    if (o + k > b.length) throw Error('msgpack: short')
    return b.subarray(o, (o += k))
  }
  // count refuses a count the remaining bytes cannot hold (one byte each)
  const count = (k) => {
    if (k > b.length - o) throw Error('msgpack: short')
    return k
  }
  const arr = (k) => Array.from({ length: count(k) }, get)
  const map = (k) => {
    const m = {}
    for (count(k); k--; ) {
      const key = get()
      const v = get()
      if (key != '__proto__') m[key] = v
    }
    return m
  }
  // lengths by tag: str 8/16/32, bin 8/16/32, array 16/32, map 16/32
  const len = (t) => num(['getUint8', 'getUint16', 'getUint32'][t], 1 << t)
  function get() {
    const t = num('getUint8', 1)
    if (t < 0x80) return t
    if (t < 0x90) return map(t & 15)
    if (t < 0xa0) return arr(t & 15)
    if (t < 0xc0) return text(bytes(t & 31))
    if (t >= 0xe0) return t - 256
    switch (t) {
      case 0xc0: return null
      case 0xc2: return false
      case 0xc3: return true
      case 0xc4: case 0xc5: case 0xc6: return bytes(len(t - 0xc4)).slice()
      case 0xca: return num('getFloat32', 4)
      case 0xcb: return num('getFloat64', 8)
      case 0xcc: return num('getUint8', 1)
      case 0xcd: return num('getUint16', 2)
      case 0xce: return num('getUint32', 4)
      case 0xcf: return Number(num('getBigUint64', 8))
      case 0xd0: return num('getInt8', 1)
      case 0xd1: return num('getInt16', 2)
      case 0xd2: return num('getInt32', 4)
      case 0xd3: return Number(num('getBigInt64', 8))
      case 0xd9: case 0xda: case 0xdb: return text(bytes(len(t - 0xd9)))
      case 0xdc: case 0xdd: return arr(len(t - 0xdb))
      case 0xde: case 0xdf: return map(len(t - 0xdd))
    }
    throw Error('msgpack: tag ' + t)
  }
  const v = get()
  if (o != b.length) throw Error('msgpack: trailing bytes')
  return v
}
