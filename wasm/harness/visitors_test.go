package harness_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// TestVisitorsFollowTheirOwnClicks runs 1,000 simulated visitors of six
// personas through tailor.wasm with no global weights (model version 0):
// after every click, the ranking of the whole catalogue must reflect that
// click, and at the end each visitor's top five must belong to their own
// persona's categories, not another's.
func TestVisitorsFollowTheirOwnClicks(t *testing.T) {
	s := demoSim(t)
	ctx := context.Background()
	pool := harnesstest.Runtime(t).NewPool(8, nil)
	const visitors = 1000
	var followed, steps, ownTop, tops atomic.Int64
	err := pool.Run(ctx, visitors, func(in *harness.Instance, i int) error {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		p := &sim.Personas[i%len(sim.Personas)]
		if err := in.Init(wire.Config{Site: "demo", Privacy: wire.PrivacyFederated}); err != nil {
			return err
		}
		own := map[string]bool{}
		for c, next := range p.Next {
			own[c] = true
			for _, n := range next {
				own[n] = true
			}
		}
		at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		var res wire.RankResult
		for _, prod := range s.Session(p, rng, 6) {
			if err := in.Track(sim.Event(wire.KindClick, &prod, at)); err != nil {
				return err
			}
			at = at.Add(30 * time.Second)
			var err error
			res, err = in.Rank(&wire.RankRequest{Slot: "recommended", Candidates: s.Candidates(), Limit: 5, Time: at.UnixMilli()})
			if err != nil {
				return err
			}
			steps.Add(1)
			if slices.ContainsFunc(res.Items, func(r wire.Ranked) bool {
				return s.Catalog.Find(r.ID).Category == prod.Category
			}) {
				followed.Add(1)
			}
		}
		for _, r := range res.Items {
			tops.Add(1)
			if own[s.Catalog.Find(r.ID).Category] {
				ownTop.Add(1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	follow := float64(followed.Load()) / float64(steps.Load())
	own := float64(ownTop.Load()) / float64(tops.Load())
	t.Logf("%d visitors: the clicked item's category is in the top 5 after %.1f%% of clicks; %.1f%% of final top-5 items are the visitor's own persona's",
		visitors, 100*follow, 100*own)
	if follow < 0.99 {
		t.Errorf("ranking followed the last click after %.3f of clicks, want >= 0.99", follow)
	}
	if own < 0.95 {
		t.Errorf("%.3f of final top-5 items belong to the visitor's persona, want >= 0.95", own)
	}
}

// TestRulesOnlyGivesTheSegmentAnswer checks the traditional baseline: in
// rules-only mode a visitor who viewed an evening gown falls into the
// site's "evening shopper" segment, whose rule boosts jewelry; the slot
// shows the segment's items first in the site's default order, and nothing
// the model learned.
func TestRulesOnlyGivesTheSegmentAnswer(t *testing.T) {
	s := demoSim(t)
	cfg := wire.Config{Site: "demo", Privacy: wire.PrivacyFederated, Rules: []wire.Rule{{
		ID: "r1", Segment: "evening shopper",
		If:   []wire.Cond{{Field: "viewed.category", Op: wire.OpIn, Values: []string{"evening-gowns"}}},
		Then: wire.Action{Do: wire.DoBoost, Categories: []string{"jewelry"}, Weight: 1},
	}}}
	in := harnesstest.Instance(t)
	if err := in.Init(cfg); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	gown := s.Catalog.Find("evening-gowns-1")
	if err := in.Track(sim.Event(wire.KindView, gown, at)); err != nil {
		t.Fatal(err)
	}
	res, err := in.Rank(&wire.RankRequest{Slot: "home", Candidates: s.Candidates(), Limit: 8, Time: at.Add(time.Minute).UnixMilli(), Mode: wire.ModeRules})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range s.Catalog.ByCategory("jewelry") {
		want = append(want, p.ID)
	}
	for _, p := range s.Catalog.Products {
		if p.Category != "jewelry" && len(want) < 8 {
			want = append(want, p.ID)
		}
	}
	var got []string
	for i, r := range res.Items {
		got = append(got, r.ID)
		boosted := i < len(s.Catalog.ByCategory("jewelry"))
		if boosted && (r.Source != wire.SourceRule || r.Reason != wire.ReasonRule || r.Ref != "evening shopper") ||
			!boosted && r.Source != wire.SourceDefault {
			t.Errorf("item %d %s: source %v reason %v ref %q", i, r.ID, r.Source, r.Reason, r.Ref)
		}
	}
	if !slices.Equal(got, want) || res.Arm != wire.ArmRules {
		t.Errorf("rules-only ranking = %v (arm %v), want %v", got, res.Arm, want)
	}
}
