package wire

import "github.com/tailorhq/tailor/sdk/msgp"

// Mode chooses how a slot is ranked.
type Mode uint8

// Ranking modes.
const (
	ModeAI    Mode = iota // the learned model combined with the site's rules
	ModeRules             // the site's rules alone: the traditional baseline
)

// RankRequest asks the guest to order one slot's candidates: one call per
// slot, never per item, so the boundary cost stays small.
type RankRequest struct {
	Slot       string
	Candidates []Item // in the site's default order; empty: rank the items the model knows
	Limit      int    // how many to return; 0 for all
	Time       int64  // Unix milliseconds
	Ctx        Context
	Mode       Mode
	Rerank     bool // the slot was ranked before in this page view: its items are not new impressions
}

// EncodeTo writes the request as {s, c, l, ts, cx, m, rr}.
func (q *RankRequest) EncodeTo(w *msgp.Writer) {
	w.MapHeader(7)
	w.String("s")
	w.String(q.Slot)
	w.String("c")
	w.ArrayHeader(len(q.Candidates))
	for i := range q.Candidates {
		q.Candidates[i].EncodeTo(w)
	}
	w.String("l")
	w.Uint(uint64(q.Limit))
	w.String("ts")
	w.Int(q.Time)
	w.String("cx")
	q.Ctx.EncodeTo(w)
	w.String("m")
	w.String(modeNames[q.Mode])
	w.String("rr")
	w.Bool(q.Rerank)
}

var modeNames = [...]string{ModeAI: "ai", ModeRules: "rules"}

// DecodeFrom reads a rank request.
func (q *RankRequest) DecodeFrom(r *msgp.Reader) {
	n := r.MapMax(16)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "s":
			q.Slot = r.StringMax(MaxIDLen)
		case "c":
			q.Candidates = make([]Item, r.ArrayMax(MaxCandidates))
			for j := range q.Candidates {
				q.Candidates[j].DecodeFrom(r)
			}
		case "l":
			q.Limit = int(r.UintMax(MaxCandidates))
		case "ts":
			q.Time = r.Int()
		case "cx":
			q.Ctx.DecodeFrom(r)
		case "m":
			if oneOf(r, "ai", "rules", "") == "rules" {
				q.Mode = ModeRules
			}
		case "rr":
			q.Rerank = r.Bool()
		default:
			r.Skip()
		}
	}
	if q.Time <= 0 {
		r.Fail(&fieldError{"rank time", ErrInvalid})
	}
}

// Source says why an item holds its place, as growthbook's FeatureResult
// does: the model, a site rule, exploration, or the site's default order.
type Source uint8

// Sources of a ranked item's place.
const (
	SourceDefault Source = iota // the site's own order (holdout, or nothing to go on)
	SourceModel                 // the learned model
	SourceRule                  // a site rule (boost, pin)
	SourceExplore               // exploration: a random promotion
)

var sourceNames = [...]string{"default", "model", "rule", "explore"}

// String returns the source's wire name.
func (s Source) String() string { return sourceNames[s] }

// Reason is the top reason for an item's score, for "Why am I seeing this?".
type Reason uint8

// Reasons. Ranked.Ref names the item, attribute or rule the reason points at.
const (
	ReasonNone      Reason = iota
	ReasonSession          // related to Ref, viewed in this session
	ReasonHistory          // related to Ref, from earlier visits
	ReasonAffinity         // matches Ref, a category or tag the visitor likes
	ReasonPopular          // popular with other visitors
	ReasonRule             // rule Ref applied
	ReasonReplenish        // time to replenish Ref, bought earlier
	ReasonRepeat           // Ref itself was viewed recently
	ReasonExplore          // shown to learn, not because of a signal
	ReasonSearch           // matches Ref, a recent search term
)

var reasonNames = [...]string{"", "session", "history", "affinity", "popular", "rule", "replenish", "repeat", "explore", "search"}

// String returns the reason's wire name.
func (r Reason) String() string { return reasonNames[r] }

// Ranked is one item of a RankResult.
type Ranked struct {
	ID     string
	Score  float32
	Source Source
	Reason Reason
	Ref    string
}

// Arm is the experiment arm a device belongs to, for uplift measurement.
type Arm uint8

// Arms. Holdout devices see the site's default order.
const (
	ArmTreatment Arm = iota
	ArmHoldout
	ArmRules // rules-only mode, chosen by the visitor or the site
)

var armNames = [...]string{"treatment", "holdout", "rules"}

// String returns the arm's wire name.
func (a Arm) String() string { return armNames[a] }

// RankResult is the ordered slot with an explanation per item.
type RankResult struct {
	Items   []Ranked
	Arm     Arm
	Version uint32 // the model version that ranked
}

// EncodeTo writes the result as {items: [[id, score, source, reason, ref]...], arm, v}.
func (res *RankResult) EncodeTo(w *msgp.Writer) {
	w.MapHeader(3)
	w.String("items")
	w.ArrayHeader(len(res.Items))
	for _, it := range res.Items {
		w.ArrayHeader(5)
		w.String(it.ID)
		w.Float32(it.Score)
		w.String(it.Source.String())
		w.String(it.Reason.String())
		w.String(it.Ref)
	}
	w.String("arm")
	w.String(res.Arm.String())
	w.String("v")
	w.Uint(uint64(res.Version))
}

// DecodeFrom reads a rank result.
func (res *RankResult) DecodeFrom(r *msgp.Reader) {
	n := r.MapMax(8)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "items":
			res.Items = make([]Ranked, r.ArrayMax(MaxCandidates))
			for j := range res.Items {
				it := &res.Items[j]
				if r.ArrayHeader() != 5 {
					r.Fail(ErrInvalid)
				}
				it.ID = r.StringMax(MaxIDLen)
				it.Score = r.Float32()
				it.Source = Source(index(r, sourceNames[:]))
				it.Reason = Reason(index(r, reasonNames[:]))
				it.Ref = r.StringMax(MaxTextLen)
			}
		case "arm":
			res.Arm = Arm(index(r, armNames[:]))
		case "v":
			res.Version = uint32(r.UintMax(1<<32 - 1))
		default:
			r.Skip()
		}
	}
}

// index reads a string and returns its position among names.
func index(r *msgp.Reader, names []string) int {
	s := r.StringMax(MaxIDLen)
	for i, n := range names {
		if n == s {
			return i
		}
	}
	r.Fail(ErrInvalid)
	return 0
}
