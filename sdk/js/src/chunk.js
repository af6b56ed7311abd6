// The core's side of the lazily loaded chunks: what only some pages need
// downloads only there, from the same origin as tailor.js, under a
// content-hashed name (EXTRA and DETAILS, set by build/loader.sh), so the
// HTTP cache keeps it for good.

import { decode } from './msgpack.js'
import { st, log } from './state.js'
import { names } from './page.js'
import { send, interacted } from './signals.js'
import { hide } from './slots.js'
import { toItem } from './api.js'

// load imports a chunk once (st[file] holds its promise) and resolves with
// its functions (its init over the core's), or undefined when it cannot load.
const load = (file) =>
  (st[file] ||= import(st.o.origin + '/assets/' + file).then((m) => m.init({ st, send, interacted, hide, toItem, names, decode }), log))

/** extra resolves with the page scanner's chunk (extra.js). */
export const extra = () => load(EXTRA)

/** details resolves with profile()'s details (details.js). */
export const details = () => load(DETAILS)
