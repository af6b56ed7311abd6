// Package delta accumulates, on the device, the statistics a profile delta
// carries (item transitions, interest counts, per-arm outcomes) and turns
// them into a bounded wire.Delta: clipped to the hard size cap, optionally
// with local differential privacy noise.
//
//	var s delta.Stats
//	s.AddPair("gown-1", "heels-3", 1)
//	d, ok := s.Take(delta.Header{Site: "demo", Model: 4, ID: id}, rng)
//
// # Notes
//
// Stats is not goroutine-safe. Its size is bounded: past MaxPending entries
// the weakest are dropped.
package delta

import (
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
	"math"
)

// MaxPending bounds how many pairs and items Stats keeps between syncs.
const MaxPending = 2 * wire.MaxDeltaPairs

// Stats is what a device has to report since its last sync.
type Stats struct {
	pairs counts // key: from+"\x00"+to
	items counts
	arms  [3]wire.ArmCount
}

// Header is what a delta says about itself besides its statistics.
type Header struct {
	Site    string
	Model   uint32
	ID      [16]byte
	Epsilon float32 // > 0: add Laplace noise with this budget (federated+ldp)
}

// Rand is a source of uniform floats in [0, 1), for the LDP noise.
type Rand interface{ Float64() float64 }

// AddPair records that from was followed by to within a session.
func (s *Stats) AddPair(from, to string, w float32) {
	if from == to || w <= 0 {
		return
	}
	s.pairs.add(from+"\x00"+to, w)
}

// AddItem records interest in an item.
func (s *Stats) AddItem(id string, w float32) {
	if w <= 0 {
		return
	}
	s.items.add(id, w)
}

// AddArm records impressions, clicks and conversions for an arm.
// Counts saturate at what DecodeFrom and wire.Delta accept; adding nothing
// leaves the arm empty.
func (s *Stats) AddArm(a wire.Arm, impressions, clicks, conversions uint32) {
	if impressions == 0 && clicks == 0 && conversions == 0 {
		return
	}
	c := &s.arms[a]
	c.Arm = a
	c.Impressions = addCount(c.Impressions, impressions)
	c.Clicks = addCount(c.Clicks, clicks)
	c.Conversions = addCount(c.Conversions, conversions)
}

func addCount(a, b uint32) uint32 { return uint32(min(uint64(a)+uint64(b), wire.MaxArmCount)) }

// Empty reports whether there is nothing to sync.
func (s *Stats) Empty() bool {
	return len(s.pairs.list) == 0 && len(s.items.list) == 0 && s.arms == [3]wire.ArmCount{}
}

// Reset forgets everything recorded.
func (s *Stats) Reset() { *s = Stats{} }

// Take builds the delta and resets s. It keeps the strongest pairs and items
// that fit wire.MaxDeltaBytes, and reports false when there is nothing to send.
func (s *Stats) Take(h Header, rng Rand) (wire.Delta, bool) {
	if s.Empty() {
		return wire.Delta{}, false
	}
	d := wire.Delta{Site: h.Site, Model: h.Model, ID: h.ID, Epsilon: h.Epsilon}
	s.pairs.sortStrongest()
	s.items.sortStrongest()
	for _, e := range s.pairs.list[:min(len(s.pairs.list), wire.MaxDeltaPairs)] {
		from, to := splitPair(e.key)
		d.Pairs = append(d.Pairs, wire.Pair{From: from, To: to, W: e.w})
	}
	for _, e := range s.items.list[:min(len(s.items.list), wire.MaxDeltaItems)] {
		d.Items = append(d.Items, wire.Count{ID: e.key, N: e.w})
	}
	for _, a := range s.arms {
		if a != (wire.ArmCount{}) {
			d.Arms = append(d.Arms, a)
		}
	}
	if h.Epsilon > 0 {
		addNoise(&d, h.Epsilon, rng)
	}
	fit(&d)
	s.Reset()
	return d, true
}

func splitPair(k string) (from, to string) {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}

// fit drops the weakest entries until the encoded delta is within the cap.
func fit(d *wire.Delta) {
	w := msgp.NewWriter(wire.MaxDeltaBytes)
	for {
		w.Reset()
		d.EncodeTo(w)
		over := w.Len() - wire.MaxDeltaBytes
		if over <= 0 {
			return
		}
		if len(d.Pairs) == 0 && len(d.Items) == 0 {
			return
		}
		// Drop the weakest entries, pairs first, until their encoded
		// sizes (array header, strings, float32) add up to over.
		for ; over > 0 && len(d.Pairs) > 0; d.Pairs = d.Pairs[:len(d.Pairs)-1] {
			p := &d.Pairs[len(d.Pairs)-1]
			over -= 6 + strSize(p.From) + strSize(p.To)
		}
		for ; over > 0 && len(d.Items) > 0; d.Items = d.Items[:len(d.Items)-1] {
			over -= 6 + strSize(d.Items[len(d.Items)-1].ID)
		}
	}
}

// strSize is the encoded size of a string of up to 64 KiB.
func strSize(s string) int {
	switch {
	case len(s) <= 31:
		return 1 + len(s)
	case len(s) <= 255:
		return 2 + len(s)
	}
	return 3 + len(s)
}

// addNoise applies the Laplace mechanism to every reported weight: each is
// clipped to [0, 1] (sensitivity 1) and released with noise of scale 1/eps,
// so each value is an eps-LDP release. Which keys a delta reports is not
// hidden by this noise (the usual sparse simplification); RATIONALE.md says
// so, and the server's minimum cohort covers it in aggregate.
func addNoise(d *wire.Delta, eps float32, rng Rand) {
	scale := 1 / float64(eps)
	for i := range d.Pairs {
		d.Pairs[i].W = clampNoise(min(d.Pairs[i].W, 1), scale, rng)
	}
	for i := range d.Items {
		d.Items[i].N = clampNoise(min(d.Items[i].N, 1), scale, rng)
	}
}

func clampNoise(w float32, scale float64, rng Rand) float32 {
	u := rng.Float64() - 0.5
	n := -scale * math.Copysign(math.Log(1-2*math.Abs(u)), u)
	v := float64(w) + n
	return float32(max(-wire.MaxDeltaWeight, min(wire.MaxDeltaWeight, v)))
}

// EncodeTo writes the pending statistics for storage in the profile.
func (s *Stats) EncodeTo(w *msgp.Writer) {
	w.ArrayHeader(3)
	s.pairs.encodeTo(w)
	s.items.encodeTo(w)
	w.ArrayHeader(len(s.arms))
	for _, a := range s.arms {
		w.ArrayHeader(3)
		w.Uint(uint64(a.Impressions))
		w.Uint(uint64(a.Clicks))
		w.Uint(uint64(a.Conversions))
	}
}

// DecodeFrom reads statistics written by EncodeTo.
func (s *Stats) DecodeFrom(r *msgp.Reader) {
	*s = Stats{}
	r.Tuple(3)
	s.pairs.decodeFrom(r)
	s.items.decodeFrom(r)
	n := r.ArrayMax(len(s.arms))
	for i := 0; i < n; i++ {
		r.Tuple(3)
		a := wire.ArmCount{Impressions: uint32(r.UintMax(wire.MaxArmCount)),
			Clicks: uint32(r.UintMax(wire.MaxArmCount)), Conversions: uint32(r.UintMax(wire.MaxArmCount))}
		if a != (wire.ArmCount{}) {
			a.Arm = wire.Arm(i) // an arm with no counts stays empty, as AddArm leaves it
		}
		s.arms[i] = a
	}
}
