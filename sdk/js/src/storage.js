// The device's storage: one IndexedDB record per site key, holding the
// saved profile (tailor_save_profile bytes), item names for explanations
// and the ranking mode. Every operation settles, never rejects: when
// IndexedDB is missing, blocked (private mode, sandboxed frames) or slow,
// it answers null and Tailor keeps its state in memory.

let db

// open opens the database once; up runs if the open creates it.
const open = (up) =>
  (db ||= new Promise((done) => {
    setTimeout(done, 5000, null) // some private modes never answer; a busy machine can take seconds
    try {
      const r = indexedDB.open('tailor', 1)
      r.onupgradeneeded = () => (r.result.createObjectStore('kv'), up?.())
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

/** get resolves with the record saved under key, or a falsy value. The
 * database is opened at once, beside indexedDB.databases(): a returning
 * visitor's read waits for the open and the read only, not for the list
 * first (one round trip to the browser's IndexedDB less: the stored
 * profile came 14-38 ms sooner warm on the demo's home page, RATIONALE.md).
 * A device without the database answers as soon as the list says so or
 * the open starts creating it, whichever comes first, while the creation
 * (a disk write, the slowest step of a first visit's start: TestSpeed)
 * goes on behind; the first save, later, finds it open. */
export const get = (key) =>
  new Promise((done) => {
    // Whichever tells first that there is no database: the list, or the
    // open creating it. The list is asked first: asked after the open, it
    // answered after it in a fresh Chromium, the open's creation first
    // (cold, the profile stage 22-35 ms later, RATIONALE.md).
    try {
      indexedDB.databases().then((l) => l.some((d) => d.name == 'tailor') || done(), () => 0)
    } catch {} // no databases() (Firefox before 126) or no IndexedDB: open tells
    open(done)
    run('readonly', (s) => s.get(key)).then(done)
  })

/** put saves a record under key, then calls was with the record it
 * replaced (undefined: none), if it could read it. The write is made at
 * once, not after the read: a page going away has no time to wait. */
export const put = (key, v, was) => run('readwrite', (s) => ((s.get(key).onsuccess = (e) => was?.(e.target.result)), s.put(v, key)))

/** del removes the record under key. */
export const del = (key) => run('readwrite', (s) => s.delete(key))

/** usable resolves with whether IndexedDB works here. */
export const usable = async () => !!(await open())
