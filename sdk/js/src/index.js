// The ES module build (dist/tailor.mjs), for sites that bundle:
//
//   import { start, rank } from './tailor.mjs'
//   start({ site: 'KEY', origin: 'https://HOST' })
//
// origin defaults to this module's own origin.

import { tailor } from './api.js'
import { start as boot } from './boot.js'

export { tailor }
export default tailor
export const start = (opts) => boot({ origin: new URL(import.meta.url).origin, ...opts })
export const { ready, rank, track, set, explain, profile, forget, consent, mode, scan } = tailor
