package rules_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/rules"
	"github.com/tailorhq/tailor/sdk/wire"
)

var t0 = time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC).UnixMilli()

// shopper bought leather shoes, viewed a dress, searched for gift ideas,
// declared the gold tier, and is on a third visit.
func shopper() *profile.Profile {
	p := profile.New()
	for i, e := range []wire.Event{
		{Kind: wire.KindPurchase, Item: &wire.Item{ID: "shoe-1", Category: "shoes", Tags: []string{"leather"}}},
		{Kind: wire.KindView, Item: &wire.Item{ID: "dress-2", Category: "dresses", Tags: []string{"red"}}},
		{Kind: wire.KindCart, Item: &wire.Item{ID: "belt-1", Category: "belts"}},
		{Kind: wire.KindSearch, Query: "Gift ideas"},
		{Kind: wire.KindAttrs, Attrs: []wire.Attr{{Key: "tier", Value: "gold"}}},
	} {
		e.Time = t0 + int64(i)*profile.Minute
		p.Observe(&e)
	}
	p.Visits = 3
	return p
}

// evening is a Friday evening in December, on a phone, from social media.
var evening = wire.Context{Hour: 20, Weekday: 5, Month: 12, Device: "mobile", Referrer: "social", Page: "home", Region: "eu"}

func in(field string, values ...string) wire.Cond {
	return wire.Cond{Field: field, Op: wire.OpIn, Values: values}
}

func notIn(field string, values ...string) wire.Cond {
	return wire.Cond{Field: field, Op: wire.OpNotIn, Values: values}
}

func between(field string, lo, hi float32) wire.Cond {
	return wire.Cond{Field: field, Op: wire.OpBetween, Min: lo, Max: hi}
}

func TestConditions(t *testing.T) {
	p, fresh := shopper(), profile.New()
	noMonth := evening
	noMonth.Month = 0
	for _, tc := range []struct {
		name string
		cond wire.Cond
		p    *profile.Profile
		ctx  wire.Context
		want bool
	}{
		{"viewed category", in("viewed.category", "dresses"), p, evening, true},
		{"viewed category, one of", in("viewed.category", "coats", "dresses"), p, evening, true},
		{"viewed category, not viewed", in("viewed.category", "coats"), p, evening, false},
		{"a purchase is a view", in("viewed.category", "shoes"), p, evening, true},
		{"a cart is a view", in("viewed.category", "belts"), p, evening, true},
		{"viewed category, fresh visitor", in("viewed.category", "dresses"), fresh, evening, false},
		{"purchased category", in("purchased.category", "shoes"), p, evening, true},
		{"purchased category, only viewed", in("purchased.category", "dresses"), p, evening, false},
		{"carted category", in("carted.category", "belts"), p, evening, true},
		{"clicked category, only viewed", in("clicked.category", "dresses"), p, evening, false},
		{"viewed tag", in("viewed.tag", "red"), p, evening, true},
		{"purchased tag", in("purchased.tag", "leather"), p, evening, true},
		{"purchased tag, only viewed", in("purchased.tag", "red"), p, evening, false},
		{"category value is not a prefix", in("viewed.category", "dress"), p, evening, false},
		{"searched", in("searched", "gift"), p, evening, true},
		{"searched, other term", in("searched", "ideas"), p, evening, true},
		{"searched, not searched", in("searched", "gifts"), p, evening, false},
		{"not viewed category", notIn("viewed.category", "coats"), p, evening, true},
		{"not viewed category, viewed", notIn("viewed.category", "coats", "dresses"), p, evening, false},
		{"not purchased, fresh visitor", notIn("purchased.category", "shoes"), fresh, evening, true},
		{"hour between", between("ctx.hour", 18, 23), p, evening, true},
		{"hour between, bounds inclusive", between("ctx.hour", 20, 20), p, evening, true},
		{"hour between, morning", between("ctx.hour", 6, 11), p, evening, false},
		{"hour in", in("ctx.hour", "19", "20"), p, evening, true},
		{"hour not in", notIn("ctx.hour", "20"), p, evening, false},
		{"midnight hour", in("ctx.hour", "0"), p, wire.Context{}, true},
		{"month in winter", in("ctx.month", "12", "1", "2"), p, evening, true},
		{"month in summer", in("ctx.month", "6", "7", "8"), p, evening, false},
		{"month between", between("ctx.month", 11, 12), p, evening, true},
		{"month between, summer", between("ctx.month", 6, 8), p, evening, false},
		{"month unknown, between", between("ctx.month", 0, 12), p, noMonth, false},
		{"month unknown, in 0", in("ctx.month", "0"), p, noMonth, false},
		{"month unknown, not in summer", notIn("ctx.month", "6", "7", "8"), p, noMonth, true},
		{"weekday", in("ctx.weekday", "5", "6"), p, evening, true},
		{"weekday between weekend", between("ctx.weekday", 0, 0), p, evening, false},
		{"device", in("ctx.device", "mobile"), p, evening, true},
		{"device, other", in("ctx.device", "desktop", "tablet"), p, evening, false},
		{"device not in", notIn("ctx.device", "desktop"), p, evening, true},
		{"device not in, is", notIn("ctx.device", "mobile"), p, evening, false},
		{"device unknown", in("ctx.device", "mobile"), p, wire.Context{}, false},
		{"referrer", in("ctx.referrer", "social"), p, evening, true},
		{"page", in("ctx.page", "home"), p, evening, true},
		{"page, other", in("ctx.page", "product"), p, evening, false},
		{"region", in("ctx.region", "eu"), p, evening, true},
		{"device between: not a number", between("ctx.device", 0, 100), p, evening, false},
		{"attr", in("attr.tier", "gold"), p, evening, true},
		{"attr, other value", in("attr.tier", "silver"), p, evening, false},
		{"attr not in", notIn("attr.tier", "silver"), p, evening, true},
		{"attr undeclared", in("attr.tier", "gold"), fresh, evening, false},
		{"attr undeclared, not in", notIn("attr.segment", "vip"), p, evening, true},
		{"visits between", between("visits", 2, 5), p, evening, true},
		{"visits between, first visit", between("visits", 2, 5), fresh, evening, false},
		{"visits in", in("visits", "3"), p, evening, true},
		{"visits between, more", between("visits", 4, 100), p, evening, false},
		{"in nothing", in("viewed.category"), p, evening, false},
		{"not in nothing", notIn("viewed.category"), p, evening, true},
	} {
		r := wire.Rule{ID: "r", If: []wire.Cond{tc.cond}}
		if got := rules.Holds(&r, tc.p, &tc.ctx); got != tc.want {
			t.Errorf("%s: Holds(%+v) = %v, want %v", tc.name, tc.cond, got, tc.want)
		}
	}
}

