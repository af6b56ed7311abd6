package model_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/tailorhq/tailor/sdk/internal/testclock"
	"github.com/tailorhq/tailor/sdk/model"
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

var t0, at = testclock.T0, testclock.At // the tests' clock (sdk/internal/testclock)

// catalogue: an evening outfit (gown → heels → clutch → jewelry), and
// unrelated popular items.
var catalogue = map[string]wire.Item{
	"gown-1":   {ID: "gown-1", Category: "evening-gowns", Tags: []string{"formal", "red"}, Price: 189},
	"gown-2":   {ID: "gown-2", Category: "evening-gowns", Tags: []string{"formal", "black"}, Price: 210},
	"heels-3":  {ID: "heels-3", Category: "metallic-heels", Tags: []string{"formal", "gold"}, Price: 95},
	"clutch-2": {ID: "clutch-2", Category: "evening-clutches", Tags: []string{"formal"}, Price: 60},
	"jewel-5":  {ID: "jewel-5", Category: "jewelry", Tags: []string{"gold"}, Price: 120},
	"socks-9":  {ID: "socks-9", Category: "running-socks", Tags: []string{"running"}, Price: 12},
	"mug-4":    {ID: "mug-4", Category: "kitchen", Tags: []string{"coffee"}, Price: 15},
	"tent-7":   {ID: "tent-7", Category: "camping", Price: 300},
	"beans-1":  {ID: "beans-1", Category: "coffee-beans", Tags: []string{"coffee"}, Price: 14},
	"filter-2": {ID: "filter-2", Category: "coffee-filters", Tags: []string{"coffee"}, Price: 6},
	"grinder":  {ID: "grinder", Category: "coffee-machines", Price: 80},
}

// defaultOrder is the site's own order of the candidates: unrelated
// popular items first.
var defaultOrder = []string{"socks-9", "mug-4", "tent-7", "heels-3", "clutch-2", "jewel-5", "gown-2"}

func items(ids ...string) []wire.Item {
	out := make([]wire.Item, len(ids))
	for i, id := range ids {
		it, ok := catalogue[id]
		if !ok {
			it = wire.Item{ID: id}
		}
		out[i] = it
	}
	return out
}

// outfitWeights say gown → heels → clutch → jewelry, with the unrelated
// items the most popular.
func outfitWeights() *wire.Weights {
	return &wire.Weights{Version: 5, Items: []wire.ItemWeights{
		{ID: "gown-1", Pop: 0.3, Next: []wire.Neighbor{{ID: "heels-3", W: 1}, {ID: "clutch-2", W: 0.6}, {ID: "gown-2", W: 0.2}}},
		{ID: "heels-3", Pop: 0.3, Next: []wire.Neighbor{{ID: "clutch-2", W: 1}, {ID: "jewel-5", W: 0.5}}},
		{ID: "clutch-2", Pop: 0.2, Next: []wire.Neighbor{{ID: "jewel-5", W: 1}, {ID: "heels-3", W: 0.3}}},
		{ID: "jewel-5", Pop: 0.2, Next: []wire.Neighbor{{ID: "gown-2", W: 0.4}}},
		{ID: "gown-2", Pop: 0.1},
		{ID: "socks-9", Pop: 1, Next: []wire.Neighbor{{ID: "tent-7", W: 0.5}}},
		{ID: "mug-4", Pop: 0.9},
		{ID: "tent-7", Pop: 0.8},
		{ID: "grinder", Pop: 0.5, Next: []wire.Neighbor{{ID: "beans-1", W: 1}, {ID: "filter-2", W: 0.8}}},
	}}
}

func index(w *wire.Weights) *model.Index {
	var x model.Index
	x.Apply(w)
	return &x
}

// visitor returns a profile that did kind on each id in turn, a minute apart.
func visitor(kind wire.Kind, ids ...string) *profile.Profile {
	p := profile.New()
	for i, id := range ids {
		it := catalogue[id]
		p.Observe(&wire.Event{Kind: kind, Time: at(float64(i)), Item: &it})
	}
	return p
}

// rank ranks cands for p with the default params.
func rank(p *profile.Profile, cfg *wire.Config, x *model.Index, req wire.RankRequest, arm wire.Arm) wire.RankResult {
	return rankSeeded(1, p, cfg, x, req, arm)
}

// rankSeeded ranks with exploration's randomness drawn from seed (the
// device draws it from the platform's CSPRNG).
func rankSeeded(seed uint64, p *profile.Profile, cfg *wire.Config, x *model.Index, req wire.RankRequest, arm wire.Arm) wire.RankResult {
	if req.Time == 0 {
		req.Time = max(p.LastSeen, t0) + profile.Minute
	}
	params := model.DefaultParams
	return model.Rank(model.Input{Req: &req, Profile: p, Config: cfg, Index: x, Params: &params, Arm: arm,
		Rand: rand.New(rand.NewPCG(seed, 0))})
}

