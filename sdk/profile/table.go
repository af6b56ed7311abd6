package profile

import (
	"math"

	"github.com/tailorhq/tailor/sdk/internal/order"
)

// Entry is a keyed weight that fades with time: an item remembered from
// earlier visits, an attribute affinity, a rule fact, a transition.
type Entry struct {
	Key  string
	W    float32
	Time int64 // when W was last set
}

// Table is a bounded list of entries. One type serves every part of the
// profile that remembers "how much, and when", so the guest carries one
// copy of this code.
type Table []Entry

// Decay returns w faded from time then to now by the half-life h; h = 0
// means no fading. A time after now leaves w as it is, and so does one so
// far before it that now-then wraps (stored times a page's script could
// forge: wasm/harness TestHostileProfile).
func Decay(w float32, then, now, h int64) float32 {
	if now-then <= 0 || h == 0 {
		return w
	}
	return w * float32(math.Exp2(-float64(now-then)/float64(h)))
}

// Add adds w to the entry for key, faded by h first. When the table is
// full, a quarter of it makes room at once (the weakest, faded to now; or,
// for tables that do not fade, the oldest), so the cost of eviction is
// shared by the adds that follow.
func (t *Table) Add(key string, w float32, now, h int64, max int) {
	s := *t
	for i := range s {
		if e := &s[i]; e.Key == key {
			e.W, e.Time = Decay(e.W, e.Time, now, h)+w, now
			return
		}
	}
	if len(s) >= max {
		// Fading tables keep the strongest; others (h = 0) the most recent.
		key := func(e *Entry) float64 { return float64(e.Time) }
		if h > 0 {
			for i := range s {
				s[i].W, s[i].Time = Decay(s[i].W, s[i].Time, now, h), now
			}
			key = func(e *Entry) float64 { return float64(e.W) }
		}
		order.Sort(len(s), func(i, j int) bool {
			ki, kj := key(&s[i]), key(&s[j])
			return ki > kj || ki == kj && s[i].Key < s[j].Key
		}, func(i, j int) { s[i], s[j] = s[j], s[i] })
		s = s[:max-max/4-1]
	}
	*t = append(s, Entry{Key: key, W: w, Time: now})
}

// Get returns the weight for key faded by h to now, or 0.
func (t Table) Get(key string, now, h int64) float32 {
	for _, e := range t {
		if e.Key == key {
			return Decay(e.W, e.Time, now, h)
		}
	}
	return 0
}

// Max returns the largest weight faded by h to now, or 0.
func (t Table) Max(now, h int64) float32 {
	m := float32(0)
	for _, e := range t {
		m = max(m, Decay(e.W, e.Time, now, h))
	}
	return m
}
