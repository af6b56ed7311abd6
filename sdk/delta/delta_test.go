package delta_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/ldp"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// rng is a seeded source for tests; the device uses the platform's CSPRNG.
func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }

// take empties s into a federated delta, failing if there is nothing.
func take(t *testing.T, s *delta.Stats) wire.Delta {
	t.Helper()
	d, ok := s.Take(delta.Header{Site: "demo"}, rng(1))
	if !ok {
		t.Fatal("Take: nothing to send")
	}
	return d
}

// TestAdd checks what a federated delta takes from the statistics: a
// block of Block distinct items viewed (an empty id, an item again, and
// items past a full block left out) sent as all its pairs, weight 1;
// pairs and item counts added for LDP and no item on its own.
func TestAdd(t *testing.T) {
	var s delta.Stats
	s.AddPair("a", "b", 1)
	s.AddPair("a", "b", 0.5)
	s.AddPair("b", "a", 0.25)
	s.AddPair("a", "a", 1)  // not a transition
	s.AddPair("a", "c", 0)  // no weight
	s.AddPair("a", "d", -1) // no weight
	s.AddPair("a", "e", float32(math.NaN()))
	s.AddItem("a", 2)
	s.AddItem("a", 1)
	s.AddItem("b", 0)
	s.AddItem("c", -3)
	s.AddItem("big", 600)
	if d, ok := s.Take(delta.Header{Site: "demo"}, rng(1)); ok {
		t.Fatalf("pairs and items without a block made the federated delta %+v", d)
	}
	for _, id := range []string{"x", "", "y", "x", "w", "v"} {
		s.AddView(id)
	}
	d := take(t, &s)
	want := [][2]string{{"w", "x"}, {"w", "y"}, {"x", "y"}}
	if len(d.Pairs) != len(want) {
		t.Fatalf("pairs = %v, want the 3 pairs of w, x, y", d.Pairs)
	}
	for i, p := range d.Pairs {
		if p.W != 1 || [2]string{min(p.From, p.To), max(p.From, p.To)} != want[i] {
			t.Errorf("pair %d = %v, want %v either way, weight 1", i, p, want[i])
		}
	}
	if len(d.Items) != 0 {
		t.Errorf("items = %v, want none", d.Items)
	}
	if len(d.Arms) != 0 || len(d.Reports) != 0 || d.Epsilon != 0 {
		t.Errorf("arms %v, reports %v, eps %v: want none", d.Arms, d.Reports, d.Epsilon)
	}
}

func TestAddArm(t *testing.T) {
	var s delta.Stats
	s.AddArm(wire.ArmHoldout, 0, 0, 0)
	if !s.Empty() {
		t.Fatal("adding nothing to an arm made the stats non-empty")
	}
	if _, ok := s.Take(delta.Header{}, rng(1)); ok {
		t.Fatal("Take sent a delta of nothing")
	}
	s.AddArm(wire.ArmTreatment, 10, 0, 0)
	s.AddArm(wire.ArmTreatment, 5, 2, 1)
	s.AddArm(wire.ArmRules, 4, 1, 0)
	d := take(t, &s)
	want := []wire.ArmCount{
		{Arm: wire.ArmTreatment, Impressions: 15, Clicks: 2, Conversions: 1, Exposed: true},
		{Arm: wire.ArmRules, Impressions: 4, Clicks: 1, Exposed: true},
	}
	if !slices.Equal(d.Arms, want) {
		t.Errorf("arms = %+v, want %+v", d.Arms, want)
	}
	// A long stay's counts are capped in the delta: it does not say how
	// long the visitor browsed.
	for i := 0; i < 3; i++ {
		s.AddArm(wire.ArmHoldout, 1<<19+1, math.MaxUint32, 7)
	}
	d = take(t, &s)
	want = []wire.ArmCount{{Arm: wire.ArmHoldout, Impressions: delta.MaxImpressions, Clicks: delta.MaxClicks, Conversions: delta.MaxConversions, Exposed: true}}
	if !slices.Equal(d.Arms, want) {
		t.Errorf("saturated arm = %+v, want %+v", d.Arms, want)
	}
	if err := wire.Unmarshal(wire.Marshal(&d), new(wire.Delta), "delta"); err != nil {
		t.Errorf("saturated delta does not decode: %v", err)
	}
}