func ids(res wire.RankResult) []string {
	out := make([]string, len(res.Items))
	for i, it := range res.Items {
		out[i] = it.ID
	}
	return out
}

func find(t *testing.T, res wire.RankResult, id string) (int, wire.Ranked) {
	t.Helper()
	for i, it := range res.Items {
		if it.ID == id {
			return i, it
		}
	}
	t.Fatalf("%s not ranked: %v", id, ids(res))
	return -1, wire.Ranked{}
}

func TestRankSessionNeighbours(t *testing.T) {
	x := index(outfitWeights())
	p := visitor(wire.KindClick, "gown-1")
	res := rank(p, &wire.Config{}, x, wire.RankRequest{Candidates: items(defaultOrder...)}, wire.ArmTreatment)
	if res.Arm != wire.ArmTreatment || res.Version != 5 {
		t.Errorf("arm %v version %d, want treatment 5", res.Arm, res.Version)
	}
	got := ids(res)
	if got[0] != "heels-3" || got[1] != "clutch-2" {
		t.Fatalf("after a gown: %v, want heels then clutch first", got)
	}
	hi, heels := find(t, res, "heels-3")
	si, socks := find(t, res, "socks-9")
	if hi > si || heels.Score <= socks.Score {
		t.Errorf("heels (%d, %v) not above the unrelated popular socks (%d, %v)", hi, heels.Score, si, socks.Score)
	}
	if heels.Source != wire.SourceModel || heels.Reason != wire.ReasonSession || heels.Ref != "gown-1" {
		t.Errorf("heels explained as %v/%v/%q, want model/session/gown-1", heels.Source, heels.Reason, heels.Ref)
	}
	if socks.Reason != wire.ReasonPopular {
		t.Errorf("socks explained as %v, want popular", socks.Reason)
	}
	for i := 1; i < len(res.Items); i++ {
		if res.Items[i].Score > res.Items[i-1].Score {
			t.Errorf("scores out of order at %d: %v", i, res.Items)
		}
	}
}

// TestRankFollowsEachClick checks that the ranking after click t reflects
// click t: each click moves that item's strongest neighbour to the top,
// explained by the click.
func TestRankFollowsEachClick(t *testing.T) {
	x := index(outfitWeights())
	p := profile.New()
	var prev []string
	for i, tc := range []struct{ click, top string }{
		{"gown-1", "heels-3"},
		{"heels-3", "clutch-2"},
		{"clutch-2", "jewel-5"},
		{"jewel-5", "gown-2"},
	} {
		it := catalogue[tc.click]
		p.Observe(&wire.Event{Kind: wire.KindClick, Time: at(float64(i)), Item: &it})
		// A "you may also like" slot: the items clicked so far are not
		// candidates (they would lead, by Params.Repeat).
		var cands []wire.Item
		for _, c := range items(defaultOrder...) {
			if !slices.ContainsFunc(p.Session, func(e profile.Entry) bool { return e.Key == c.ID }) {
				cands = append(cands, c)
			}
		}
		res := rank(p, &wire.Config{}, x, wire.RankRequest{Candidates: cands, Time: at(float64(i) + 0.5)}, wire.ArmTreatment)
		got := ids(res)
		if got[0] != tc.top {
			t.Errorf("after clicking %s: top %s, want %s (%v)", tc.click, got[0], tc.top, got)
		}
		if top := res.Items[0]; top.Reason != wire.ReasonSession || top.Ref != tc.click {
			t.Errorf("after clicking %s: top explained by %v %q, want session %q", tc.click, top.Reason, top.Ref, tc.click)
		}
		if slices.Equal(got, prev) {
			t.Errorf("after clicking %s the ranking did not change: %v", tc.click, got)
		}
		prev = got
	}
}

func TestRulesOnlyMode(t *testing.T) {
	x := index(outfitWeights())
	p := visitor(wire.KindClick, "gown-1", "heels-3")
	cands := items(defaultOrder...)
	req := wire.RankRequest{Candidates: cands, Mode: wire.ModeRules}

	// No rules: the site's own order, whatever the model would say.
	res := rank(p, &wire.Config{Diversity: 1, Explore: 1}, x, req, wire.ArmTreatment)
	if got := ids(res); !slices.Equal(got, defaultOrder) {
		t.Fatalf("rules only, no rules: %v, want the default order %v", got, defaultOrder)
	}
	if res.Arm != wire.ArmRules {
		t.Errorf("arm = %v, want rules", res.Arm)
	}
	for _, it := range res.Items {
		if it.Source != wire.SourceDefault || it.Score != 0 {
			t.Errorf("%s: source %v score %v, want default 0", it.ID, it.Source, it.Score)
		}
	}

	// Rules apply; the default order breaks ties.
	cfg := &wire.Config{Rules: []wire.Rule{
		{ID: "coffee-lovers", Segment: "Coffee lovers", Then: wire.Action{Do: wire.DoBoost, Tags: []string{"coffee"}, Weight: 1}},
		{ID: "camping-down", Then: wire.Action{Do: wire.DoBury, Categories: []string{"camping"}, Weight: 1}},
		{ID: "formal-up", If: []wire.Cond{{Field: "viewed.tag", Op: wire.OpIn, Values: []string{"formal"}}},
			Then: wire.Action{Do: wire.DoBoost, IDs: []string{"jewel-5"}, Weight: 2}},
	}}
	res = rank(p, cfg, x, req, wire.ArmTreatment)
	want := []string{"jewel-5", "mug-4", "socks-9", "heels-3", "clutch-2", "gown-2", "tent-7"}
	if got := ids(res); !slices.Equal(got, want) {
		t.Fatalf("rules only: %v, want %v", got, want)
	}
	if _, mug := find(t, res, "mug-4"); mug.Source != wire.SourceRule || mug.Reason != wire.ReasonRule || mug.Ref != "Coffee lovers" {
		t.Errorf("mug explained as %v/%v/%q, want rule/rule/Coffee lovers", mug.Source, mug.Reason, mug.Ref)
	}
	if _, heels := find(t, res, "heels-3"); heels.Source != wire.SourceDefault {
		t.Errorf("heels: source %v, want default: the model does not vote in rules-only mode", heels.Source)
	}
}

