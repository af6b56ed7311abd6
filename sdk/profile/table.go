package profile

import "math"

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
// means no fading.
func Decay(w float32, then, now, h int64) float32 {
	if now <= then || h == 0 {
		return w
	}
	return w * float32(math.Exp2(-float64(now-then)/float64(h)))
}

// Add adds w to the entry for key, faded by h first; when the table is
// full, the entry faded weakest at now makes room.
func (t *Table) Add(key string, w float32, now, h int64, max int) {
	s := *t
	for i := range s {
		if e := &s[i]; e.Key == key {
			e.W, e.Time = Decay(e.W, e.Time, now, h)+w, now
			return
		}
	}
	if len(s) >= max {
		weakest := 0
		for i := range s {
			if Decay(s[i].W, s[i].Time, now, h) < Decay(s[weakest].W, s[weakest].Time, now, h) {
				weakest = i
			}
		}
		s[weakest] = s[len(s)-1]
		s = s[:len(s)-1]
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