// TestExposedOncePerSession: of a session's deltas, only the first to show
// an arm marks it Exposed (the server counts the split from these), across
// a reload of the profile; a new session, or Reset, marks it again.
func TestExposedOncePerSession(t *testing.T) {
	exposed := func(d wire.Delta) (e []bool) {
		for _, a := range d.Arms {
			e = append(e, a.Exposed)
		}
		return e
	}
	var s delta.Stats
	for _, c := range []struct {
		name                string
		step                func()
		impressions, clicks uint32
		want                []bool
	}{
		{"first page", func() {}, 8, 0, []bool{true}},
		{"second page", func() {}, 8, 1, []bool{false}},
		{"click only", func() {}, 0, 1, []bool{false}},
		{"after a reload", func() { reload(t, &s) }, 8, 0, []bool{false}},
		{"new session", s.NewSession, 8, 0, []bool{true}},
		{"new session, click first", s.NewSession, 0, 1, []bool{false}},
		{"then its first impressions", func() {}, 8, 0, []bool{true}},
		{"after Reset (forget)", s.Reset, 8, 0, []bool{true}},
	} {
		c.step()
		s.AddArm(wire.ArmHoldout, c.impressions, c.clicks, 0)
		if got := exposed(take(t, &s)); !slices.Equal(got, c.want) {
			t.Errorf("%s: exposed %v, want %v", c.name, got, c.want)
		}
	}
	// Shown impressions pending over a reload stay marked.
	s.NewSession()
	s.AddArm(wire.ArmTreatment, 3, 0, 0)
	reload(t, &s)
	if got := exposed(take(t, &s)); !slices.Equal(got, []bool{true}) {
		t.Errorf("pending exposure lost in a reload: %v", got)
	}
}

func TestEmptyResetTake(t *testing.T) {
	var s delta.Stats
	if !s.Empty() {
		t.Fatal("zero Stats not empty")
	}
	if d, ok := s.Take(delta.Header{Site: "x"}, rng(1)); ok || d.Site != "" {
		t.Fatalf("Take on empty = %+v, %v", d, ok)
	}
	s.AddItem("a", 1)
	if s.Empty() {
		t.Fatal("Empty after AddItem")
	}
	s.Reset()
	if !s.Empty() {
		t.Fatal("not Empty after Reset")
	}
	s.AddView("a")
	s.AddView("b")
	s.AddView("e")
	id := [16]byte{1, 2, 3}
	d, ok := s.Take(delta.Header{Site: "demo", Model: 9, ID: id}, rng(1))
	if !ok || d.Site != "demo" || d.Model != 9 || d.ID != id || d.Epsilon != 0 {
		t.Fatalf("Take = %+v, %v; want the header's site, model and id", d, ok)
	}
	if !s.Empty() {
		t.Fatal("Take did not reset")
	}
	if _, ok := s.Take(delta.Header{}, rng(1)); ok {
		t.Fatal("a second Take sent again")
	}
	s.AddItem("c", 1)
	if d, ok := s.Take(delta.Header{}, rng(1)); ok {
		t.Fatalf("an item alone made the federated delta %+v", d)
	}
	s.AddView("c")
	s.AddView("d")
	if d, ok := s.Take(delta.Header{}, rng(1)); ok {
		t.Fatalf("a block of 2 made the federated delta %+v", d)
	}
	s.AddView("f")
	d = take(t, &s)
	if len(d.Pairs) != 3 || len(d.Items) != 0 {
		t.Fatalf("after Take, a new delta carries %+v, want the 3 pairs of c, d, f", d)
	}
}

// session adds what profile.touch adds for a session of n distinct items
// in order: each item viewed, and 1/distance pairs from the 10 before it.
func session(s *delta.Stats, n int) {
	for i := 0; i < n; i++ {
		s.AddItem("i"+strconv.Itoa(i), 1)
		s.AddView("i" + strconv.Itoa(i))
		for d := 1; d <= 10 && i-d >= 0; d++ {
			s.AddPair("i"+strconv.Itoa(i-d), "i"+strconv.Itoa(i), 1/float32(d))
		}
	}
}