func TestHoldout(t *testing.T) {
	x := index(outfitWeights())
	p := visitor(wire.KindClick, "gown-1")
	cfg := &wire.Config{Diversity: 1, Explore: 1, Rules: []wire.Rule{
		{ID: "pin-tent", Then: wire.Action{Do: wire.DoPin, IDs: []string{"gown-2"}}},
		{ID: "boost", Then: wire.Action{Do: wire.DoBoost, Categories: []string{"jewelry"}, Weight: 5}},
	}}
	res := rank(p, cfg, x, wire.RankRequest{Candidates: items(defaultOrder...)}, wire.ArmHoldout)
	if got := ids(res); !slices.Equal(got, defaultOrder) {
		t.Fatalf("holdout: %v, want the default order %v", got, defaultOrder)
	}
	if res.Arm != wire.ArmHoldout {
		t.Errorf("arm = %v, want holdout", res.Arm)
	}
	for _, it := range res.Items {
		if it.Source != wire.SourceDefault || it.Reason != wire.ReasonNone {
			t.Errorf("%s: %v/%v, want default with no reason", it.ID, it.Source, it.Reason)
		}
	}
}

// TestPinsAndFilters checks that pinned items lead, in score order, and
// filtered ones go, in every mode and whatever diversity and exploration
// do to the rest.
func TestPinsAndFilters(t *testing.T) {
	x := index(outfitWeights())
	cfg := func(diversity, explore float32) *wire.Config {
		return &wire.Config{Diversity: diversity, Explore: explore, Rules: []wire.Rule{
			{ID: "promo", Then: wire.Action{Do: wire.DoPin, IDs: []string{"tent-7", "gown-2"}}},
			{ID: "no-socks", Then: wire.Action{Do: wire.DoFilter, Categories: []string{"running-socks"}}},
		}}
	}
	var many []wire.Item
	for i := 0; i < 40; i++ {
		many = append(many, wire.Item{ID: "filler-" + strconv.Itoa(i), Category: "c" + strconv.Itoa(i%3)})
	}
	cands := append(items(defaultOrder...), many...)
	for _, tc := range []struct {
		name               string
		mode               wire.Mode
		diversity, explore float32
		limit              int
	}{
		{"ai", wire.ModeAI, 0, 0, 0},
		{"ai with diversity", wire.ModeAI, 1, 0, 0},
		{"ai with exploration", wire.ModeAI, 0, 1, 10},
		{"ai with both", wire.ModeAI, 0.5, 1, 5},
		{"rules only", wire.ModeRules, 1, 1, 0},
	} {
		for seed := uint64(0); seed < 20; seed++ {
			p := visitor(wire.KindClick, "gown-1", "heels-3")
			res := rankSeeded(seed, p, cfg(tc.diversity, tc.explore), x, wire.RankRequest{Candidates: cands, Mode: tc.mode, Limit: tc.limit}, wire.ArmTreatment)
			got := ids(res)
			if slices.Contains(got, "socks-9") {
				t.Fatalf("%s: filtered socks ranked: %v", tc.name, got)
			}
			if want := []string{"gown-2", "tent-7"}; tc.mode == wire.ModeRules {
				// No scores: the default order breaks the tie.
				if !slices.Equal(got[:2], []string{"tent-7", "gown-2"}) {
					t.Fatalf("%s, seed %d: %v, want the pinned tent-7 and gown-2 first", tc.name, seed, got)
				}
			} else if !slices.Equal(got[:2], want) {
				t.Fatalf("%s, seed %d: %v, want the pinned gown-2 (scored higher) and tent-7 first", tc.name, seed, got)
			}
			for _, it := range res.Items[:2] {
				if it.Source != wire.SourceRule || it.Reason != wire.ReasonRule || it.Ref != "promo" {
					t.Errorf("%s: pinned %s explained as %v/%v/%q", tc.name, it.ID, it.Source, it.Reason, it.Ref)
				}
			}
			if want := tc.limit; want > 0 && len(got) != want {
				t.Errorf("%s: %d items, want the limit %d", tc.name, len(got), want)
			}
		}
	}
}

