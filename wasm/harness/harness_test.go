package harness_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/abi"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func cfg() wire.Config {
	return wire.Config{Site: "demo", Privacy: wire.PrivacyFederated}
}

// initialized returns a new instance, closed when the test ends, whose
// device is initialized with cfg().
func initialized(t *testing.T) *harness.Instance {
	t.Helper()
	in := harnesstest.Instance(t)
	if err := in.Init(cfg()); err != nil {
		t.Fatal(err)
	}
	return in
}

func event(kind wire.Kind, id, cat string, t time.Time) *wire.Event {
	return &wire.Event{Kind: kind, Time: t.UnixMilli(), Item: &wire.Item{ID: id, Category: cat}}
}

func TestSmoke(t *testing.T) {
	in := initialized(t)
	if err := in.Track(event(wire.KindClick, "gown-1", "evening-gowns", t0)); err != nil {
		t.Fatal(err)
	}
	if err := in.Track(event(wire.KindClick, "heels-1", "metallic-heels", t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	cands := []wire.Item{{ID: "socks-1", Category: "running-socks"}, {ID: "heels-2", Category: "metallic-heels"}, {ID: "gown-2", Category: "evening-gowns"}}
	res, err := in.Rank(&wire.RankRequest{Slot: "home", Candidates: cands, Time: t0.Add(2 * time.Minute).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 3 || res.Items[2].ID != "socks-1" {
		t.Fatalf("rank = %+v, want socks last", res.Items)
	}
	if err := in.Track(event(wire.KindClick, "clutch-1", "clutches", t0.Add(3*time.Minute))); err != nil {
		t.Fatal(err)
	}
	delta := harnesstest.Delta(t, in) // a block of three items: its three pairs
	if len(delta.Pairs) != 3 || delta.Pairs[0].From != "clutch-1" && delta.Pairs[0].To != "clutch-1" {
		t.Fatalf("delta pairs = %+v", delta.Pairs)
	}
	t.Logf("delta %d bytes, memory %d bytes", len(wire.Marshal(&delta)), in.MemorySize())
}

func TestNotReady(t *testing.T) {
	in := harnesstest.Instance(t)
	err := in.Track(event(wire.KindClick, "a", "", t0))
	var ge *harness.GuestError
	if !errors.As(err, &ge) || ge.Status != abi.NotReady {
		t.Fatalf("Track before Init = %v, want NotReady", err)
	}
}

// TestProfileSurvivesAReload saves the profile as the loader stores it,
// loads it into a fresh instance, and checks the visitor's ranking and
// pending delta are the same there (its items and arms; its id and which
// of the pairs it samples are fresh randomness on every device).
func TestProfileSurvivesAReload(t *testing.T) {
	a, b := harnesstest.Instance(t), harnesstest.Instance(t)
	for _, in := range []*harness.Instance{a, b} {
		if err := in.Init(cfg()); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"gown-1", "heels-1", "clutch-1"} {
		if err := a.Track(event(wire.KindClick, id, "c"+id[:3], t0.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	saved, err := a.SaveProfile()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.LoadProfile(saved); err != nil {
		t.Fatalf("LoadProfile of a saved profile: %v", err)
	}
	req := &wire.RankRequest{Slot: "s", Time: t0.Add(time.Hour).UnixMilli(),
		Candidates: []wire.Item{{ID: "x", Category: "cx"}, {ID: "heels-1", Category: "chee"}, {ID: "gown-1", Category: "cgow"}}}
	ra, err := a.Rank(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Rank(req)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ra) != fmt.Sprint(rb) {
		t.Errorf("ranking after reload = %v, before = %v", rb, ra)
	}
	var ds [2]wire.Delta
	for i, in := range []*harness.Instance{a, b} {
		ds[i] = harnesstest.Delta(t, in)
	}
	if ds[0].ID == ds[1].ID {
		t.Errorf("the reloaded device drew the same delta id %x", ds[0].ID)
	}
	if fmt.Sprint(ds[0].Items, ds[0].Arms, len(ds[0].Pairs)) != fmt.Sprint(ds[1].Items, ds[1].Arms, len(ds[1].Pairs)) {
		t.Errorf("pending delta after reload = %+v, before = %+v", ds[1], ds[0])
	}
}

// TestRerankCountsNoImpressions checks the uplift report's input: a slot
// ranked again in the same page view (after a click, a navigation) adds
// no impressions; its first ranking does.
func TestRerankCountsNoImpressions(t *testing.T) {
	in := initialized(t)
	req := &wire.RankRequest{Slot: "s", Time: t0.UnixMilli(), Candidates: []wire.Item{{ID: "a"}, {ID: "b"}}}
	if _, err := in.Rank(req); err != nil {
		t.Fatal(err)
	}
	req.Rerank = true
	for i := 0; i < 3; i++ {
		if _, err := in.Rank(req); err != nil {
			t.Fatal(err)
		}
	}
	d := harnesstest.Delta(t, in)
	if len(d.Arms) != 1 || d.Arms[0].Impressions != 2 {
		t.Errorf("arms = %+v, want 2 impressions from the first ranking only", d.Arms)
	}
}