// TestBlock checks the federated delta of a visit, taken after each page
// as the loader does: a delta comes with every Block-th new item, with
// every pair of its block once, weight 1, in the order of the sorted ids
// (not the clicks'), and no item on its own; no item is in two deltas;
// the items left over at the end wait; and each pair's direction is a
// coin flip (the click order's direction about half the time), so that a
// delta tells which items were viewed together, not in which order.
func TestBlock(t *testing.T) {
	const trials, n = 2000, 11
	forward, all := 0, 0
	r := rng(5)
	for trial := 0; trial < trials; trial++ {
		var s delta.Stats
		named := map[string]bool{}
		for i := 0; i < n; i++ {
			s.AddView("i" + strconv.Itoa(i))
			d, ok := s.Take(delta.Header{Site: "demo"}, r)
			if want := (i+1)%delta.Block == 0; ok != want || want && len(d.Pairs) != delta.Block*(delta.Block-1)/2 || len(d.Items) != 0 {
				t.Fatalf("trial %d, page %d: delta %+v, %v; want the block's pairs: %v", trial, i, d, ok, want)
			}
			ids := map[string]bool{}
			for j, p := range d.Pairs {
				from, _ := strconv.Atoi(p.From[1:])
				to, _ := strconv.Atoi(p.To[1:])
				if p.W != 1 || from/delta.Block != i/delta.Block || to/delta.Block != i/delta.Block || from == to {
					t.Fatalf("trial %d: pair %v is not one of the block, weight 1", trial, p)
				}
				if j > 0 {
					q := d.Pairs[j-1]
					if a, b := min(q.From, q.To)+" "+max(q.From, q.To), min(p.From, p.To)+" "+max(p.From, p.To); a >= b {
						t.Fatalf("trial %d: pairs %v not in the order of their sorted ids", trial, d.Pairs)
					}
				}
				ids[p.From], ids[p.To] = true, true
				all++
				if from < to {
					forward++
				}
			}
			for id := range ids {
				if named[id] {
					t.Fatalf("trial %d: %s named by two deltas", trial, id)
				}
				named[id] = true
			}
		}
	}
	if f := float64(forward) / float64(all); f < 0.47 || f > 0.53 {
		t.Errorf("%.3f of %d pairs in the click order's direction, want about half", f, all)
	}
}

// TestClosedBlock checks what happens to a block that did not fill up: at
// the next session, 2 items or more go with the next delta, as one set,
// beside the new session's first block when both fit in SampledPairs, and
// its items join no other block; one item alone is dropped.
func TestClosedBlock(t *testing.T) {
	var s delta.Stats
	r := rng(6)
	s.AddView("a")
	s.AddView("b")
	if _, ok := s.Take(delta.Header{}, r); ok {
		t.Fatal("a block of 2 sent before the session ended")
	}
	s.NewSession()
	s.AddView("a") // in the closed block: not in a second one
	s.AddView("c")
	reload(t, &s)
	d := take(t, &s)
	if len(d.Pairs) != 1 || min(d.Pairs[0].From, d.Pairs[0].To) != "a" || max(d.Pairs[0].From, d.Pairs[0].To) != "b" {
		t.Fatalf("closed block sent as %v, want a pair of a and b", d.Pairs)
	}
	s.AddView("d")
	s.NewSession() // c, d close
	for _, id := range []string{"e", "f", "g"} {
		s.AddView(id)
	}
	if d = take(t, &s); len(d.Pairs) != 1+delta.Block*(delta.Block-1)/2 {
		t.Fatalf("closed block and a full one sent as %v, want both", d.Pairs)
	}
	s.AddView("h")
	s.NewSession()
	s.AddView("i")
	if d, ok := s.Take(delta.Header{}, r); ok {
		t.Fatalf("a block of one item sent as %+v", d)
	}
}

