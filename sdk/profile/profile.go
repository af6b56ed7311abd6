// Package profile is a visitor's on-device state: this session's items in
// order and its attribute affinities (the session's intent), what earlier
// sessions left (items and affinities, lasting and faded), facts for the
// site's rules, purchases for replenishment, declared attributes, and the
// statistics waiting for the next sync. It learns from every event at
// once, so the ranking after click t reflects click t.
//
// The session and what lasts are kept apart so that one session cannot
// take over the visits after it: a session joins the lasting parts only
// when it ends, scaled so that its strongest interest adds 1 (see fold);
// a man who buys a dress as a gift adds as much to dresses as one of his
// many running sessions added to running, and that burst fades by Carry
// with each later session.
//
// Every part is bounded (see the Max constants): a profile kept for months
// stays a few kilobytes.
//
//	p := profile.New()
//	p.Observe(&event)
//	b := p.Marshal()
//
// # Notes
//
// A Profile is not goroutine-safe; the guest owns exactly one.
package profile

import (
	"slices"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/signal"
	"github.com/tailorhq/tailor/sdk/wire"
)

// Bounds on a profile's parts. When one is full the weakest or oldest
// entry goes.
const (
	MaxSession   = 50  // items in this session, oldest dropped
	MaxHistory   = 100 // items from earlier sessions
	MaxTraits    = 64  // lasting attribute affinities
	MaxIntent    = 32  // this session's attribute affinities
	MaxFacts     = 128 // rule facts
	MaxPurchases = 32
	MaxLinks     = 128 // transitions this visitor made
	MaxShown     = 64  // items recently shown in ranked slots
)

// Time constants, in Unix milliseconds.
const (
	Minute     = 60 * 1000
	Day        = 24 * 60 * Minute
	SessionGap = 30 * Minute // inactivity that ends a session
	HalfLife   = 14 * Day    // how fast long-term memory fades
	Carry      = 0.8         // what a session leaves of the lasting parts: a burst fades by visits too, not only by time
	pairWindow = 10          // session steps a transition may span
)

// Profile is the visitor's on-device state.
type Profile struct {
	Holdout   bool    // drawn once, from the device's randomness, against the site's holdout share
	Drawn     bool    // whether Holdout has been drawn
	EpsDay    int64   // the UTC day (Unix ms / Day) EpsSpent counts
	EpsSpent  float32 // LDP budget spent on deltas that day
	Visits    uint32
	LastSeen  int64
	Session   []Entry     // this session's items in order (Key: item id; W: interest shown)
	History   Table       // items of earlier sessions (Key: item id), fading by HalfLife and Carry; a session adds 1 in all
	Traits    Table       // lasting affinities (Key: "cat:shoes", "q:gown"), the Intent of earlier sessions folded in as History
	Intent    Table       // this session's affinities (keys as Traits), fading by HalfLife
	Facts     Table       // what rules test (Key: "purchased.category=shoes"; W: count)
	Links     Table       // this visitor's own transitions (Key: from+"\x00"+to): local learning
	Purchases Table       // bought items (Key: PurchaseKey(id, category); W: count)
	Attrs     []wire.Attr // declared by the site, at most wire.MaxAttrs
	Shown     []string    // items shown in ranked slots, newest last
	Clicked   []string    // shown items then clicked, for conversions
	ShownArm  wire.Arm    // the arm of the last ranking shown
	Pending   delta.Stats
}

// New returns an empty profile. A profile holds no random state: the
// device's randomness comes from the platform each time (package device).
func New() *Profile { return &Profile{} }

// Observe updates the profile with one event.
func (p *Profile) Observe(e *wire.Event) {
	p.Seen(e.Time)
	switch e.Kind {
	case wire.KindAttrs:
		p.setAttrs(e.Attrs)
		return
	case wire.KindSearch:
		for _, t := range signal.Terms(e.Query) {
			p.Intent.Add(t, 1, e.Time, HalfLife, MaxIntent)
			p.addFact("searched="+t[2:], e.Time)
		}
		return
	}
	if e.Item == nil {
		return
	}
	s := signal.Strength(e)
	if s == 0 {
		return
	}
	it := e.Item
	p.touch(it, s, e.Time, e.Kind != wire.KindDwell)
	var traits [wire.MaxTags + 2]string
	for _, t := range signal.Traits(traits[:0], it) {
		p.Intent.Add(t, s, e.Time, HalfLife, MaxIntent)
	}
	p.addFacts(e.Kind, it, e.Time)
	p.trackOutcome(e.Kind, it.ID)
	if e.Kind == wire.KindPurchase {
		p.Purchases.Add(PurchaseKey(it.ID, it.Category), 1, e.Time, 0, MaxPurchases)
	}
}

// Seen records activity at now: past SessionGap of inactivity, a new
// session starts. A ranked page is activity too, so that the arm it shows
// counts as exposed in the session it starts (delta.Stats.NewSession).
func (p *Profile) Seen(now int64) {
	if p.LastSeen == 0 || now-p.LastSeen > SessionGap {
		p.rollover(now)
	}
	p.LastSeen = max(p.LastSeen, now)
}

// rollover ends the current session: its items and affinities join the
// lasting ones.
func (p *Profile) rollover(now int64) {
	p.Visits++
	fold(&p.History, p.Session, now, MaxHistory, true)
	fold(&p.Traits, p.Intent, now, MaxTraits, false)
	p.Session, p.Intent = p.Session[:0], p.Intent[:0]
	p.Pending.NewSession()
}

