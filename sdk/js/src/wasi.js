// A minimal wasi_snapshot_preview1 for the Go wasip1 runtime in a
// browser: no files, no arguments, no environment. The Go runtime imports
// these at most (list them from a build with WebAssembly.Module.imports);
// anything else answers ENOSYS.

import { text } from './msgpack.js'

const EBADF = 8
const ENOSYS = 52

/** wasi returns the import module; mem() gives the instance's memory,
 * whose buffer is read anew on every call (memory.grow detaches it). */
export function wasi(mem, debug) {
  const dv = () => new DataView(mem().buffer)
  const zeros = (a, b) => {
    const v = dv()
    v.setUint32(a, 0, true)
    v.setUint32(b, 0, true)
    return 0
  }
  const ok = () => 0
  const f = {
    args_sizes_get: zeros,
    environ_sizes_get: zeros,
    args_get: ok,
    environ_get: ok,
    sched_yield: ok,
    fd_close: ok,
    // EBADF: no preopened directory. Any other answer and the Go runtime
    // panics at init looking for one.
    fd_prestat_get: () => EBADF,
    fd_write(fd, iovs, n, written) {
      const v = dv()
      let total = 0
      let s = ''
      for (let i = 0; i < n; i++) {
        const p = v.getUint32(iovs + 8 * i, true)
        const k = v.getUint32(iovs + 8 * i + 4, true)
        total += k
        if (debug) s += text(new Uint8Array(v.buffer, p, k))
      }
      v.setUint32(written, total, true)
      if (debug && fd == 2) console.debug('tailor.wasm: ' + s)
      return 0
    },
    random_get(p, n) {
      // getRandomValues fills at most 64 KiB at a time
      for (let i = 0; i < n; i += 65536)
        crypto.getRandomValues(new Uint8Array(mem().buffer, p + i, Math.min(65536, n - i)))
      return 0
    },
    clock_time_get(id, precision, p) {
      // 0: realtime, else monotonic; nanoseconds
      const ms = (id ? 0 : performance.timeOrigin) + performance.now()
      dv().setBigUint64(p, BigInt(Math.round(ms * 1e6)), true)
      return 0
    },
    // The runtime sleeps when it has nothing to run; a page cannot block,
    // so the sleep ends at once: every subscription fired.
    poll_oneoff(inp, out, n, nevents) {
      dv().setUint32(nevents, n, true)
      return 0
    },
    proc_exit(code) {
      throw Error('tailor.wasm exited ' + code)
    },
  }
  return new Proxy(f, { get: (t, k) => t[k] || (() => ENOSYS) })
}
