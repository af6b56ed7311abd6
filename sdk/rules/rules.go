// Package rules evaluates a site owner's business rules on the device:
// filters, pins, boosts and traditional segment rules such as "IF
// purchased.category in [shoes] THEN boost socks". The model adds their
// effects to its own scores; in rules-only mode they are all there is.
//
//	fx := rules.Evaluate(cfg.Rules, profile, &ctx, candidates, rules.All)
//	if fx[i].Filter { ... }
//
// # Notes
//
// Evaluate reads its arguments and keeps none of them.
package rules

import (
	"slices"

	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

// Effect is what the matching rules do to one candidate.
type Effect struct {
	Boost  float32 // sum of boosts minus buries
	Pin    bool
	Filter bool
	Rule   string // the rule with the largest effect, for the explanation
	weight float32
}

// Which rules apply.
const (
	All      = true  // rules-only mode: segment rules too
	Business = false // with the model: filters, pins and boosts, but no segment rules, which the model replaces
)

// Evaluate returns one Effect per candidate, from the rules whose
// conditions hold for this visitor and moment. segments says whether
// segment rules (rules with a Segment name: the traditional, demographic
// personalization) apply: in rules-only mode they do; next to the learned
// model they do not, so that what a visitor sees follows their behaviour,
// not the segment the site would put them in.
func Evaluate(rs []wire.Rule, p *profile.Profile, ctx *wire.Context, cands []wire.Item, segments bool) []Effect {
	fx := make([]Effect, len(cands))
	for i := range rs {
		r := &rs[i]
		if r.Segment != "" && !segments || !Holds(r, p, ctx) {
			continue
		}
		for j := range cands {
			if Selects(&r.Then, &cands[j]) {
				fx[j].apply(r)
			}
		}
	}
	return fx
}

func (e *Effect) apply(r *wire.Rule) {
	w := r.Then.Weight
	switch r.Then.Do {
	case wire.DoBoost:
		e.Boost += w
	case wire.DoBury:
		e.Boost -= w
		w = -w
	case wire.DoPin:
		e.Pin = true
		w = 1e9
	case wire.DoFilter:
		e.Filter = true
		return
	}
	if e.Rule == "" || w > e.weight {
		e.Rule, e.weight = ruleName(r), w
	}
}

// ruleName is how an explanation names a rule: its segment when it has one.
func ruleName(r *wire.Rule) string {
	if r.Segment != "" {
		return r.Segment
	}
	return r.ID
}

// Holds reports whether all of a rule's conditions hold.
func Holds(r *wire.Rule, p *profile.Profile, ctx *wire.Context) bool {
	for i := range r.If {
		if !holds(&r.If[i], p, ctx) {
			return false
		}
	}
	return true
}

func holds(c *wire.Cond, p *profile.Profile, ctx *wire.Context) bool {
	if c.Op == wire.OpBetween {
		v, ok := number(c.Field, p, ctx)
		return ok && v >= c.Min && v <= c.Max
	}
	v, isValue := value(c.Field, p, ctx)
	found := false
	for _, want := range c.Values {
		if isValue && v == want || !isValue && p.HasFact(c.Field, want) {
			found = true
			break
		}
	}
	return found == (c.Op == wire.OpIn)
}

// Selects reports whether an action's selector matches an item: by id,
// category or tag. An empty selector matches nothing.
func Selects(a *wire.Action, it *wire.Item) bool {
	return slices.Contains(a.IDs, it.ID) ||
		it.Category != "" && slices.Contains(a.Categories, it.Category) ||
		slices.ContainsFunc(it.Tags, func(t string) bool { return slices.Contains(a.Tags, t) })
}