// shoeWeights make one item lead to six shoes and three bags, the shoes
// scored higher.
func shoeWeights() *wire.Weights {
	w := &wire.Weights{Version: 1, Items: []wire.ItemWeights{{ID: "look-0", Pop: 0.1}}}
	for i := 1; i <= 6; i++ {
		w.Items[0].Next = append(w.Items[0].Next, wire.Neighbor{ID: "shoe-" + strconv.Itoa(i), W: 1.05 - 0.05*float32(i)})
	}
	for i := 1; i <= 3; i++ {
		w.Items[0].Next = append(w.Items[0].Next, wire.Neighbor{ID: "bag-" + strconv.Itoa(i), W: 0.75 - 0.05*float32(i)})
	}
	return w
}

func shoeCandidates() []wire.Item {
	var c []wire.Item
	for i := 1; i <= 6; i++ {
		c = append(c, wire.Item{ID: "shoe-" + strconv.Itoa(i), Category: "shoes"})
	}
	for i := 1; i <= 3; i++ {
		c = append(c, wire.Item{ID: "bag-" + strconv.Itoa(i), Category: "bags"})
	}
	return c
}

func TestDiversity(t *testing.T) {
	x := index(shoeWeights())
	p := profile.New()
	p.Observe(&wire.Event{Kind: wire.KindClick, Time: at(0), Item: &wire.Item{ID: "look-0"}})
	categories := func(res wire.RankResult, n int) []string {
		var c []string
		for _, it := range res.Items[:n] {
			c = append(c, it.ID[:3])
		}
		return c
	}
	res := rank(p, &wire.Config{}, x, wire.RankRequest{Candidates: shoeCandidates()}, wire.ArmTreatment)
	if got := categories(res, 4); !slices.Equal(got, []string{"sho", "sho", "sho", "sho"}) {
		t.Fatalf("without diversity, top 4: %v, want all shoes (%v)", got, ids(res))
	}
	res = rank(p, &wire.Config{Diversity: 0.5}, x, wire.RankRequest{Candidates: shoeCandidates()}, wire.ArmTreatment)
	if got, want := ids(res)[:4], []string{"shoe-1", "bag-1", "shoe-2", "bag-2"}; !slices.Equal(got, want) {
		t.Fatalf("with diversity 0.5, top 4: %v, want %v", got, want)
	}
	if got := ids(res); len(got) != 9 || !slices.Contains(got, "shoe-6") || !slices.Contains(got, "bag-3") {
		t.Errorf("diversity lost or repeated items: %v", got)
	}
	// Diversity acts on the shown window, drawing from three times as many.
	res = rank(p, &wire.Config{Diversity: 0.5}, x, wire.RankRequest{Candidates: shoeCandidates(), Limit: 3}, wire.ArmTreatment)
	if got := ids(res); !slices.Equal(got, []string{"shoe-1", "bag-1", "shoe-2"}) {
		t.Errorf("with diversity, limit 3: %v, want shoe-1 bag-1 shoe-2", got)
	}
	res = rank(p, &wire.Config{Diversity: 0.5}, x, wire.RankRequest{Candidates: shoeCandidates(), Limit: 2}, wire.ArmTreatment)
	if got := ids(res); !slices.Equal(got, []string{"shoe-1", "shoe-2"}) {
		t.Errorf("with diversity, limit 2: %v, want shoe-1 shoe-2 (the bags are beyond the pool of 6)", got)
	}
}

