// The script-tag build (dist/tailor.js):
//
//   <script src="https://HOST/tailor.js" data-site="KEY" async></script>
//
// It reads its options from its own tag, sets window.tailor, and replays
// the calls queued before it loaded: window.tailor = window.tailor || []
// then tailor.push(["track", {...}]) or tailor.push(function (t) {...}).

import { tailor } from './api.js'
import { start } from './boot.js'

const q = window.tailor
if (!q?.ready) {
  window.tailor = tailor
  try {
    const s = document.currentScript
    const d = s.dataset
    start({
      site: d.site,
      origin: new URL(s.src).origin,
      timeout: d.tailorTimeout,
      consent: d.consent,
      privacy: d.privacy,
      explore: d.explore,
      epsilon: d.epsilon,
      region: d.region,
      wasm: d.wasm,
      debug: 'debug' in d,
    })
    Array.isArray(q) && q.forEach(tailor.push)
  } catch {}
}
