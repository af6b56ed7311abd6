// Storage and sync: the profile saved on the device (storage.js), read
// back when another tab or page learned more, and the profile delta sent
// to the server.

import * as storage from './storage.js'
import { names, named } from './page.js'
import { st, guard, quiet } from './state.js'
import { rankAll } from './slots.js'
import { track } from './signals.js'

export function saveSoon() {
  st.timers.save ||= setTimeout(save, 1000)
}

// save writes the profile, and reads in the same transaction the record
// it replaces: when another tab, or the pages visited while this one sat
// in the back/forward cache, wrote it since this page last read or wrote
// one, ours lacked what they learned. Then that record's profile is taken,
// the events this page saw since its last write (st.held) are tracked
// again on it, and the two sides are saved together.
export function save() {
  clearTimeout(st.timers.save)
  st.timers.save = 0
  if (st.call && st.granted)
    guard(() => {
      const p = st.call('save_profile')
      const n = st.held.length // in this write: not tracked again once it is known to be kept
      const was = st.stamp
      const t = p.length < 1 << 16 && (st.stamp = Date.now())
      t && storage.put(st.o.site, { p, n: [...names], m: st.mode, t }, (rec) => (rec?.t - was ? (take(rec), (st.stamp = t), save()) : st.held.splice(0, n)))
    })
}

// take makes the stored record the profile in memory, then tracks again
// the events this page saw since it last read or wrote one. A record
// without a profile is what forget() leaves: forget here too, those events
// included. A record that does not load changes nothing.
export function take(rec) {
  if (rec.p ? guard(st.call, 'load_profile', rec.p) : !wipe()) {
    const ev = st.held.splice(0)
    restore(rec)
    ev.forEach(track)
  }
}

// restore takes names, mode and time from a stored record.
export function restore(rec) {
  st.stamp = rec.t
  guard(() => rec.n.forEach(([id, n]) => named(id, n)))
  if (!st.modeSet && (rec.m == 'ai' || rec.m == 'rules')) st.mode = rec.m
}

// refresh takes the stored record when it is newer than the profile in
// memory: another tab, or the pages visited since this one went into the
// back/forward cache, learned more.
export async function refresh() {
  const rec = st.granted && (await storage.get(st.o.site))
  if (st.call && rec?.t > st.stamp) guard(() => (take(rec), rankAll()))
}

// wipe forgets the visitor in memory, the mode chosen included: a
// rules-only arm would mark the deltas after it as the same visitor's.
export function wipe() {
  names.clear()
  st.last.clear()
  st.held.length = st.queue.length = 0
  st.mode = 'ai'
  st.call?.('forget')
}

export const syncing = () => st.granted && st.privacy != 'local' && !navigator.globalPrivacyControl

// sync sends the profile delta, if any, to {origin}/v1/sync: a text/plain
// body, so that no CORS preflight is needed. The events sent are not
// tracked again over another tab's record (save): their statistics would
// be sent twice.
export function sync() {
  if (st.call && syncing())
    guard(() => {
      const d = st.call('take_delta')
      if (!d.length) return
      const url = st.o.origin + '/v1/sync'
      const body = new Blob([d], { type: 'text/plain' })
      navigator.sendBeacon?.(url, body) || quiet(fetch(url, { method: 'POST', body, keepalive: true, mode: 'no-cors', credentials: 'omit' }))
      st.held.length = 0
      save()
    })
}