// TestRareArmHoldsBlocks checks that a delta reporting a holdout or
// rules-only arm carries no pairs, so that linking a rare arm's deltas by
// the arm alone (PRIVACY.md) reveals no item: the full and closed blocks
// wait for the next delta without such an arm (a page that showed no
// slot) and go whole; the treatment's arm holds nothing back.
func TestRareArmHoldsBlocks(t *testing.T) {
	want := 1 + delta.Block*(delta.Block-1)/2 // a closed block of 2, a full one
	for _, arm := range []wire.Arm{wire.ArmHoldout, wire.ArmRules, wire.ArmTreatment} {
		var s delta.Stats
		s.AddView("a")
		s.AddView("b")
		s.NewSession() // a, b close
		session(&s, delta.Block)
		s.AddArm(arm, 3, 1, 0)
		d := take(t, &s)
		if len(d.Arms) != 1 || d.Arms[0].Arm != arm {
			t.Fatalf("%v: arms %+v, want the arm's counts", arm, d.Arms)
		}
		if arm == wire.ArmTreatment {
			if len(d.Pairs) != want {
				t.Errorf("treatment: pairs %v, want both blocks'", d.Pairs)
			}
			continue
		}
		if len(d.Pairs) != 0 {
			t.Fatalf("%v: pairs %v beside the arm, want none", arm, d.Pairs)
		}
		if d = take(t, &s); len(d.Pairs) != want || len(d.Arms) != 0 {
			t.Errorf("%v, then a page without a slot: delta %+v, want both blocks' pairs", arm, d)
		}
	}
}

// TestReportsDropBlocks: a federated+ldp delta sends reports, never a
// block, so Take drops the blocks, and a visit's full or closed block
// does not keep the statistics from being empty (a report a page).
func TestReportsDropBlocks(t *testing.T) {
	var s delta.Stats
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		s.AddView(id)
		if id == "c" {
			s.NewSession() // a, b, c close
		}
	}
	ldp := delta.Header{Site: "demo", Epsilon: 1}
	if d, ok := s.Take(ldp, rng(4)); !ok || len(d.Pairs) != 0 || len(d.Reports) != 1 {
		t.Fatalf("LDP delta %+v, %v; want one report and no pair", d, ok)
	}
	if !s.Empty() {
		t.Fatal("blocks left after an LDP delta")
	}
	if d, ok := s.Take(ldp, rng(4)); ok {
		t.Fatalf("a second LDP delta %+v from nothing", d)
	}
}

// TestSampleVaries checks that two takes of the same statistics with
// different randomness differ: the directions are not a function of the
// visitor's data alone.
func TestSampleVaries(t *testing.T) {
	var prev string
	differ := 0
	r := rng(9)
	for i := 0; i < 20; i++ {
		var s delta.Stats
		session(&s, delta.Block)
		d, _ := s.Take(delta.Header{}, r)
		if got := fmt.Sprint(d.Pairs, d.Items); i > 0 && got != prev {
			differ++
		} else {
			prev = got
		}
	}
	if differ < 15 {
		t.Errorf("only %d of 19 samples differed from the first", differ)
	}
}

