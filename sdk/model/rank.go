package model

import (
	"github.com/tailorhq/tailor/sdk/internal/order"
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

// Params weigh the parts of an item's score. DefaultParams are tuned on
// public clickstreams with the replay benchmark.
type Params struct {
	Session   float32 // neighbours of this session's items
	Decay     float32 // how fast older session items lose their vote: weight 1/(1+Decay*steps)
	History   float32 // neighbours of earlier sessions' items
	Local     float32 // this visitor's own transitions
	Repeat    float32 // this session's items themselves
	Affinity  float32 // attribute affinities (category, tags, price band)
	Search    float32 // recent search terms
	Replenish float32 // refills of an earlier purchase, once due
	Popular   float32 // global popularity
	Hop       float32 // neighbours of the neighbours of the HopItems most recent session items
	Bought    float32 // multiplier for an item already bought (its refills come through Replenish)
	Rule      float32 // scale of rule boosts
	Window    int     // positions diversity and exploration act on
}

// DefaultParams are the weights the guest uses.
//
// Measured on YOOCHOOSE 1/64's tuning split (README, "Quality on real
// data"): popularity only orders what nothing else votes for (a larger
// Popular pushed popular items over the session's neighbours: HR@20 fell),
// recent items weigh clearly more than older ones (Decay 2), and a weak
// second hop (Hop) lifts what the published neighbours miss: the
// server's pair floors drop a co-occurrence seen by few deltas, and its
// neighbours' neighbours often hold it.
var DefaultParams = Params{
	Session: 1, Decay: 2, History: 0.3, Local: 0.5, Repeat: 1, Affinity: 0.4,
	Search: 0.6, Replenish: 1.5, Popular: 0.003, Hop: 0.03, Bought: 0.2, Rule: 1, Window: 20,
}

// HopItems is how many of the session's most recent distinct items vote
// for their neighbours' neighbours (Params.Hop): an older item's second
// hop is mostly noise, and each hop walks up to wire.MaxNeighbors²
// edges. The second hop reorders candidates; it does not add any (the
// generated ones are the session's items, their neighbours and the most
// popular items): proposing the second hop too measured better (HR@20
// .664 against .658) but grew the guest by ~1 kB of brotli, over its
// budget.
const HopItems = 3

// Input is everything a ranking depends on.
type Input struct {
	Req     *wire.RankRequest
	Profile *profile.Profile
	Config  *wire.Config
	Index   *Index
	Params  *Params
	Arm     wire.Arm // holdout devices get the default order
	Rand    Random   // exploration's draws; nil: no exploration
}

// Random is the device's source of random numbers: the platform's
// cryptographic generator, never state saved in the profile.
type Random interface{ Uint64() uint64 }

// vote is one part of a score and what it points at, kept so the top reason
// can be explained.
type vote struct {
	w      float32
	reason wire.Reason
	ref    string
}

// scored is one candidate being ranked.
type scored struct {
	item   *wire.Item
	pos    int // position in the site's default order
	score  float32
	top    vote
	source wire.Source
	pinned bool
	kind   int32 // the item's category numbered by diversify, -1 for none
}

//go:noinline
func (s *scored) add(w float32, reason wire.Reason, ref string) {
	s.score += w
	if w > s.top.w {
		s.top = vote{w, reason, ref}
	}
}

// Rank orders the request's candidates and explains each place.
func Rank(in Input) wire.RankResult {
	req := in.Req
	cands := req.Candidates
	if len(cands) == 0 {
		cands = in.generate()
	}
	res := wire.RankResult{Arm: in.Arm, Version: in.Index.Version}
	if req.Mode == wire.ModeRules {
		res.Arm = wire.ArmRules
	}
	items := make([]scored, len(cands))
	for i := range cands {
		items[i] = scored{item: &cands[i], pos: i}
	}
	if res.Arm != wire.ArmHoldout {
		if res.Arm == wire.ArmTreatment {
			in.score(items)
		}
		items = in.applyRules(items)
	}
	limit := req.Limit
	if limit <= 0 || limit > len(items) {
		limit = len(items)
	}
	// Only the shown items and the pool diversity and exploration draw from
	// need ordering.
	order.Top(len(items), min(len(items), max(limit, 3*in.Params.Window)), func(i, j int) bool {
		a, b := &items[i], &items[j]
		if a.pinned != b.pinned {
			return a.pinned
		}
		return a.score > b.score || a.score == b.score && a.pos < b.pos
	}, func(i, j int) { items[i], items[j] = items[j], items[i] })
	if res.Arm == wire.ArmTreatment {
		in.diversify(items, limit)
		in.explore(items, limit)
	}
	res.Items = make([]wire.Ranked, limit)
	for i := range res.Items {
		s := &items[i]
		res.Items[i] = wire.Ranked{ID: s.item.ID, Score: s.score, Source: s.source, Reason: s.top.reason, Ref: s.top.ref}
	}
	return res
}

// score adds the model's votes to every candidate. Votes for items the
// weights know go into the index's array; the few for items they do not
// (this visitor's own items and transitions) into a small map.
func (in *Input) score(items []scored) {
	p, x, w := in.Profile, in.Index, in.Params
	now := in.Req.Time
	defer x.clearVotes()
	var local map[string]tally
	vote := func(id string, v float32, reason wire.Reason, ref string) {
		if n, ok := x.num[id]; ok {
			x.addVote(n, v, reason, ref)
			return
		}
		if local == nil {
			local = map[string]tally{}
		}
		t := local[id]
		t.add(v, reason, ref)
		local[id] = t
	}
	// This session: every item votes for its neighbours, recent ones more.
	for k, i := 0, len(p.Session)-1; i >= 0; i-- {
		id := p.Session[i].Key
		if seenBefore(p.Session[i+1:], id) {
			continue
		}
		decay := 1 / (1 + w.Decay*float32(k))
		if n, ok := x.num[id]; ok {
			x.vote(n, w.Session*decay, wire.ReasonSession, id)
			if k < HopItems && w.Hop > 0 {
				for _, e := range x.next[n] {
					x.vote(e.to, w.Hop*w.Session*decay*e.w, wire.ReasonSession, id)
				}
			}
		}
		k++
		for _, l := range p.Links {
			if from, to := profile.SplitKey(l.Key); from == id {
				vote(to, w.Local*decay*min(l.W/4, 1), wire.ReasonSession, id)
			}
		}
		vote(id, w.Repeat*decay, wire.ReasonRepeat, id)
	}
	// Earlier visits, faded: a session's items share 1 (profile.History),
	// so an item votes fully once it held a whole session's attention,
	// or parts of several. A bought item votes no more: its neighbours
	// are what was viewed beside it, its substitutes (more dresses after
	// a dress bought as a gift), and what goes with it comes back as its
	// refills once due.
	for _, m := range p.History {
		if n, ok := x.num[m.Key]; ok && !boughtID(p, m.Key) {
			mw := min(profile.Decay(m.W, m.Time, now, profile.HalfLife), 1)
			x.vote(n, w.History*mw, wire.ReasonHistory, m.Key)
		}
	}
	// Purchases: refills once due, for items that go with the purchase,
	// not for others of its kind (another coffee machine is no refill).
	var refills []refill
	for _, b := range p.Purchases {
		id, category := profile.SplitKey(b.Key)
		days := in.Config.Replenish[category]
		if days == 0 || now-b.Time < int64(days)*profile.Day*3/4 {
			continue
		}
		if n, ok := x.num[id]; ok {
			refills = append(refills, refill{from: n, id: id, category: category})
		}
	}
	aff := newAffinity(p, now)
	for i := range items {
		s := &items[i]
		it := s.item
		var t tally
		if n, ok := x.num[it.ID]; ok {
			t = x.votes[n]
			s.add(w.Popular*x.pop[n], wire.ReasonPopular, "")
		} else if local != nil {
			t = local[it.ID]
		}
		if t.sum > 0 {
			s.score += t.sum
			if t.top.w > s.top.w {
				s.top = t.top
			}
		}
		if n, ok := x.num[it.ID]; ok {
			for _, r := range refills {
				if it.Category != r.category {
					s.add(w.Replenish*x.weight(r.from, n), wire.ReasonReplenish, r.id)
				}
			}
		}
		aff.score(s, w)
		if in.bought(it) {
			s.score *= w.Bought
		}
		if s.score > 0 {
			s.source = wire.SourceModel
		}
	}
}

// boughtID reports whether the visitor bought the item id.
func boughtID(p *profile.Profile, id string) bool {
	for _, b := range p.Purchases {
		if bid, _ := profile.SplitKey(b.Key); bid == id {
			return true
		}
	}
	return false
}

// refill is a purchase due for its refills.
type refill struct {
	from     int32 // the purchased item's number in the index
	id       string
	category string
}

// seenBefore reports whether id occurs in later (more recent) session items.
func seenBefore(later []profile.Entry, id string) bool {
	for _, e := range later {
		if e.Key == id {
			return true
		}
	}
	return false
}

// bought reports whether the item was bought already: it is worth little
// to show again (refills come back through the replenishment votes).
func (in *Input) bought(it *wire.Item) bool {
	if len(in.Profile.Purchases) == 0 {
		return false
	}
	return in.Profile.Purchases.Get(profile.PurchaseKey(it.ID, it.Category), 0, 0) > 0
}

// tally sums the votes for one item and keeps the strongest of them.
type tally struct {
	sum float32
	top vote
}

//go:noinline
func (t *tally) add(w float32, reason wire.Reason, ref string) {
	t.sum += w
	if w > t.top.w {
		t.top = vote{w, reason, ref}
	}
}
