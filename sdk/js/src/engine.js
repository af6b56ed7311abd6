// The host side of tailor.wasm's ABI (wasm/guest, wasm/abi), as the Go
// harness (wasm/harness/instance.go) does it: one reused input buffer from
// tailor_alloc, a status per call, the output copied out of linear memory
// at once (memory growth detaches every view).

import { wasi } from './wasi.js'
import { text } from './msgpack.js'
import { st, mark } from './state.js'

/** load fetches, compiles and starts tailor.wasm (a WASI reactor). */
export async function load(url, debug) {
  let memory
  const imports = { wasi_snapshot_preview1: wasi(() => memory, debug) }
  const r = await fetch(url, { credentials: 'omit' })
  if (!r.ok) throw Error('tailor.wasm: HTTP ' + r.status)
  // Streaming compiles while the bytes arrive, but only with the right
  // Content-Type; a server that sends another falls back to a buffer.
  const { instance } = /^application\/wasm/.test(r.headers.get('content-type'))
    ? await WebAssembly.instantiateStreaming(r, imports)
    : await WebAssembly.instantiate(await r.arrayBuffer(), imports)
  mark('compiled') // and instantiated: ~1 ms of it
  // Tailor's work in this task begins (boot.js slice): warm, the start,
  // configuration and first ranking follow in it when short.
  st.ran = performance.now()
  const x = instance.exports
  memory = x.memory
  x._initialize()
  mark('initialized')
  return engine(x)
}

/** engine wraps a started instance's exports. call(op, input) runs
 * tailor_<op> and returns a copy of its output, or throws with the guest's
 * message on a status other than OK (abi.Status). */
function engine(x) {
  let buf = 0
  let cap = 0
  const write = (b) => {
    if (b.length > cap) {
      if (buf) x.tailor_free(buf)
      cap = Math.max(b.length, 65536)
      buf = x.tailor_alloc(cap) >>> 0
      if (!buf) throw ((cap = 0), Error('tailor.wasm: input of ' + b.length + ' bytes refused'))
    }
    new Uint8Array(x.memory.buffer, buf, b.length).set(b)
    return buf
  }
  return (op, input, ...extra) => {
    const st = x['tailor_' + op](...(input ? [write(input), input.length] : []), ...extra)
    const p = x.tailor_out_ptr() >>> 0
    const out = new Uint8Array(x.memory.buffer, p, x.tailor_out_len() >>> 0).slice()
    if (st) throw Error('tailor.wasm ' + op + ': status ' + st + ': ' + text(out))
    return out
  }
}