func TestExplore(t *testing.T) {
	x := index(outfitWeights())
	var cands []wire.Item
	for i := 0; i < 30; i++ {
		cands = append(cands, wire.Item{ID: "item-" + strconv.Itoa(i)})
	}
	cands = append(cands, items("heels-3", "clutch-2")...)
	req := wire.RankRequest{Candidates: cands, Limit: 10}
	base := ids(rank(visitor(wire.KindClick, "gown-1"), &wire.Config{}, x, req, wire.ArmTreatment))

	explored := map[string]bool{}
	for seed := uint64(0); seed < 50; seed++ {
		res := rankSeeded(seed, visitor(wire.KindClick, "gown-1"), &wire.Config{Explore: 1}, x, req, wire.ArmTreatment)
		again := rankSeeded(seed, visitor(wire.KindClick, "gown-1"), &wire.Config{Explore: 1}, x, req, wire.ArmTreatment)
		if !slices.Equal(ids(res), ids(again)) {
			t.Fatalf("seed %d: %v then %v: exploration is not deterministic", seed, ids(res), ids(again))
		}
		if len(res.Items) != 10 {
			t.Fatalf("seed %d: %d items, want the limit 10", seed, len(res.Items))
		}
		n := 0
		for i, it := range res.Items {
			if it.Source != wire.SourceExplore {
				continue
			}
			n++
			explored[it.ID] = true
			if i == 0 {
				t.Errorf("seed %d: exploration displaced the top item", seed)
			}
			if it.Reason != wire.ReasonExplore || it.Ref != "" {
				t.Errorf("seed %d: explored %s explained as %v %q", seed, it.ID, it.Reason, it.Ref)
			}
			if slices.Contains(base, it.ID) {
				t.Errorf("seed %d: explored %s was already shown", seed, it.ID)
			}
		}
		if n != 1 {
			t.Fatalf("seed %d: %d explored items, want 1 (%v)", seed, n, res.Items)
		}
		if res.Items[0].ID != base[0] {
			t.Errorf("seed %d: top %s, want %s", seed, res.Items[0].ID, base[0])
		}
	}
	if len(explored) < 5 {
		t.Errorf("50 seeds explored only %v", explored)
	}
	// No exploration share, no exploration; nor in a slot of one.
	for _, tc := range []struct {
		cfg   wire.Config
		limit int
	}{{wire.Config{}, 10}, {wire.Config{Explore: 1}, 1}} {
		res := rank(visitor(wire.KindClick, "gown-1"), &tc.cfg, x, wire.RankRequest{Candidates: cands, Limit: tc.limit}, wire.ArmTreatment)
		for _, it := range res.Items {
			if it.Source == wire.SourceExplore {
				t.Errorf("explore %v, limit %d: %s explored", tc.cfg.Explore, tc.limit, it.ID)
			}
		}
	}
}

// TestExplanations checks that each kind of evidence names what it
// points at.
func TestExplanations(t *testing.T) {
	x := index(outfitWeights())
	day := float64(24 * 60)
	for _, tc := range []struct {
		name   string
		events []wire.Event
		cfg    wire.Config
		cands  []wire.Item
		id     string
		reason wire.Reason
		ref    string
	}{
		{"session neighbour names the session item", []wire.Event{
			{Kind: wire.KindView, Item: ptr(catalogue["clutch-2"])}, {Kind: wire.KindView, Item: ptr(catalogue["socks-9"])}},
			wire.Config{}, items("jewel-5", "mug-4"), "jewel-5", wire.ReasonSession, "clutch-2"},
		{"the more recent item explains", []wire.Event{
			{Kind: wire.KindView, Item: ptr(catalogue["gown-1"])}, {Kind: wire.KindView, Item: ptr(catalogue["heels-3"])}},
			wire.Config{}, items("clutch-2", "mug-4"), "clutch-2", wire.ReasonSession, "heels-3"},
		{"history names the earlier visits' item", []wire.Event{ // one visit's burst weighs little (TestLastingAndSession)
			{Kind: wire.KindView, Item: ptr(catalogue["heels-3"])},
			{Kind: wire.KindView, Time: at(day), Item: ptr(catalogue["heels-3"])},
			{Kind: wire.KindView, Time: at(2 * day), Item: ptr(catalogue["heels-3"])},
			{Kind: wire.KindView, Time: at(3 * day), Item: ptr(catalogue["mug-4"])}},
			wire.Config{}, items("clutch-2", "tent-7"), "clutch-2", wire.ReasonHistory, "heels-3"},
		{"repeat names the item itself", []wire.Event{{Kind: wire.KindView, Item: ptr(catalogue["gown-2"])}},
			wire.Config{}, items("gown-2"), "gown-2", wire.ReasonRepeat, "gown-2"},
		{"search names the term", []wire.Event{{Kind: wire.KindSearch, Query: "camping tent"}},
			wire.Config{}, items("tent-7", "mug-4"), "tent-7", wire.ReasonSearch, "camping"},
		{"affinity names the category", []wire.Event{
			{Kind: wire.KindPurchase, Item: &wire.Item{ID: "other-mug", Category: "kitchen"}},
			{Kind: wire.KindView, Time: at(day), Item: &wire.Item{ID: "x"}}},
			wire.Config{}, items("mug-4"), "mug-4", wire.ReasonAffinity, "kitchen"},
		{"replenishment names the purchase", []wire.Event{
			{Kind: wire.KindPurchase, Item: ptr(catalogue["grinder"])},
			{Kind: wire.KindView, Time: at(21 * day), Item: &wire.Item{ID: "x"}}},
			wire.Config{Replenish: map[string]uint16{"coffee-machines": 21}}, items("mug-4", "beans-1"), "beans-1", wire.ReasonReplenish, "grinder"},
		{"popularity", nil, wire.Config{}, items("socks-9"), "socks-9", wire.ReasonPopular, ""},
		{"a business rule names itself", nil, wire.Config{Rules: []wire.Rule{
			{ID: "camping-week", Then: wire.Action{Do: wire.DoBoost, Categories: []string{"camping"}, Weight: 2}}}},
			items("socks-9", "tent-7"), "tent-7", wire.ReasonRule, "camping-week"},
	} {
		p := profile.New()
		for i, e := range tc.events {
			if e.Time == 0 {
				e.Time = at(float64(i))
			}
			p.Observe(&e)
		}
		res := rank(p, &tc.cfg, x, wire.RankRequest{Candidates: tc.cands}, wire.ArmTreatment)
		_, it := find(t, res, tc.id)
		if it.Reason != tc.reason || it.Ref != tc.ref {
			t.Errorf("%s: %s explained as %v %q, want %v %q", tc.name, tc.id, it.Reason, it.Ref, tc.reason, tc.ref)
		}
		if res.Items[0].ID != tc.id {
			t.Errorf("%s: %v, want %s first", tc.name, ids(res), tc.id)
		}
	}
}

