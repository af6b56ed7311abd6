// The device's storage: one IndexedDB record per site key, holding the
// saved profile (tailor_save_profile bytes), item names for explanations
// and the ranking mode. Every operation settles, never rejects: when
// IndexedDB is missing, blocked (private mode, sandboxed frames) or slow,
// it answers null and Tailor keeps its state in memory.

let db

const open = () =>
  (db ||= new Promise((done) => {
    setTimeout(done, 5000, null) // some private modes never answer; a busy machine can take seconds
    try {
      const r = indexedDB.open('tailor', 1)
      r.onupgradeneeded = () => r.result.createObjectStore('kv')
      r.onsuccess = () => done(r.result)
      r.onerror = () => done(null)
    } catch {
      done(null)
    }
  }))

// run performs one request on the store; it settles with its result, or
// null on any failure.
const run = async (mode, op) => {
  const d = await open()
  return new Promise((done) => {
    try {
      const t = d.transaction('kv', mode)
      const q = op(t.objectStore('kv'))
      q.onsuccess = () => done(q.result ?? null)
      q.onerror = () => done(null)
      t.commit && mode != 'readonly' && t.commit() // write now: the page may be going away
    } catch {
      done(null)
    }
  })
}

/** get resolves with the record saved under key, or a falsy value. A
 * device without the database answers at once and creates it behind: on a
 * first visit, creating it (a disk write) is the slowest step of the start
 * (TestSpeed); the first save, later, finds it open. */
export const get = async (key) => {
  try {
    if (!(await indexedDB.databases()).some((d) => d.name == 'tailor')) return void open()
  } catch {} // no databases() (Firefox before 126) or no IndexedDB: open tells
  return run('readonly', (s) => s.get(key))
}

/** put saves a record under key, then calls was with the record it
 * replaced (undefined: none), if it could read it. The write is made at
 * once, not after the read: a page going away has no time to wait. */
export const put = (key, v, was) => run('readwrite', (s) => ((s.get(key).onsuccess = (e) => was?.(e.target.result)), s.put(v, key)))

/** del removes the record under key. */
export const del = (key) => run('readwrite', (s) => s.delete(key))

/** usable resolves with whether IndexedDB works here. */
export const usable = async () => !!(await open())
