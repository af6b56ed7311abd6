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
	d := take(t, &s)
	// Items are named through pairs only. Of the two pairs, which chain
	// (a→b→a), one is sent.
	if len(d.Pairs) != 1 || d.Pairs[0].W != 1 || d.Pairs[0] != (wire.Pair{From: "a", To: "b", W: 1}) && d.Pairs[0] != (wire.Pair{From: "b", To: "a", W: 1}) {
		t.Errorf("pairs = %v, want a→b or b→a", d.Pairs)
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
	s.AddPair("a", "b", 1)
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
	s.AddPair("c", "d", 1)
	d = take(t, &s)
	if len(d.Pairs) != 1 || d.Pairs[0] != (wire.Pair{From: "c", To: "d", W: 1}) || len(d.Items) != 0 {
		t.Fatalf("after Take, a new delta carries %+v, want only c→d", d)
	}
}

// session adds what profile.touch adds for a session of n distinct items
// in order: each item, and 1/distance pairs from the 10 before it.
func session(s *delta.Stats, n int) {
	for i := 0; i < n; i++ {
		s.AddItem("i"+strconv.Itoa(i), 1)
		for d := 1; d <= 10 && i-d >= 0; d++ {
			s.AddPair("i"+strconv.Itoa(i-d), "i"+strconv.Itoa(i), 1/float32(d))
		}
	}
}

// TestSample checks the federated sample: at most SampledPairs pairs and
// no item on its own, each pair one the session produced, weight 1,
// sorted, distinct; no two pairs chaining (a→b, b→c); and drawn in
// proportion to the session's weights (adjacent pairs about twice as often
// as pairs two steps apart).
func TestSample(t *testing.T) {
	const trials = 4000
	seen := map[string]int{}
	r := rng(5)
	for trial := 0; trial < trials; trial++ {
		var s delta.Stats
		session(&s, 12)
		d, ok := s.Take(delta.Header{Site: "demo"}, r)
		if !ok || len(d.Pairs) != delta.SampledPairs || len(d.Items) != 0 {
			t.Fatalf("trial %d: %d pairs, %d items, want %d and none", trial, len(d.Pairs), len(d.Items), delta.SampledPairs)
		}
		for i, p := range d.Pairs {
			from, _ := strconv.Atoi(p.From[1:])
			to, _ := strconv.Atoi(p.To[1:])
			if p.W != 1 || to <= from || to-from > 10 {
				t.Fatalf("trial %d: pair %v is not one the session made, with weight 1", trial, p)
			}
			if i > 0 && (d.Pairs[i-1].From > p.From || d.Pairs[i-1].From == p.From && d.Pairs[i-1].To >= p.To) {
				t.Fatalf("trial %d: pairs %v not sorted and distinct", trial, d.Pairs)
			}
			seen["d"+strconv.Itoa(to-from)]++
			for _, q := range d.Pairs[:i] {
				if q.To == p.From || p.To == q.From {
					t.Fatalf("trial %d: pairs %v and %v chain", trial, q, p)
				}
			}
		}
	}
	// 11 pairs at distance 1 (weight 1), 10 at distance 2 (weight 1/2):
	// drawn without replacement, the adjacent ones come first more often
	// than 2.2 times the others.
	if r := float64(seen["d1"]) / float64(seen["d2"]); r < 1.5 || r > 3 {
		t.Errorf("distance-1 pairs drawn %.2f times as often as distance-2 pairs (%v), want about 2", r, seen)
	}
}

// TestSampleVaries checks that two takes of the same statistics with
// different randomness differ: the sample is not a function of the
// visitor's data alone.
func TestSampleVaries(t *testing.T) {
	var prev string
	differ := 0
	r := rng(9)
	for i := 0; i < 20; i++ {
		var s delta.Stats
		session(&s, 10)
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
		if pairs, items := counts(t, &s); pairs > delta.MaxPending || items > delta.MaxPending {
			t.Fatalf("after %d adds: %d pairs, %d items pending, over %d", i+1, pairs, items, delta.MaxPending)
		}
	}
	if d := take(t, &s); len(d.Pairs) != delta.SampledPairs {
		t.Errorf("%d pairs, want %d", len(d.Pairs), delta.SampledPairs)
	}
}

// counts returns how many pairs and items s holds, from its encoding.
func counts(t *testing.T, s *delta.Stats) (pairs, items int) {
	t.Helper()
	w := msgp.NewWriter(1024)
	s.EncodeTo(w)
	r := msgp.NewReader(w.Bytes())
	r.Tuple(4) // pairs, items, arms, sent
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
	s.AddItem("gown-1", 1)
	s.AddItem("heels-3", 1)
	s.AddPair("gown-1", "heels-3", 1)
	s.AddItem("clutch-2", 1)
	s.AddPair("heels-3", "clutch-2", 1)
	s.AddPair("gown-1", "clutch-2", 0.5)
	s.AddArm(wire.ArmTreatment, 6, 1, 0)
	rnd := rand.New(rand.NewPCG(1, 2)) // a device uses crypto randomness
	d, ok := s.Take(delta.Header{Site: "demo", Model: 4}, rnd)
	fmt.Println(ok, d.Site, d.Model)
	fmt.Println(d.Pairs) // pairs that chain (gown→heels→clutch) never go together
	fmt.Println(d.Items) // named through the pairs only
	fmt.Println(d.Arms)
	_, ok = s.Take(delta.Header{Site: "demo", Model: 4}, rnd)
	fmt.Println(ok)
	// Output:
	// true demo 4
	// [{gown-1 clutch-2 1} {heels-3 clutch-2 1}]
	// []
	// [{treatment 6 1 0 true}]
	// false
}
