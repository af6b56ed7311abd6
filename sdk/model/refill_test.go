package model_test

import (
	"testing"

	"github.com/tailorhq/tailor/sdk/model"
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

// TestRefillsAreNotMoreOfTheSame: three weeks after buying a coffee
// machine, the beans and filters that go with it are suggested as refills;
// another coffee machine, though visitors view it next, is not.
func TestRefillsAreNotMoreOfTheSame(t *testing.T) {
	x := &model.Index{}
	x.Apply(&wire.Weights{Version: 1, Items: []wire.ItemWeights{
		{ID: "machine-1", Next: []wire.Neighbor{{ID: "machine-2", W: 1}, {ID: "beans-1", W: 0.9}, {ID: "filter-2", W: 0.8}}},
	}})
	cfg := &wire.Config{Replenish: map[string]uint16{"coffee-machines": 21}}
	p := profile.New()
	p.Observe(&wire.Event{Kind: wire.KindPurchase, Time: at(0), Item: &wire.Item{ID: "machine-1", Category: "coffee-machines"}})
	cands := []wire.Item{{ID: "machine-2", Category: "coffee-machines"}, {ID: "beans-1", Category: "coffee-beans"}, {ID: "filter-2", Category: "coffee-filters"}}
	later := at(22 * 24 * 60)
	res := model.Rank(model.Input{Req: &wire.RankRequest{Candidates: cands, Time: later}, Profile: p, Config: cfg, Index: x, Params: &model.DefaultParams})
	for _, it := range res.Items {
		refill := it.Reason == wire.ReasonReplenish && it.Ref == "machine-1"
		if refill != (it.ID != "machine-2") {
			t.Errorf("%s explained as %v %q", it.ID, it.Reason, it.Ref)
		}
	}
	if res.Items[2].ID != "machine-2" {
		t.Errorf("order %v, want the other machine last", res.Items)
	}
}