// TestReports checks a federated+ldp delta: nothing in the clear, exactly
// Reports OLH report whatever the session holds, of either kind over many
// deltas (the coin ignores the session), and the budget recorded.
func TestReports(t *testing.T) {
	for _, tc := range []struct {
		name string
		fill func(*delta.Stats)
	}{
		{"session", func(s *delta.Stats) { session(s, 8); s.AddArm(wire.ArmTreatment, 5, 1, 0) }},
		{"one item", func(s *delta.Stats) { s.AddItem("a", 1) }},
		{"arms only", func(s *delta.Stats) { s.AddArm(wire.ArmHoldout, 3, 0, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rng(3)
			var kinds [2]int
			for range 200 {
				var s delta.Stats
				tc.fill(&s)
				d, ok := s.Take(delta.Header{Site: "demo", Epsilon: 2}, r)
				if !ok {
					t.Fatal("nothing to send")
				}
				if len(d.Pairs)+len(d.Items)+len(d.Arms) != 0 {
					t.Fatalf("in the clear: pairs %v items %v arms %v", d.Pairs, d.Items, d.Arms)
				}
				if d.Epsilon != 2 || len(d.Reports) != delta.Reports || d.Reports[0].Bit != 0 || int(d.Reports[0].Col) >= ldp.Buckets(2) {
					t.Fatalf("eps %v, reports %+v; want 2, %d OLH report", d.Epsilon, d.Reports, delta.Reports)
				}
				kinds[d.Reports[0].Kind]++
				if err := wire.Unmarshal(wire.Marshal(&d), new(wire.Delta), "delta"); err != nil {
					t.Fatalf("does not decode: %v", err)
				}
			}
			// Binomial(200, 1/2): 100 ± 7.
			if kinds[wire.ReportItem] < 70 || kinds[wire.ReportPair] < 70 {
				t.Errorf("%d item and %d pair reports of 200, want about half each", kinds[wire.ReportItem], kinds[wire.ReportPair])
			}
		})
	}
}

// TestReportsEstimate folds many devices' reports into sdk/ldp's tables:
// the item and the pair every device saw are estimated near the number of
// devices (scaled by the coin's share), an item none saw near zero, and a
// device without a pair leaves the pairs' estimates unbiased.
func TestReportsEstimate(t *testing.T) {
	const devices = 20000
	const eps = 4
	items, pairs := ldp.NewTable(eps), ldp.NewTable(eps)
	r := rng(11)
	for i := 0; i < devices; i++ {
		var s delta.Stats
		s.AddItem("shared", 1)
		if i%2 == 0 {
			s.AddPair("shared", "next", 1)
		}
		d, _ := s.Take(delta.Header{Epsilon: eps}, r)
		for _, rep := range d.Reports {
			if rep.Kind == wire.ReportItem {
				items.Add(rep, 1)
			} else {
				pairs.Add(rep, 1)
			}
		}
	}
	for _, tc := range []struct {
		t     *ldp.Table
		value string
		want  float64
	}{
		{items, "shared", devices * wire.LDPItemShare},
		{pairs, ldp.PairValue("shared", "next"), devices / 2 * (1 - wire.LDPItemShare)},
		{items, "unseen", 0},
		{pairs, ldp.PairValue("next", "shared"), 0},
	} {
		// Each value's own reports add p(1-p)/(p-q)² ≈ 1 each at ε = 4.
		tol := 4 * math.Sqrt(tc.t.StdDev()*tc.t.StdDev()+tc.want)
		if got := tc.t.Estimate(tc.value); math.Abs(got-tc.want) > tol {
			t.Errorf("estimate of %q = %.0f, want %.0f ± %.0f", tc.value, got, tc.want, tol)
		}
	}
}

// TestPendingBounded adds many more distinct keys than MaxPending, all of
// equal weight as a long browse without a sync leaves them: Stats stays
// within its bound.
func TestPendingBounded(t *testing.T) {
	var s delta.Stats
	for i := 0; i < 20*delta.MaxPending; i++ {
		s.AddItem("item-"+strconv.Itoa(i), 1)
		s.AddPair("item-"+strconv.Itoa(i), "item-"+strconv.Itoa(i+1), 1)
		s.AddView("item-" + strconv.Itoa(i))
		if pairs, items := counts(t, &s); pairs > delta.MaxPending || items > delta.MaxPending {
			t.Fatalf("after %d adds: %d pairs, %d items pending, over %d", i+1, pairs, items, delta.MaxPending)
		}
	}
	if d := take(t, &s); len(d.Pairs) != delta.Block*(delta.Block-1)/2 {
		t.Errorf("%d pairs, want a block's %d", len(d.Pairs), delta.Block*(delta.Block-1)/2)
	}
}

// counts returns how many pairs and items s holds, from its encoding.
func counts(t *testing.T, s *delta.Stats) (pairs, items int) {
	t.Helper()
	w := msgp.NewWriter(1024)
	s.EncodeTo(w)
	r := msgp.NewReader(w.Bytes())
	r.Tuple(6) // pairs, items, arms, sent, block, closed
	pairs = r.MapHeader()
	for i := 0; i < 2*pairs; i++ {
		r.Skip()
	}
	items = r.MapHeader()
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return pairs, items
}

// longID returns a distinct id of exactly n bytes.
func longID(prefix string, i, n int) string {
	s := prefix + strconv.Itoa(i)
	return s + strings.Repeat("-", n-len(s))
}

// TestTakeFits fills Stats with the longest ids the wire allows: the
// delta, federated or LDP, stays within wire.MaxDeltaBytes and decodes.
func TestTakeFits(t *testing.T) {
	for _, eps := range []float32{0, 0.5} {
		var s delta.Stats
		for i := 0; i < 3000; i++ {
			s.AddPair(longID("from-", i, wire.MaxIDLen), longID("to-", i, wire.MaxIDLen), float32(1+i%7))
			s.AddItem(longID("item-", i, wire.MaxIDLen), float32(1+i%5))
			s.AddView(longID("view-", i, wire.MaxIDLen))
		}
		s.AddArm(wire.ArmTreatment, 100, 10, 1)
		d, ok := s.Take(delta.Header{Site: longID("site-", 0, wire.MaxIDLen), Model: 1 << 31, Epsilon: eps}, rng(1))
		if !ok {
			t.Fatal("nothing to send")
		}
		b := wire.Marshal(&d)
		if len(b) > wire.MaxDeltaBytes {
			t.Fatalf("eps %v: delta is %d bytes, over wire.MaxDeltaBytes = %d", eps, len(b), wire.MaxDeltaBytes)
		}
		if err := wire.Unmarshal(b, new(wire.Delta), "delta"); err != nil {
			t.Fatalf("eps %v: delta does not decode: %v", eps, err)
		}
	}
}

func TestStatsRoundTrip(t *testing.T) {
	fill := func() *delta.Stats {
		var s delta.Stats
		s.AddPair("gown-1", "heels-3", 1)
		s.AddPair("heels-3", "clutch-2", 0.5)
		s.AddItem("gown-1", 2)
		s.AddItem(strings.Repeat("x", wire.MaxIDLen), wire.MaxDeltaWeight)
		s.AddView("gown-1")
		s.AddView("heels-3")
		s.NewSession()
		s.AddView(strings.Repeat("x", wire.MaxIDLen))
		s.AddArm(wire.ArmRules, 3, 2, 1)
		return &s
	}
	for _, tc := range []struct {
		name string
		s    *delta.Stats
	}{
		{"empty", new(delta.Stats)},
		{"filled", fill()},
		{"arm only", func() *delta.Stats { var s delta.Stats; s.AddArm(wire.ArmHoldout, 1, 0, 0); return &s }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := msgp.NewWriter(256)
			tc.s.EncodeTo(w)
			b := append([]byte(nil), w.Bytes()...)
			var got delta.Stats
			r := msgp.NewReader(b)
			got.DecodeFrom(r)
			if err := r.Finish(); err != nil {
				t.Fatalf("DecodeFrom = %v", err)
			}
			w.Reset()
			got.EncodeTo(w)
			if !bytes.Equal(w.Bytes(), b) {
				t.Fatalf("re-encoded\n% x\nwant\n% x", w.Bytes(), b)
			}
			if got.Empty() != tc.s.Empty() {
				t.Fatalf("Empty() = %v after a round trip, %v before", got.Empty(), tc.s.Empty())
			}
			d1, ok1 := tc.s.Take(delta.Header{Site: "s"}, rng(2))
			d2, ok2 := got.Take(delta.Header{Site: "s"}, rng(2))
			if ok1 != ok2 || fmt.Sprint(d1) != fmt.Sprint(d2) {
				t.Fatalf("Take after a round trip = %+v, %v; want %+v, %v", d2, ok2, d1, ok1)
			}
		})
	}
}

func ExampleStats_Take() {
	var s delta.Stats
	for _, id := range []string{"gown-1", "heels-3", "clutch-2"} {
		s.AddView(id) // a block of delta.Block items
	}
	s.AddArm(wire.ArmTreatment, 6, 1, 0)
	rnd := rand.New(rand.NewPCG(1, 2)) // a device uses crypto randomness
	d, ok := s.Take(delta.Header{Site: "demo", Model: 4}, rnd)
	fmt.Println(ok, d.Site, d.Model)
	fmt.Println(d.Pairs) // every pair of the block, in random directions
	fmt.Println(d.Items) // named through the pairs only
	fmt.Println(d.Arms)
	_, ok = s.Take(delta.Header{Site: "demo", Model: 4}, rnd)
	fmt.Println(ok)
	// Output:
	// true demo 4
	// [{clutch-2 gown-1 1} {clutch-2 heels-3 1} {gown-1 heels-3 1}]
	// []
	// [{treatment 6 1 0 true}]
	// false
}
