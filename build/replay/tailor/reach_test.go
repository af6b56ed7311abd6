package tailor

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
	"github.com/tailorhq/tailor/sdk/model"
	"github.com/tailorhq/tailor/sdk/wire"
)

// TestReach says where the true next click of each prediction was for a
// device of the shipped federated mode, and how often the device's top 20
// held it: the ceiling any ranking on the device has with the model it
// can read (RATIONALE, "Why did issue 12's ranking sweep change
// nothing?"). Each click is classed by the first that holds it: an item
// of the session; a neighbour of the last item; a neighbour of an older
// session item whose list the device holds; a neighbour of such a
// neighbour (from the HopItems most recent items: the second hop); an
// item whose own list names a session item (the reverse pair), in a shard
// the device holds or not; an item with a list of its own linked to none
// of those; an item without a list. Skipped unless TAILOR_REACH_TRAIN and
// TAILOR_REACH_EVAL name a split (TAILOR_REACH_SAMPLE evaluation
// sessions, all when unset; TAILOR_REACH_DELTAS a delta file). The
// device is the Go device at model.DefaultParams, the guest's figures
// (TestRankingDefaultIsGuest); the training devices run tailor.wasm.
func TestReach(t *testing.T) {
	train, evalFile := os.Getenv("TAILOR_REACH_TRAIN"), os.Getenv("TAILOR_REACH_EVAL")
	if train == "" || evalFile == "" {
		t.Skip("TAILOR_REACH_TRAIN and TAILOR_REACH_EVAL unset")
	}
	ds, err := data.Load(train, "")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := data.Read(evalFile)
	if err != nil {
		t.Fatal(err)
	}
	split := eval.NewSplit(ds.Sessions, ev.Sessions)
	if n, err := strconv.Atoi(os.Getenv("TAILOR_REACH_SAMPLE")); err == nil {
		split.Sample(n)
	}
	SetDeltaFile(os.Getenv("TAILOR_REACH_DELTAS"))
	t.Cleanup(func() { SetDeltaFile("") })
	params := model.DefaultParams
	m := &Method{cfg: replay.Config{Seed: 1, HasClock: ds.HasClock, ClockOffset: ds.ClockOffset, Workers: 2},
		mode: report.ModeFederated, privacy: wire.PrivacyFederated, params: ServerParams(), ranking: &params}
	if err := m.Fit(context.Background(), split.Train); err != nil {
		t.Fatal(err)
	}
	lists := map[string][]wire.Neighbor{}
	head := map[string]bool{} // items of the head shards, which every device holds
	pairs := 0
	for i, sh := range m.model.shards {
		var w wire.Weights
		if err := wire.Unmarshal(sh.b, &w, "weights"); err != nil {
			t.Fatal(err)
		}
		for _, it := range w.Items {
			if _, ok := lists[it.ID]; !ok {
				pairs += len(it.Next)
			}
			lists[it.ID] = it.Next
			if slices.Contains(m.model.head, i) {
				head[it.ID] = true
			}
		}
	}
	classes := []string{"session item", "neighbour of the last item", "neighbour of an older item", "second hop",
		"reverse pair, shard held", "reverse pair, shard not held", "in the model, not linked", "no list of its own"}
	var seen, hit [8]int
	total := 0
	for _, ses := range split.Test {
		s := m.Start()
		var clicked []string
		for j, c := range ses.Clicks[:len(ses.Clicks)-1] {
			held := m.model.want(pageIDs(c.Item, clicked), false)
			clicked = append(clicked, c.Item)
			top, err := s.Next(c.Item, c.At, 20)
			if err != nil {
				t.Fatal(err)
			}
			target := ses.Clicks[j+1].Item
			list := func(id string) []wire.Neighbor {
				if head[id] || held[wire.ShardOf(id, m.model.count)] {
					return lists[id]
				}
				return nil
			}
			names := func(l []wire.Neighbor, id string) bool {
				return slices.ContainsFunc(l, func(nb wire.Neighbor) bool { return nb.ID == id })
			}
			class := func() int {
				if slices.Contains(clicked, target) {
					return 0
				}
				last := clicked[len(clicked)-1]
				if names(list(last), target) {
					return 1
				}
				for _, id := range clicked {
					if names(list(id), target) {
						return 2
					}
				}
				for _, id := range clicked[max(0, len(clicked)-model.HopItems):] {
					for _, nb := range list(id) {
						if names(list(nb.ID), target) {
							return 3
						}
					}
				}
				own, ok := lists[target]
				if slices.ContainsFunc(own, func(nb wire.Neighbor) bool { return slices.Contains(clicked, nb.ID) }) {
					if list(target) != nil {
						return 4
					}
					return 5
				}
				if ok {
					return 6
				}
				return 7
			}()
			total++
			seen[class]++
			if slices.Contains(top, target) {
				hit[class]++
			}
		}
		if c, ok := s.(interface{ Close() error }); ok {
			c.Close()
		}
	}
	fmt.Printf("%s: %d predictions; model: %d items with a list, %.2f neighbours a list, %d shards\n", evalFile, total, len(lists), float64(pairs)/float64(len(lists)), m.model.count)
	hits := 0
	for i, name := range classes {
		hits += hit[i]
		fmt.Printf("%-30s %6.3f of predictions, in the top 20 for %5.3f of them (%.3f of all)\n", name, float64(seen[i])/float64(total),
			float64(hit[i])/float64(max(seen[i], 1)), float64(hit[i])/float64(total))
	}
	fmt.Printf("HR@20 %.4f\n", float64(hits)/float64(total))
}