func TestHoldsAll(t *testing.T) {
	p := shopper()
	for _, tc := range []struct {
		name  string
		conds []wire.Cond
		want  bool
	}{
		{"no conditions", nil, true},
		{"all hold", []wire.Cond{in("purchased.category", "shoes"), between("ctx.hour", 18, 23), in("attr.tier", "gold")}, true},
		{"one fails", []wire.Cond{in("purchased.category", "shoes"), between("ctx.hour", 6, 11)}, false},
		{"first fails", []wire.Cond{in("ctx.device", "desktop"), in("attr.tier", "gold")}, false},
	} {
		r := wire.Rule{ID: "r", If: tc.conds}
		if got := rules.Holds(&r, p, &evening); got != tc.want {
			t.Errorf("%s: Holds = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSelects(t *testing.T) {
	socks := wire.Item{ID: "sock-1", Category: "socks", Tags: []string{"wool", "running"}}
	bare := wire.Item{ID: "x"}
	for _, tc := range []struct {
		name string
		a    wire.Action
		it   wire.Item
		want bool
	}{
		{"by id", wire.Action{IDs: []string{"a", "sock-1"}}, socks, true},
		{"by category", wire.Action{Categories: []string{"socks"}}, socks, true},
		{"by tag", wire.Action{Tags: []string{"cotton", "running"}}, socks, true},
		{"none match", wire.Action{IDs: []string{"a"}, Categories: []string{"shoes"}, Tags: []string{"cotton"}}, socks, false},
		{"empty selector", wire.Action{Do: wire.DoBoost}, socks, false},
		{"empty category never matches", wire.Action{Categories: []string{""}}, bare, false},
		{"case matters", wire.Action{Categories: []string{"Socks"}}, socks, false},
	} {
		if got := rules.Selects(&tc.a, &tc.it); got != tc.want {
			t.Errorf("%s: Selects = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	p := shopper()
	cands := []wire.Item{
		{ID: "sock-1", Category: "socks", Tags: []string{"wool"}},
		{ID: "coat-1", Category: "coats", Tags: []string{"wool", "sold-out"}},
		{ID: "banner-winter", Category: "banners"},
		{ID: "dress-9", Category: "dresses"},
	}
	boost := func(id, segment string, w float32, cats ...string) wire.Rule {
		return wire.Rule{ID: id, Segment: segment, Then: wire.Action{Do: wire.DoBoost, Categories: cats, Weight: w}}
	}
	for _, tc := range []struct {
		name  string
		rules []wire.Rule
		want  []rules.Effect
	}{
		{"no rules", nil, make([]rules.Effect, 4)},
		{"boost names the rule", []wire.Rule{boost("socks-up", "", 2, "socks")},
			[]rules.Effect{{Boost: 2, Rule: "socks-up"}, {}, {}, {}}},
		{"a segment rule is named by its segment", []wire.Rule{
			{ID: "r1", Segment: "Shoe buyers", If: []wire.Cond{in("purchased.category", "shoes")},
				Then: wire.Action{Do: wire.DoBoost, Categories: []string{"socks"}, Weight: 1.5}}},
			[]rules.Effect{{Boost: 1.5, Rule: "Shoe buyers"}, {}, {}, {}}},
		{"a rule whose condition fails does nothing", []wire.Rule{
			{ID: "r1", If: []wire.Cond{in("purchased.category", "coats")}, Then: wire.Action{Do: wire.DoBoost, Categories: []string{"socks"}, Weight: 1}}},
			make([]rules.Effect, 4)},
		{"boosts add; the larger names", []wire.Rule{boost("small", "", 1, "socks"), boost("large", "", 3, "socks", "coats"), boost("mid", "", 2, "socks")},
			[]rules.Effect{{Boost: 6, Rule: "large"}, {Boost: 3, Rule: "large"}, {}, {}}},
		{"bury subtracts", []wire.Rule{{ID: "down", Then: wire.Action{Do: wire.DoBury, Tags: []string{"wool"}, Weight: 2}}},
			[]rules.Effect{{Boost: -2, Rule: "down"}, {Boost: -2, Rule: "down"}, {}, {}}},
		{"boost outnames bury", []wire.Rule{{ID: "down", Then: wire.Action{Do: wire.DoBury, Tags: []string{"wool"}, Weight: 2}}, boost("up", "", 0.5, "socks")},
			[]rules.Effect{{Boost: -1.5, Rule: "up"}, {Boost: -2, Rule: "down"}, {}, {}}},
		{"pin", []wire.Rule{boost("up", "", 5, "banners"), {ID: "winter-pin", Segment: "Winter",
			If: []wire.Cond{in("ctx.month", "12", "1", "2")}, Then: wire.Action{Do: wire.DoPin, IDs: []string{"banner-winter"}}}},
			[]rules.Effect{{}, {}, {Boost: 5, Pin: true, Rule: "Winter"}, {}}},
		{"pin out of season", []wire.Rule{{ID: "summer-pin",
			If: []wire.Cond{between("ctx.month", 6, 8)}, Then: wire.Action{Do: wire.DoPin, IDs: []string{"banner-winter"}}}},
			make([]rules.Effect, 4)},
		{"filter", []wire.Rule{{ID: "no-sold-out", Then: wire.Action{Do: wire.DoFilter, Tags: []string{"sold-out"}}}, boost("coats-up", "", 1, "coats")},
			[]rules.Effect{{}, {Boost: 1, Filter: true, Rule: "coats-up"}, {}, {}}},
		{"segment rule on context and attribute", []wire.Rule{{ID: "gold-evening", Segment: "Gold evening shoppers",
			If:   []wire.Cond{in("attr.tier", "gold"), between("ctx.hour", 18, 23), notIn("viewed.category", "coats")},
			Then: wire.Action{Do: wire.DoBoost, IDs: []string{"dress-9"}, Weight: 0.75}}},
			[]rules.Effect{{}, {}, {}, {Boost: 0.75, Rule: "Gold evening shoppers"}}},
	} {
		got := rules.Evaluate(tc.rules, p, &evening, cands, rules.All)
		if len(got) != len(cands) {
			t.Fatalf("%s: %d effects for %d candidates", tc.name, len(got), len(cands))
		}
		for i := range got {
			g, w := got[i], tc.want[i]
			if g.Boost != w.Boost || g.Pin != w.Pin || g.Filter != w.Filter || g.Rule != w.Rule {
				t.Errorf("%s: %s: effect %+v, want %+v", tc.name, cands[i].ID, g, w)
			}
		}
	}
}

// A traditional segment rule: visitors who bought shoes see socks first.
func ExampleEvaluate() {
	p := profile.New()
	p.Observe(&wire.Event{Kind: wire.KindPurchase, Time: t0, Item: &wire.Item{ID: "shoe-1", Category: "shoes"}})
	rs := []wire.Rule{{
		ID:      "shoes-then-socks",
		Segment: "Shoe buyers",
		If:      []wire.Cond{{Field: "purchased.category", Op: wire.OpIn, Values: []string{"shoes"}}},
		Then:    wire.Action{Do: wire.DoBoost, Categories: []string{"socks"}, Weight: 1},
	}}
	cands := []wire.Item{{ID: "hat-1", Category: "hats"}, {ID: "sock-1", Category: "socks"}}
	for i, fx := range rules.Evaluate(rs, p, &wire.Context{}, cands, rules.All) {
		fmt.Printf("%s boost %v by %q\n", cands[i].ID, fx.Boost, fx.Rule)
	}
	// Output:
	// hat-1 boost 0 by ""
	// sock-1 boost 1 by "Shoe buyers"
}
