// Storage and sync: the profile saved on the device (storage.js), read
// back when another tab or page learned more, and the profile delta sent
// to the server.

import * as storage from './storage.js'
import { names, named } from './page.js'
import { st, guard, quiet } from './state.js'
import { rankAll } from './slots.js'

export function saveSoon() {
  st.timers.save ||= setTimeout(save, 1000)
}

export function save() {
  clearTimeout(st.timers.save)
  st.timers.save = 0
  if (st.call && st.granted)
    guard(() => {
      const p = st.call('save_profile')
      p.length < 1 << 16 && storage.put(st.o.site, { p, n: [...names], m: st.mode, t: (st.stamp = Date.now()) })
    })
}

// restore takes names, mode and time from a stored record.
export function restore(rec) {
  st.stamp = rec.t
  guard(() => rec.n.forEach(([id, n]) => named(id, n)))
  if (!st.modeSet && (rec.m == 'ai' || rec.m == 'rules')) st.mode = rec.m
}

// refresh takes the stored profile when it is newer than the one in
// memory: another tab, or the pages visited since this one went into the
// back/forward cache, learned more, and saving ours would lose that.
// A record without a profile is what forget() leaves: forget here too.
export async function refresh() {
  const rec = st.granted && (await storage.get(st.o.site))
  if (st.call && rec?.t > st.stamp) guard(() => (rec.p ? st.call('load_profile', rec.p) : wipe(), restore(rec), rankAll()))
}

// wipe forgets the visitor in memory.
export function wipe() {
  names.clear()
  st.last.clear()
  st.held.length = st.queue.length = 0
  st.call?.('forget')
}

export const syncing = () => st.granted && st.privacy != 'local' && !navigator.globalPrivacyControl

// sync sends the profile delta, if any, to {origin}/v1/sync: a text/plain
// body, so that no CORS preflight is needed.
export function sync() {
  if (st.call && syncing())
    guard(() => {
      const d = st.call('take_delta')
      if (!d.length) return
      const url = st.o.origin + '/v1/sync'
      const body = new Blob([d], { type: 'text/plain' })
      navigator.sendBeacon?.(url, body) || quiet(fetch(url, { method: 'POST', body, keepalive: true, mode: 'no-cors', credentials: 'omit' }))
      save()
    })
}