// TestBoughtVotesNoMore checks that an item bought on an earlier visit
// lends its neighbours nothing through the history, while the same item
// only viewed as long does: its neighbours are its substitutes (the
// gift buyer's next visit, demo-site/e2e TestScenario5GiftBuyerOverVisits).
func TestBoughtVotesNoMore(t *testing.T) {
	x := index(outfitWeights())
	day := float64(24 * 60)
	for _, kind := range []wire.Kind{wire.KindView, wire.KindPurchase} {
		p := profile.New()
		for _, e := range []wire.Event{
			{Kind: kind, Time: at(0), Item: ptr(catalogue["heels-3"])},
			{Kind: wire.KindView, Time: at(day), Item: ptr(catalogue["heels-3"])},
			{Kind: wire.KindView, Time: at(3 * day), Item: ptr(catalogue["mug-4"])},
		} {
			p.Observe(&e)
		}
		res := rank(p, &wire.Config{}, x, wire.RankRequest{Candidates: items("clutch-2", "tent-7")}, wire.ArmTreatment)
		_, it := find(t, res, "clutch-2")
		if history := it.Reason == wire.ReasonHistory && it.Ref == "heels-3"; history != (kind == wire.KindView) {
			t.Errorf("heels-3 by %v: clutch-2 explained as %v %q", kind, it.Reason, it.Ref)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestBoughtRanksLower checks that an item already bought is worth less
// to show again.
func TestBoughtRanksLower(t *testing.T) {
	x := index(outfitWeights())
	p := visitor(wire.KindClick, "gown-1")
	cands := items("heels-3", "clutch-2")
	if got := ids(rank(p, &wire.Config{}, x, wire.RankRequest{Candidates: cands}, wire.ArmTreatment)); got[0] != "heels-3" {
		t.Fatalf("before buying the heels: %v, want heels first", got)
	}
	p.Observe(&wire.Event{Kind: wire.KindPurchase, Time: at(1), Item: ptr(catalogue["heels-3"])})
	p.Observe(&wire.Event{Kind: wire.KindClick, Time: at(2), Item: ptr(catalogue["gown-1"])})
	if got := ids(rank(p, &wire.Config{}, x, wire.RankRequest{Candidates: cands}, wire.ArmTreatment)); got[0] != "clutch-2" {
		t.Errorf("after buying the heels: %v, want clutch first", got)
	}
}

func TestGenerateCandidates(t *testing.T) {
	x := index(outfitWeights())
	p := visitor(wire.KindClick, "gown-1")
	res := rank(p, &wire.Config{}, x, wire.RankRequest{}, wire.ArmTreatment)
	got := ids(res)
	if len(got) != x.Len() {
		t.Errorf("generated %d candidates, want all %d items the index knows: %v", len(got), x.Len(), got)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("%s generated twice", id)
		}
		seen[id] = true
		if id == "" {
			t.Errorf("an empty id generated")
		}
	}
	if !slices.Contains(got, "gown-1") {
		t.Errorf("generated %v: the session's own item is missing", got)
	}
	pos := func(id string) int { return slices.Index(got, id) }
	for _, unrelated := range []string{"socks-9", "mug-4", "tent-7", "grinder"} {
		if pos("heels-3") > pos(unrelated) {
			t.Errorf("generated ranking %v: heels below the unrelated %s", got, unrelated)
		}
	}
	res = rank(p, &wire.Config{}, x, wire.RankRequest{Limit: 3}, wire.ArmTreatment)
	if len(res.Items) != 3 {
		t.Errorf("limit 3: %v", ids(res))
	}
	// A fresh visitor gets the most popular.
	res = rank(profile.New(), &wire.Config{}, x, wire.RankRequest{Limit: 3}, wire.ArmTreatment)
	if got := ids(res); !slices.Equal(got, []string{"socks-9", "mug-4", "tent-7"}) {
		t.Errorf("fresh visitor: %v, want the three most popular", got)
	}
	// No weights, no session: nothing to rank.
	res = rank(profile.New(), &wire.Config{}, new(model.Index), wire.RankRequest{}, wire.ArmTreatment)
	if len(res.Items) != 0 || res.Version != 0 {
		t.Errorf("empty index: %+v", res)
	}
	// Session items are candidates even when the weights do not know them.
	p = profile.New()
	p.Observe(&wire.Event{Kind: wire.KindView, Time: at(0), Item: &wire.Item{ID: "new-item"}})
	res = rank(p, &wire.Config{}, new(model.Index), wire.RankRequest{}, wire.ArmTreatment)
	if got := ids(res); !slices.Equal(got, []string{"new-item"}) {
		t.Errorf("unknown session item: %v", got)
	}
}

// TestGenerateTopN checks that a catalogue larger than TopN generates only
// the TopN most popular items (and the session's).
func TestGenerateTopN(t *testing.T) {
	w := &wire.Weights{Version: 1}
	for i := 0; i < 3*model.TopN; i++ {
		w.Items = append(w.Items, wire.ItemWeights{ID: "sku-" + strconv.Itoa(i), Pop: float32(i) / float32(3*model.TopN)})
	}
	x := index(w)
	res := rank(profile.New(), &wire.Config{}, x, wire.RankRequest{}, wire.ArmTreatment)
	if len(res.Items) != model.TopN {
		t.Fatalf("generated %d, want TopN = %d", len(res.Items), model.TopN)
	}
	if res.Items[0].ID != "sku-"+strconv.Itoa(3*model.TopN-1) || res.Items[model.TopN-1].ID != "sku-"+strconv.Itoa(2*model.TopN) {
		t.Errorf("generated %s ... %s, want the most popular", res.Items[0].ID, res.Items[model.TopN-1].ID)
	}
}

// TestIndexBoundsIDs: weights that would take an index past MaxIDs ids
// are refused whole, counting each id once however often it is named,
// and the index keeps what it held.
func TestIndexBoundsIDs(t *testing.T) {
	var x model.Index
	var fill wire.Weights
	for i := range model.MaxIDs - 2 {
		fill.Items = append(fill.Items, wire.ItemWeights{ID: fmt.Sprint("i", i), Pop: 0.5})
	}
	fill.Items[0].Next = []wire.Neighbor{{ID: "i1", W: 1}}
	if err := x.Apply(&fill); err != nil || x.Len() != model.MaxIDs-2 {
		t.Fatalf("%d ids: %v, %d held", model.MaxIDs-2, err, x.Len())
	}
	three := &wire.Weights{Version: 9, Items: []wire.ItemWeights{{ID: "i0", Pop: 1, Next: []wire.Neighbor{{ID: "n1", W: 1}, {ID: "n2", W: 1}, {ID: "n3", W: 1}}}}}
	if err := x.Apply(three); !errors.Is(err, model.ErrTooManyIDs) {
		t.Fatalf("3 new ids past %d held: %v, want ErrTooManyIDs", x.Len(), err)
	}
	if x.Len() != model.MaxIDs-2 || x.Version != 0 || x.Pop("i0") != 0.5 || !slices.Equal(x.Neighbors("i0"), []wire.Neighbor{{ID: "i1", W: 1}}) {
		t.Fatalf("a refused shard changed the index: %d ids, version %d, i0 %v %v", x.Len(), x.Version, x.Pop("i0"), x.Neighbors("i0"))
	}
	// Two new ids, named six times: they fit.
	two := &wire.Weights{Version: 9, Items: []wire.ItemWeights{
		{ID: "n1", Pop: 1, Next: []wire.Neighbor{{ID: "n2", W: 1}, {ID: "i1", W: 1}}},
		{ID: "n2", Pop: 1, Next: []wire.Neighbor{{ID: "n1", W: 1}, {ID: "n2", W: 1}}},
		{ID: "i2", Pop: 1, Next: []wire.Neighbor{{ID: "n1", W: 1}, {ID: "n2", W: 1}}},
	}}
	if err := x.Apply(two); err != nil || x.Len() != model.MaxIDs || x.Pop("n1") != 1 || x.Version != 9 {
		t.Fatalf("2 new ids to %d: %v, %d held, version %d", model.MaxIDs, err, x.Len(), x.Version)
	}
	if err := x.Apply(&wire.Weights{Version: 10, Items: []wire.ItemWeights{{ID: "i3", Pop: 0.9}}}); err != nil || x.Pop("i3") != 0.9 {
		t.Fatalf("a full index refused weights of the ids it holds: %v", err)
	}
	if err := x.Apply(&wire.Weights{Version: 11, Items: []wire.ItemWeights{{ID: "new", Pop: 1}}}); !errors.Is(err, model.ErrTooManyIDs) {
		t.Fatalf("one id past a full index: %v", err)
	}
}

func TestIndexApply(t *testing.T) {
	var x model.Index
	if x.Len() != 0 || x.Neighbors("a") != nil || x.Pop("a") != 0 {
		t.Fatal("zero Index not empty")
	}
	shard := func(v uint32, s uint16, items ...wire.ItemWeights) *wire.Weights {
		return &wire.Weights{Version: v, Shard: s, Shards: 2, Items: items}
	}
	x.Apply(shard(2, 0, wire.ItemWeights{ID: "a", Pop: 0.5, Next: []wire.Neighbor{{ID: "c", W: 1}}}))
	x.Apply(shard(2, 1, wire.ItemWeights{ID: "c", Pop: 1, Next: []wire.Neighbor{{ID: "a", W: 0.5}, {ID: "d", W: 0.25}}}, wire.ItemWeights{ID: "d", Pop: 0.1}))
	if x.Version != 2 || x.Len() != 3 {
		t.Fatalf("after two shards: version %d, %d items; want 2, 3", x.Version, x.Len())
	}
	if got := x.Neighbors("c"); !slices.Equal(got, []wire.Neighbor{{ID: "a", W: 0.5}, {ID: "d", W: 0.25}}) {
		t.Errorf("Neighbors(c) = %v", got)
	}
	if got := x.Neighbors("a"); !slices.Equal(got, []wire.Neighbor{{ID: "c", W: 1}}) {
		t.Errorf("Neighbors(a) = %v", got)
	}
	if x.Pop("c") != 1 || x.Pop("a") != 0.5 || x.Pop("zzz") != 0 {
		t.Errorf("Pop = %v, %v, %v", x.Pop("c"), x.Pop("a"), x.Pop("zzz"))
	}
	// A newer version's shard replaces its items and keeps the others.
	x.Apply(shard(3, 0, wire.ItemWeights{ID: "a", Pop: 0.9}))
	if x.Version != 3 || x.Len() != 3 || x.Pop("a") != 0.9 || len(x.Neighbors("a")) != 0 || x.Pop("c") != 1 {
		t.Errorf("after a newer shard: version %d, len %d, a %v %v, c %v", x.Version, x.Len(), x.Pop("a"), x.Neighbors("a"), x.Pop("c"))
	}
	// An unchanged shard kept from an older version merges too.
	x.Apply(shard(1, 1, wire.ItemWeights{ID: "z", Pop: 0.3}))
	if x.Version != 3 || x.Len() != 4 || x.Pop("z") != 0.3 || x.Pop("c") != 1 {
		t.Errorf("after an older shard: version %d, len %d", x.Version, x.Len())
	}
	x.Reset()
	if x.Version != 0 || x.Len() != 0 {
		t.Errorf("after Reset: version %d, len %d", x.Version, x.Len())
	}
	// Ranking from the merged shards uses both.
	x.Apply(shard(4, 0, wire.ItemWeights{ID: "a", Pop: 0.1, Next: []wire.Neighbor{{ID: "c", W: 1}}}))
	x.Apply(shard(4, 1, wire.ItemWeights{ID: "c", Pop: 0.1}, wire.ItemWeights{ID: "d", Pop: 0.9}))
	p := profile.New()
	p.Observe(&wire.Event{Kind: wire.KindClick, Time: at(0), Item: &wire.Item{ID: "a"}})
	res := rank(p, &wire.Config{}, &x, wire.RankRequest{Candidates: []wire.Item{{ID: "d"}, {ID: "c"}}}, wire.ArmTreatment)
	if got := ids(res); !slices.Equal(got, []string{"c", "d"}) || res.Version != 4 {
		t.Errorf("ranking over two shards: %v v%d, want [c d] v4", got, res.Version)
	}
}

func TestLimit(t *testing.T) {
	x := index(outfitWeights())
	p := visitor(wire.KindClick, "gown-1")
	for _, tc := range []struct{ limit, want int }{{0, 7}, {-1, 7}, {1, 1}, {3, 3}, {7, 7}, {100, 7}} {
		res := rank(p, &wire.Config{}, x, wire.RankRequest{Candidates: items(defaultOrder...), Limit: tc.limit}, wire.ArmTreatment)
		if len(res.Items) != tc.want {
			t.Errorf("limit %d: %d items, want %d", tc.limit, len(res.Items), tc.want)
		}
	}
}

// Rank after a click: the gown's neighbours lead, each with its reason.
func ExampleRank() {
	var x model.Index
	x.Apply(&wire.Weights{Version: 1, Items: []wire.ItemWeights{
		{ID: "gown-1", Next: []wire.Neighbor{{ID: "heels-3", W: 1}, {ID: "clutch-2", W: 0.5}}},
		{ID: "socks-9", Pop: 1},
	}})
	p := profile.New()
	p.Observe(&wire.Event{Kind: wire.KindClick, Time: t0, Item: &wire.Item{ID: "gown-1"}})
	req := wire.RankRequest{Time: t0 + profile.Minute, Candidates: []wire.Item{{ID: "socks-9"}, {ID: "clutch-2"}, {ID: "heels-3"}}}
	res := model.Rank(model.Input{Req: &req, Profile: p, Config: &wire.Config{}, Index: &x, Params: &model.DefaultParams})
	for _, it := range res.Items {
		fmt.Printf("%-8s %.3f %s %s %q\n", it.ID, it.Score, it.Source, it.Reason, it.Ref)
	}
	// Output:
	// heels-3  1.000 model session "gown-1"
	// clutch-2 0.500 model session "gown-1"
	// socks-9  0.003 model popular ""
}
