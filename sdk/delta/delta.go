// Package delta accumulates, on the device, the statistics a profile delta
// carries (item transitions, interest counts, per-arm outcomes) and turns
// them into a wire.Delta that reveals little: the pairs of a block of
// Block items viewed in one visit, in random directions, each with weight
// 1, through items no other delta of the device names, and capped arm
// counts (federated); or a few ε-LDP reports and nothing in the clear
// (federated+ldp).
//
//	var s delta.Stats
//	s.AddView("gown-1")
//	d, ok := s.Take(delta.Header{Site: "demo", Model: 4, ID: id}, rnd)
//
// # Notes
//
// Stats is not goroutine-safe. Its size is bounded: past MaxPending entries
// the weakest are dropped.
package delta

import (
	"github.com/tailorhq/tailor/sdk/internal/rnd"
	"github.com/tailorhq/tailor/sdk/ldp"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// MaxPending bounds how many pairs and items Stats keeps between syncs.
const MaxPending = 2 * wire.MaxDeltaPairs

// What one delta carries at most. A federated delta holds at most
// SampledPairs pairs, the pairs of a block (Block) and of a closed one,
// and through them at most SampledItems items, so that the operator gets
// a few co-occurrences, not the click path: the pairs' directions are
// coin flips, so no ordered run of items can be read from it; no item of
// it is named by another delta of the device (MaxSent), so deltas cannot
// be chained into one either. Arm counts are
// capped so one delta cannot say how long the visitor stayed; the first
// delta of a session to show an arm marks it Exposed, so that the server
// counts the arm's split once per session, not once per delta. A
// federated+ldp delta holds Reports report, always, so even their number
// says nothing about the session.
const (
	SampledPairs   = 4
	SampledItems   = 8
	Reports        = 1
	MaxImpressions = 50
	MaxClicks      = 5
	MaxConversions = 1
)

// Random is the source of the device's random choices: the platform's
// cryptographic generator, never state saved with the profile.
type Random interface{ Uint64() uint64 }

// Stats is what a device has to report since its last sync.
type Stats struct {
	pairs counts // key: from+"\x00"+to
	items counts
	arms  [3]wire.ArmCount
	// shown is which arms have shown impressions this session: it
	// outlives Take, so only the session's first delta of an arm is
	// marked Exposed, and NewSession clears it.
	shown [3]bool
	// sent holds the items federated deltas already named (MaxSent): it
	// outlives Take and Reset; only a new profile (forget) clears it.
	sent string
	// block holds the visit's items no delta named yet, up to Block;
	// closed holds an earlier visit's block of 2 items or more, sent with
	// the next delta. Both outlive Take until sent.
	block, closed []string
}

// Header is what a delta says about itself besides its statistics.
type Header struct {
	Site    string
	Model   uint32
	ID      [16]byte
	Epsilon float32 // > 0: federated+ldp, this budget split over the reports
}

// AddPair records that from was followed by to within a session, with the
// weight a federated+ldp report draws it by, unless a delta of the device
// named either item before (MaxSent).
func (s *Stats) AddPair(from, to string, w float32) {
	if from != to && w > 0 && !has(s.sent, hashKey(from)) && !has(s.sent, hashKey(to)) {
		s.pairs.add(from+"\x00"+to, w)
	}
}

// AddView adds an item the visitor viewed to the visit's block, unless a
// delta named it before, a block holds it, or the block is full.
func (s *Stats) AddView(id string) {
	if id == "" || len(s.block) >= Block || has(s.sent, hashKey(id)) {
		return
	}
	for _, b := range append(s.closed, s.block...) {
		if b == id {
			return
		}
	}
	s.block = append(s.block, id)
}

// AddItem records interest in an item: what federated+ldp reports sample
// beside pairs (a federated delta names items only through its pairs).
func (s *Stats) AddItem(id string, w float32) {
	if w > 0 {
		s.items.add(id, w)
	}
}

// AddArm records impressions, clicks and conversions for an arm; the
// session's first impressions of the arm mark it Exposed. Counts saturate
// at what DecodeFrom and wire.Delta accept; adding nothing leaves the arm
// empty.
func (s *Stats) AddArm(a wire.Arm, impressions, clicks, conversions uint32) {
	if impressions == 0 && clicks == 0 && conversions == 0 {
		return
	}
	c := &s.arms[a]
	c.Arm = a
	if impressions > 0 && !s.shown[a] {
		s.shown[a], c.Exposed = true, true
	}
	c.Impressions = addCount(c.Impressions, impressions)
	c.Clicks = addCount(c.Clicks, clicks)
	c.Conversions = addCount(c.Conversions, conversions)
}

func addCount(a, b uint32) uint32 { return uint32(min(uint64(a)+uint64(b), wire.MaxArmCount)) }

// Empty reports whether there is nothing to sync. Pending pairs and items
// are something under federated+ldp only: a federated delta sends a full
// block, or a closed one, and arm counts.
func (s *Stats) Empty() bool {
	return len(s.pairs.list) == 0 && len(s.items.list) == 0 && s.arms == [3]wire.ArmCount{} &&
		len(s.block) < Block && len(s.closed) == 0
}

// Reset forgets everything pending, and the session's arms with it. What
// was sent stays remembered: dropping pending statistics (local mode, a
// spent LDP budget) must not let the next deltas repeat it.
func (s *Stats) Reset() { *s = Stats{sent: s.sent} }

// NewSession starts a visitor session: the next impressions of each arm
// mark it Exposed again.
// A block of 2 items or more that did not fill up is sent with the next
// delta, as a set of the visit that ended.
func (s *Stats) NewSession() {
	s.shown = [3]bool{}
	if len(s.block) >= 2 {
		s.closed = s.block
	}
	s.block = nil
}

// Take builds the delta and resets s; it reports false when there is
// nothing to send. rnd must be cryptographic: it picks the sample and,
// under LDP, randomizes the reports.
func (s *Stats) Take(h Header, rnd Random) (wire.Delta, bool) {
	if s.Empty() {
		return wire.Delta{}, false
	}
	d := wire.Delta{Site: h.Site, Model: h.Model, ID: h.ID}
	if h.Epsilon > 0 {
		s.report(&d, h.Epsilon, rnd)
		s.block, s.closed = nil, nil // reports sample pairs and items: a block would wait in vain
	} else {
		s.sample(&d, rnd)
	}
	*s = Stats{shown: s.shown, sent: s.sent, block: s.block, closed: s.closed} // sent; the session goes on
	// Items alone make no federated delta.
	return d, len(d.Pairs)+len(d.Arms)+len(d.Reports) > 0
}

// sample fills a federated delta: the pairs of a closed block and of a
// full one (Block), as many as fit in SampledPairs, each with weight 1,
// and the arm counts capped. It names no item on its own: the server
// counts a pair's two items as seen (aggregate.State.Fold). The blocks'
// items join the sent set, which AddView checks, so no later delta of the
// device names them again: two deltas of one device share no item, and
// nothing in them links one to the other (MaxSent). A delta that reports
// a holdout or rules-only arm carries no pairs: those arms are rare, so
// their deltas link to each other by the arm alone (PRIVACY.md), and the
// blocks wait for a delta without them (a page that showed no slot).
func (s *Stats) sample(d *wire.Delta, r Random) {
	if s.arms[wire.ArmHoldout] == (wire.ArmCount{}) && s.arms[wire.ArmRules] == (wire.ArmCount{}) {
		s.send(d, s.closed, r)
		if c := len(s.closed); len(s.block) == Block && c*(c-1)/2+Block*(Block-1)/2 <= SampledPairs {
			s.send(d, s.block, r) // else it waits for the next delta
			s.block = nil
		}
		s.closed = nil
	}
	if n := len(s.sent) - 4*MaxSent; n > 0 {
		s.sent = s.sent[n:] // the oldest go
	}
	for _, a := range s.arms {
		if a != (wire.ArmCount{}) {
			a.Impressions = min(a.Impressions, MaxImpressions)
			a.Clicks = min(a.Clicks, MaxClicks)
			a.Conversions = min(a.Conversions, MaxConversions)
			d.Arms = append(d.Arms, a)
		}
	}
}

// report fills a federated+ldp delta with one OLH report (sdk/ldp) at the
// whole budget eps, so the delta is eps-LDP, keys included. A coin that
// ignores the session picks its kind: an item with probability
// wire.LDPItemShare, else a pair. A visitor with no value of that kind
// sends a report about nothing (ldp.Noise), so whether it had one is not
// revealed either. Arms are not sent: their counts are not randomized.
func (s *Stats) report(d *wire.Delta, eps float32, r Random) {
	kind, c := wire.ReportItem, &s.items
	if r.Uint64()>>11 >= uint64(wire.LDPItemShare*(1<<53)) {
		kind, c = wire.ReportPair, &s.pairs
	}
	if key, ok := c.draw(r); ok {
		d.Reports = append(d.Reports, ldp.Encode(kind, key, float64(eps), r))
	} else {
		d.Reports = append(d.Reports, ldp.Noise(kind, float64(eps), r))
	}
	d.Epsilon = eps
}

// send appends every pair of block b to d, each in a random direction and
// in the order of the sorted ids (the click order stays on the device),
// and adds the block's items to the sent set.
func (s *Stats) send(d *wire.Delta, ids []string, r Random) {
	for i := 1; i < len(ids); i++ { // a block is small: insertion sort
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	for i, a := range ids {
		for _, b := range ids[i+1:] {
			p := wire.Pair{From: a, To: b, W: 1}
			if r.Uint64()&1 == 1 {
				p.From, p.To = b, a
			}
			d.Pairs = append(d.Pairs, p)
		}
		if h := hashKey(a); !has(s.sent, h) {
			s.sent += string([]byte{byte(h), byte(h >> 8), byte(h >> 16), byte(h >> 24)})
		}
	}
}

// draw picks one key, with probability proportional to its weight, and
// reports false when there is none. It walks the weights (MaxPending is
// small), which needs no logarithm: the guest stays small.
func (c *counts) draw(r Random) (string, bool) {
	total := 0.0
	for _, e := range c.list {
		total += float64(e.w)
	}
	x := rnd.Float64(r) * total
	for i, e := range c.list {
		if x < float64(e.w) || i == len(c.list)-1 { // a rounding shortfall lands on the last
			return e.key, true
		}
		x -= float64(e.w)
	}
	return "", false
}

func splitPair(k string) (from, to string) {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}

// EncodeTo writes the pending statistics for storage in the profile.
func (s *Stats) EncodeTo(w *msgp.Writer) {
	w.ArrayHeader(6)
	s.pairs.encodeTo(w)
	s.items.encodeTo(w)
	w.ArrayHeader(len(s.arms))
	for i, a := range s.arms {
		w.ArrayHeader(5)
		w.Uint(uint64(a.Impressions))
		w.Uint(uint64(a.Clicks))
		w.Uint(uint64(a.Conversions))
		w.Bool(a.Exposed)
		w.Bool(s.shown[i])
	}
	w.Bin([]byte(s.sent))
	for _, b := range [2][]string{s.block, s.closed} {
		w.ArrayHeader(len(b))
		for _, id := range b {
			w.String(id)
		}
	}
}

// DecodeFrom reads statistics written by EncodeTo. Pending statistics
// stored before the sent set (3 fields) have sent nothing remembered.
func (s *Stats) DecodeFrom(r *msgp.Reader) {
	*s = Stats{}
	fields := r.ArrayHeader()
	if fields != 3 && fields != 4 && fields != 6 {
		r.Fail(msgp.ErrType)
		return
	}
	s.pairs.decodeFrom(r)
	s.items.decodeFrom(r)
	n := r.ArrayMax(len(s.arms))
	for i := 0; i < n; i++ {
		// A profile stored before exposures has 3 fields: its next
		// impressions of the arm mark it Exposed.
		f := r.ArrayHeader()
		if f != 3 && f != 5 {
			r.Fail(msgp.ErrType)
		}
		a := wire.ArmCount{Impressions: uint32(r.UintMax(wire.MaxArmCount)),
			Clicks: uint32(r.UintMax(wire.MaxArmCount)), Conversions: uint32(r.UintMax(wire.MaxArmCount))}
		if f == 5 {
			a.Exposed, s.shown[i] = r.Bool(), r.Bool()
		}
		if a.Exposed && a.Impressions == 0 {
			r.Fail(wire.ErrInvalid) // AddArm marks an exposure with impressions only
		}
		if a != (wire.ArmCount{}) {
			a.Arm = wire.Arm(i) // an arm with no counts stays empty, as AddArm leaves it
		}
		s.arms[i] = a
	}
	if fields >= 4 {
		if s.sent = r.StringMax(4 * MaxSent); len(s.sent)%4 != 0 {
			r.Fail(wire.ErrInvalid) // whole hashes only
		}
	}
	if fields == 6 {
		for _, b := range [2]*[]string{&s.block, &s.closed} {
			*b = make([]string, r.ArrayMax(Block))
			for i := range *b {
				(*b)[i] = r.ID(wire.MaxIDLen)
			}
		}
	}
}
