package publish

import (
	"hash/maphash"
	"sync"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/store"
)

// maxOffered bounds the deltas offered and not yet folded: a leader that
// lags (a publication holds mu while appends go on) or deltas never
// folded here (leadership lost) cannot make it grow; past it, what is
// offered is forgotten and fold decodes those deltas' bodies.
const maxOffered = 2 * foldBatch

// handoff holds the deltas the API decoded and checked and is appending,
// by id, so that the leader's fold takes the decoded value instead of
// decoding the stored body again (a sync's second decode was ~10% of its
// CPU). A value is taken only for the stored delta whose site and bytes
// are the ones offered: canonical bytes decode to the value they were
// encoded from (ingest's FuzzDecode checks it), so fold gets what
// decoding the body would give. Followers, restarts and other replicas'
// deltas still decode bodies.
//
// The bytes are compared by length and a maphash under a seed drawn per
// process, not kept (a copy was a tenth of the bytes a sync allocated):
// two bodies of one id differ only when two syncs race with the same id
// and other contents, and no one outside the process knows the seed to
// make such a pair collide (2^-64 by chance). Even then fold would count
// the other one of two checked deltas of the same sender.
type handoff struct {
	mu sync.Mutex
	m  map[[16]byte]offered
}

// handoffSeed is the seed of the bodies' maphash.
var handoffSeed = maphash.MakeSeed()

// offered is a delta the API is appending.
type offered struct {
	site string
	n    int    // len of the canonical bytes given to the store
	sum  uint64 // their maphash
	d    *wire.Delta
}

// Offer hands the aggregator the decoded, checked delta d whose canonical
// encoding body the caller is about to append, and reports whether it
// kept it: only a leader does, one delta per id (the first offered), and
// at most maxOffered. The caller must not change d afterwards, and calls
// Withdraw when the append does not record d (refused, a duplicate, an
// error).
//
//	kept := agg.Offer(&d, body)
//	a, err := st.Append(ctx, store.Delta{..., Body: body})
//	if kept && (err != nil || a.Duplicate) {
//		agg.Withdraw(&d)
//	}
//	agg.Notify()
func (a *Aggregator) Offer(d *wire.Delta, body []byte) bool {
	if !a.leading.Load() {
		return false
	}
	o := offered{site: d.Site, n: len(body), sum: maphash.Bytes(handoffSeed, body), d: d}
	h := &a.handoff
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.m[d.ID]; ok {
		return false
	}
	if h.m == nil || len(h.m) >= maxOffered {
		h.m = make(map[[16]byte]offered, 64)
	}
	h.m[d.ID] = o
	return true
}

// Withdraw forgets d, offered (and kept) before an append that did not
// record it. Another delta offered since under the same id stays.
func (a *Aggregator) Withdraw(d *wire.Delta) {
	h := &a.handoff
	h.mu.Lock()
	defer h.mu.Unlock()
	if o, ok := h.m[d.ID]; ok && o.d == d {
		delete(h.m, d.ID)
	}
}

// take returns the value offered for a stored delta and forgets it, or
// nil when none with its site and bytes was.
func (h *handoff) take(d *store.Delta) *wire.Delta {
	h.mu.Lock()
	o, ok := h.m[d.ID]
	delete(h.m, d.ID) // the id is recorded with d.Body: another body never matches
	h.mu.Unlock()
	if !ok || o.site != d.Site || o.n != len(d.Body) || o.sum != maphash.Bytes(handoffSeed, d.Body) {
		return nil
	}
	return o.d
}