// fold adds a session's weights to a lasting table: what the table held
// fades by Carry, and the session's entries join scaled so that the
// strongest (or, with total set, all of them together) weigh 1. However
// intense one session is (a purchase weighs six views), it adds about as
// much as any other; only interest shown again in later sessions builds
// up. Items share their session's 1 (total): a session that looked at
// five dresses adds no more than one that looked at two shoes.
func fold(lasting *Table, session Table, now int64, bound int, total bool) {
	sum := float32(0)
	for _, e := range session {
		if total {
			sum += e.W
		} else {
			sum = max(sum, e.W)
		}
	}
	if sum == 0 {
		return
	}
	for i := range *lasting {
		(*lasting)[i].W *= Carry
	}
	for _, e := range session {
		lasting.Add(e.Key, e.W/sum, now, HalfLife, bound)
	}
}

// touch appends an item to the session, or strengthens the last touch when
// it is the same item; a new step records transitions from the items
// before it, weighted 1/distance as sequential rules do.
func (p *Profile) touch(it *wire.Item, s float32, now int64, step bool) {
	if n := len(p.Session); n > 0 && p.Session[n-1].Key == it.ID || !step {
		for i := len(p.Session) - 1; i >= 0; i-- {
			if p.Session[i].Key == it.ID {
				p.Session[i].W += s
				p.Session[i].Time = now
				return
			}
		}
		if !step {
			return
		}
	}
	p.Pending.AddItem(it.ID, 1)
	p.Pending.AddView(it.ID)
	for d, i := 1, len(p.Session)-1; i >= 0 && d <= pairWindow; d, i = d+1, i-1 {
		p.Pending.AddPair(p.Session[i].Key, it.ID, 1/float32(d))
	}
	if n := len(p.Session); n > 0 {
		p.Links.Add(p.Session[n-1].Key+"\x00"+it.ID, 1, now, HalfLife, MaxLinks)
	}
	p.Session = appendBounded(p.Session, Entry{Key: it.ID, W: s, Time: now}, MaxSession)
}

// TraitWeight returns this session's faded affinity for key at now, or 0.
func (p *Profile) TraitWeight(key string, now int64) float32 {
	return p.Intent.Get(key, now, HalfLife)
}

// PurchaseKey is the Purchases key of an item: its id and category, split
// by SplitKey.
func PurchaseKey(id, category string) string { return id + "\x00" + category }

// SplitKey splits a two-part key (Purchases, Links) at its NUL byte.
func SplitKey(k string) (a, b string) {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}

// factVerbs returns the rule fields an event kind makes true.
func factVerbs(k wire.Kind) []string {
	switch k {
	case wire.KindClick:
		return []string{"viewed", "clicked"}
	case wire.KindCart:
		return []string{"viewed", "carted"}
	case wire.KindPurchase:
		return []string{"viewed", "purchased"}
	}
	return []string{"viewed"}
}

func (p *Profile) addFacts(k wire.Kind, it *wire.Item, now int64) {
	for _, verb := range factVerbs(k) {
		if it.Category != "" {
			p.addFact(verb+".category="+it.Category, now)
		}
		if verb == "viewed" || verb == "purchased" {
			for _, t := range it.Tags {
				p.addFact(verb+".tag="+t, now)
			}
		}
	}
}

func (p *Profile) addFact(key string, now int64) { p.Facts.Add(key, 1, now, 0, MaxFacts) }

// HasFact reports whether the visitor did FIELD with VALUE ("viewed.category", "shoes").
func (p *Profile) HasFact(field, value string) bool {
	n := len(field)
	for _, f := range p.Facts {
		if len(f.Key) == n+1+len(value) && f.Key[:n] == field && f.Key[n] == '=' && f.Key[n+1:] == value {
			return true
		}
	}
	return false
}

func (p *Profile) setAttrs(attrs []wire.Attr) {
	for _, a := range attrs {
		i := slices.IndexFunc(p.Attrs, func(b wire.Attr) bool { return b.Key == a.Key })
		switch {
		case i >= 0 && a.Value == "":
			p.Attrs = slices.Delete(p.Attrs, i, i+1)
		case i >= 0:
			p.Attrs[i].Value = a.Value
		case a.Value != "" && len(p.Attrs) < wire.MaxAttrs:
			p.Attrs = append(p.Attrs, a)
		}
	}
}

// Attr returns the value of a declared visitor attribute, or "".
func (p *Profile) Attr(key string) string {
	for _, a := range p.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// MarkShown records the items a ranked slot showed and the arm that ranked
// them, counting the impressions for the uplift report.
func (p *Profile) MarkShown(arm wire.Arm, ids []string) {
	p.ShownArm = arm
	for _, id := range ids {
		if !slices.Contains(p.Shown, id) {
			p.Shown = appendBounded(p.Shown, id, MaxShown)
		}
	}
	p.Pending.AddArm(arm, uint32(len(ids)), 0, 0)
}

// trackOutcome counts a click on a shown item, and a purchase of a clicked one.
func (p *Profile) trackOutcome(k wire.Kind, id string) {
	clicked := slices.Index(p.Clicked, id)
	switch {
	case k == wire.KindClick && clicked < 0 && slices.Contains(p.Shown, id):
		p.Clicked = appendBounded(p.Clicked, id, MaxShown)
		p.Pending.AddArm(p.ShownArm, 0, 1, 0)
	case k == wire.KindPurchase && clicked >= 0:
		p.Clicked = append(p.Clicked[:clicked], p.Clicked[clicked+1:]...)
		p.Pending.AddArm(p.ShownArm, 0, 0, 1)
	}
}

// appendBounded appends v, dropping the oldest elements beyond max.
func appendBounded[T any](s []T, v T, max int) []T {
	if len(s) >= max {
		s = slices.Delete(s, 0, len(s)-max+1)
	}
	return append(s, v)
}
