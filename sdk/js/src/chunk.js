// The core's side of the lazily loaded chunk (extra.js): what only some
// pages need downloads only there, from the same origin as tailor.js,
// under a content-hashed name (EXTRA, set by build/loader.sh), so the
// HTTP cache keeps it for good.

import { decode } from './msgpack.js'
import { st, log } from './state.js'
import { names } from './page.js'
import { send, interacted } from './signals.js'
import { hide } from './slots.js'
import { toItem } from './api.js'

/** extra resolves with the chunk's functions (extra.js, init), loading it
 * once; with undefined when it cannot load. */
export const extra = () =>
  (st.extra ||= import(st.o.origin + '/assets/' + EXTRA).then((m) => m.init({ st, send, interacted, hide, toItem, names, decode }), log))
