package model

import (
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/signal"
	"github.com/tailorhq/tailor/sdk/wire"
)

// affinity is the visitor's trait weights at the moment of a ranking,
// faded and normalized to 0-1 once, and split by kind so that scoring a
// candidate looks its attributes up without building trait keys.
type affinity struct {
	category map[string]float32
	tag      map[string]float32
	price    [8]float32
	terms    []profile.Entry // search terms ("q:gown"), W normalized
}

// Young is how many steps of a session weigh as much as the visitor's
// lasting affinities. The session's intent and the lasting affinities are
// each normalized to 0-1, then mixed by weights steps : Young: at the
// start of a visit what lasts leads, and as the session grows its intent
// takes over. With nothing lasting (a first visit, the replay's one
// session per device) the session's intent is all there is, as before.
//
// The lasting affinities are squared once normalized: a gift bought last
// time weighs as one session among his others (profile.Carry), about
// half of weeks of running at first; squared, a quarter, so the interest
// he keeps coming back to leads his next visit's page and the burst
// shows only below it. A visitor who switches interest for good gets the
// same contrast the other way round after a few sessions.
const Young = 3

func newAffinity(p *profile.Profile, now int64) *affinity {
	a := &affinity{}
	var share [2]float32 // this session's intent, what lasts
	if len(p.Intent) > 0 {
		share[0] = max(float32(len(p.Session)), 1)
	}
	if len(p.Traits) > 0 {
		share[1] = Young
	}
	sum := share[0] + share[1]
	if sum == 0 {
		return a
	}
	a.category, a.tag = map[string]float32{}, map[string]float32{}
	for i, traits := range [2]profile.Table{p.Intent, p.Traits} {
		top := traits.Max(now, profile.HalfLife)
		if top == 0 {
			continue
		}
		for _, t := range traits {
			// Faded, normalized to the strongest, squared when lasting.
			w := profile.Decay(t.W, t.Time, now, profile.HalfLife) / top
			if i == 1 {
				w *= w
			}
			w *= share[i] / sum
			switch kind, v := signal.SplitTrait(t.Key); kind {
			case "cat":
				a.category[v] += w
			case "tag":
				a.tag[v] += w
			case "price":
				if len(v) == 1 && v[0] >= '0' && v[0] < '8' {
					a.price[v[0]-'0'] += w
				}
			case "q":
				a.terms = append(a.terms, profile.Entry{Key: t.Key, W: w})
			}
		}
	}
	return a
}

// score adds the affinity votes for one candidate: its category, tags and
// price band (a third of the weight each), and recent searches it answers.
func (a *affinity) score(s *scored, w *Params) {
	if a.category == nil {
		return
	}
	it := s.item
	if v := a.category[it.Category]; v > 0 {
		s.add(w.Affinity*v/3, wire.ReasonAffinity, it.Category)
	}
	best, bestTag := float32(0), ""
	for _, t := range it.Tags {
		if v := a.tag[t]; v > best {
			best, bestTag = v, t
		}
	}
	if best > 0 {
		s.add(w.Affinity*best/3, wire.ReasonAffinity, bestTag)
	}
	if v := a.price[signal.PriceBand(it.Price)]; v > 0 {
		s.add(w.Affinity*v/3, wire.ReasonAffinity, "")
	}
	for _, t := range a.terms {
		if signal.MatchesTerm(it, t.Key) {
			s.add(w.Search*t.W, wire.ReasonSearch, t.Key[2:])
		}
	}
}
