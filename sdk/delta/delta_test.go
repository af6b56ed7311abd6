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
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// take empties s into a delta without noise, failing if there is nothing.
func take(t *testing.T, s *delta.Stats) wire.Delta {
	t.Helper()
	d, ok := s.Take(delta.Header{Site: "demo"}, nil)
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
	s.AddItem("a", 2)
	s.AddItem("a", 1)
	s.AddItem("b", 0)
	s.AddItem("c", -3)
	s.AddItem("big", 600)
	s.AddItem("big", 600) // capped at MaxDeltaWeight
	d := take(t, &s)
	if want := []wire.Pair{{From: "a", To: "b", W: 1.5}, {From: "b", To: "a", W: 0.25}}; !slices.Equal(d.Pairs, want) {
		t.Errorf("pairs = %v, want %v", d.Pairs, want)
	}
	if want := []wire.Count{{ID: "big", N: wire.MaxDeltaWeight}, {ID: "a", N: 3}}; !slices.Equal(d.Items, want) {
		t.Errorf("items = %v, want %v", d.Items, want)
	}
	if len(d.Arms) != 0 {
		t.Errorf("arms = %v, want none", d.Arms)
	}
}

func TestAddArm(t *testing.T) {
	var s delta.Stats
	s.AddArm(wire.ArmHoldout, 0, 0, 0)
	if !s.Empty() {
		t.Fatal("adding nothing to an arm made the stats non-empty")
	}
	if _, ok := s.Take(delta.Header{}, nil); ok {
		t.Fatal("Take sent a delta of nothing")
	}
	s.AddArm(wire.ArmTreatment, 10, 0, 0)
	s.AddArm(wire.ArmTreatment, 5, 2, 1)
	s.AddArm(wire.ArmRules, 4, 1, 0)
	d := take(t, &s)
	want := []wire.ArmCount{
		{Arm: wire.ArmTreatment, Impressions: 15, Clicks: 2, Conversions: 1},
		{Arm: wire.ArmRules, Impressions: 4, Clicks: 1},
	}
	if !slices.Equal(d.Arms, want) {
		t.Errorf("arms = %+v, want %+v", d.Arms, want)
	}
	// Counts saturate where the wire's decoder stops accepting them.
	for i := 0; i < 3; i++ {
		s.AddArm(wire.ArmHoldout, 1<<19+1, math.MaxUint32, 0)
	}
	d = take(t, &s)
	if len(d.Arms) != 1 || d.Arms[0].Impressions != 1<<20 || d.Arms[0].Clicks != 1<<20 {
		t.Errorf("saturated arm = %+v, want counts of 2^20", d.Arms)
	}
	if err := wire.Unmarshal(wire.Marshal(&d), new(wire.Delta), "delta"); err != nil {
		t.Errorf("saturated delta does not decode: %v", err)
	}
}

func TestEmptyResetTake(t *testing.T) {
	var s delta.Stats
	if !s.Empty() {
		t.Fatal("zero Stats not empty")
	}
	if d, ok := s.Take(delta.Header{Site: "x"}, nil); ok || d.Site != "" {
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
	d, ok := s.Take(delta.Header{Site: "demo", Model: 9, ID: id}, nil)
	if !ok || d.Site != "demo" || d.Model != 9 || d.ID != id || d.Epsilon != 0 {
		t.Fatalf("Take = %+v, %v; want the header's site, model and id", d, ok)
	}
	if !s.Empty() {
		t.Fatal("Take did not reset")
	}
	if _, ok := s.Take(delta.Header{}, nil); ok {
		t.Fatal("a second Take sent again")
	}
	s.AddItem("c", 1)
	d = take(t, &s)
	if len(d.Pairs) != 0 || len(d.Items) != 1 || d.Items[0].ID != "c" {
		t.Fatalf("after Take, a new delta carries %+v, want only c", d)
	}
}

// TestTakeStrongestFirst adds random statistics and compares Take with a
// plain reference: sums per key, strongest first (ties by key), cut to the
// wire's bounds.
func TestTakeStrongestFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := 0; trial < 20; trial++ {
		var s delta.Stats
		pairs, items := map[[2]string]float32{}, map[string]float32{}
		nPairs, nItems := 1+rng.IntN(delta.MaxPending), 1+rng.IntN(delta.MaxPending)
		for len(pairs) < nPairs {
			k := [2]string{"f" + strconv.Itoa(rng.IntN(60)), "t" + strconv.Itoa(rng.IntN(60))}
			w := float32(1+rng.IntN(8)) / 4 // many ties
			s.AddPair(k[0], k[1], w)
			pairs[k] += w
		}
		for len(items) < nItems {
			k := "i" + strconv.Itoa(rng.IntN(2*nItems))
			w := float32(1 + rng.IntN(3))
			s.AddItem(k, w)
			items[k] += w
		}
		var wantPairs []wire.Pair
		for k, w := range pairs {
			wantPairs = append(wantPairs, wire.Pair{From: k[0], To: k[1], W: w})
		}
		slices.SortFunc(wantPairs, func(a, b wire.Pair) int {
			switch {
			case a.W != b.W:
				return cmpDesc(a.W, b.W)
			case a.From != b.From:
				return strings.Compare(a.From, b.From)
			}
			return strings.Compare(a.To, b.To)
		})
		var wantItems []wire.Count
		for k, w := range items {
			wantItems = append(wantItems, wire.Count{ID: k, N: w})
		}
		slices.SortFunc(wantItems, func(a, b wire.Count) int {
			if a.N != b.N {
				return cmpDesc(a.N, b.N)
			}
			return strings.Compare(a.ID, b.ID)
		})
		d := take(t, &s)
		if want := wantPairs[:min(len(wantPairs), wire.MaxDeltaPairs)]; !slices.Equal(d.Pairs, want) {
			t.Fatalf("trial %d: %d pairs, want the %d strongest of %d", trial, len(d.Pairs), len(want), len(pairs))
		}
		if want := wantItems[:min(len(wantItems), wire.MaxDeltaItems)]; !slices.Equal(d.Items, want) {
			t.Fatalf("trial %d: %d items, want the %d strongest of %d", trial, len(d.Items), len(want), len(items))
		}
	}
}

func cmpDesc(a, b float32) int {
	if a > b {
		return -1
	}
	return 1
}

// TestPendingBounded adds many more distinct keys than MaxPending, all of
// equal weight as a long browse without a sync leaves them: Stats stays
// within its bound, and keeps the strongest.
func TestPendingBounded(t *testing.T) {
	var s delta.Stats
	for i := 0; i < 20*delta.MaxPending; i++ {
		s.AddItem("item-"+strconv.Itoa(i), 1)
		s.AddPair("item-"+strconv.Itoa(i), "item-"+strconv.Itoa(i+1), 1)
		if i%100 == 0 {
			s.AddItem("favourite", 1)
		}
		if pairs, items := counts(t, &s); pairs > delta.MaxPending || items > delta.MaxPending {
			t.Fatalf("after %d adds: %d pairs, %d items pending, over %d", i+1, pairs, items, delta.MaxPending)
		}
	}
	d := take(t, &s)
	if d.Items[0].ID != "favourite" {
		t.Errorf("strongest item = %+v, want favourite", d.Items[0])
	}
}

// counts returns how many pairs and items s holds, from its encoding.
func counts(t *testing.T, s *delta.Stats) (pairs, items int) {
	t.Helper()
	w := msgp.NewWriter(1024)
	s.EncodeTo(w)
	r := msgp.NewReader(w.Bytes())
	r.Tuple(3)
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

// TestTakeFitsMaxDeltaBytes fills Stats with the longest ids the wire
// allows: the delta must stay within wire.MaxDeltaBytes, decode, and still
// carry as much as fits (pairs go first, weakest first).
func TestTakeFitsMaxDeltaBytes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		pairs, items int
		eps          float32
	}{
		{"64-byte ids, thousands of pairs", 5000, 1000, 0},
		{"64-byte ids, pairs only", 3000, 0, 0},
		{"64-byte ids, items only", 0, 3000, 0},
		{"64-byte ids with noise", 5000, 1000, 0.5},
		{"just over", 120, 0, 0},
		{"all fits", 100, 10, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s delta.Stats
			for i := 0; i < tc.pairs; i++ {
				s.AddPair(longID("from-", i, wire.MaxIDLen), longID("to-", i, wire.MaxIDLen), float32(1+i%7))
			}
			for i := 0; i < tc.items; i++ {
				s.AddItem(longID("item-", i, wire.MaxIDLen), float32(1+i%5))
			}
			s.AddArm(wire.ArmTreatment, 100, 10, 1)
			d, ok := s.Take(delta.Header{Site: longID("site-", 0, wire.MaxIDLen), Model: 1 << 31, Epsilon: tc.eps}, rand.New(rand.NewPCG(1, 1)))
			if !ok {
				t.Fatal("nothing to send")
			}
			b := wire.Marshal(&d)
			if len(b) > wire.MaxDeltaBytes {
				t.Fatalf("delta is %d bytes, over wire.MaxDeltaBytes = %d", len(b), wire.MaxDeltaBytes)
			}
			var got wire.Delta
			if err := wire.Unmarshal(b, &got, "delta"); err != nil {
				t.Fatalf("delta does not decode: %v", err)
			}
			// As much as fits: when anything was dropped, one more entry
			// of 137 bytes (a pair of 64-byte ids) would not have fit.
			dropped := len(d.Pairs) < min(tc.pairs, wire.MaxDeltaPairs) || len(d.Items) < min(tc.items, wire.MaxDeltaItems)
			if dropped && len(b) < wire.MaxDeltaBytes-140 {
				t.Errorf("delta is %d bytes with %d pairs and %d items: it dropped more than it had to", len(b), len(d.Pairs), len(d.Items))
			}
			if tc.items > 0 && len(d.Items) != min(tc.items, wire.MaxDeltaItems) && len(d.Pairs) > 0 {
				t.Errorf("dropped items (kept %d) while keeping %d pairs: pairs go first", len(d.Items), len(d.Pairs))
			}
			if len(d.Arms) != 1 {
				t.Errorf("arms = %v, want the treatment arm whatever else goes", d.Arms)
			}
			t.Logf("%d bytes: %d pairs, %d items", len(b), len(d.Pairs), len(d.Items))
		})
	}
}

// TestTakeFitsRandom checks the size cap over random id lengths.
func TestTakeFitsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for trial := 0; trial < 50; trial++ {
		var s delta.Stats
		for i := rng.IntN(3 * delta.MaxPending); i > 0; i-- {
			s.AddPair(longID("f", i, 1+len(strconv.Itoa(i))+rng.IntN(wire.MaxIDLen-5)), longID("t", i, 1+len(strconv.Itoa(i))+rng.IntN(wire.MaxIDLen-5)), rng.Float32()+0.01)
		}
		for i := rng.IntN(3 * delta.MaxPending); i > 0; i-- {
			s.AddItem(longID("i", i, 1+len(strconv.Itoa(i))+rng.IntN(wire.MaxIDLen-5)), rng.Float32()+0.01)
		}
		s.AddArm(wire.ArmRules, 1, 1, 1)
		d, _ := s.Take(delta.Header{Site: "demo"}, nil)
		b := wire.Marshal(&d)
		if len(b) > wire.MaxDeltaBytes {
			t.Fatalf("trial %d: %d bytes, over the cap", trial, len(b))
		}
		if err := wire.Unmarshal(b, new(wire.Delta), "delta"); err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		if len(d.Pairs) < wire.MaxDeltaPairs && len(d.Items) < wire.MaxDeltaItems && len(b) < wire.MaxDeltaBytes-140 {
			t.Fatalf("trial %d: %d bytes, %d pairs, %d items: dropped more than it had to", trial, len(b), len(d.Pairs), len(d.Items))
		}
	}
}

// noisy releases the value v (through AddItem and AddPair) n times with
// budget eps and returns the item and pair values released.
func noisy(t *testing.T, v float32, eps float32, n int, seed uint64) (items, pairs []float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	var s delta.Stats
	for i := 0; i < n; i++ {
		s.AddItem("a", v)
		s.AddPair("a", "b", v)
		d, ok := s.Take(delta.Header{Epsilon: eps}, rng)
		if !ok || len(d.Items) != 1 || len(d.Pairs) != 1 || d.Epsilon != eps {
			t.Fatalf("release %d: %+v, %v", i, d, ok)
		}
		items = append(items, float64(d.Items[0].N))
		pairs = append(pairs, float64(d.Pairs[0].W))
	}
	return items, pairs
}

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// TestLDPNoise checks the Laplace mechanism statistically, with a fixed
// seed so the test is deterministic: every release is finite and within
// ±wire.MaxDeltaWeight, releases differ from the value, their mean is the
// value clipped to [0, 1] (the noise is unbiased), and their spread is the
// Laplace scale 1/eps.
func TestLDPNoise(t *testing.T) {
	const n = 20000
	for _, tc := range []struct {
		v, eps  float32
		clipped float64
	}{
		{0.3, 1, 0.3},
		{1, 2, 1},
		{5, 1, 1}, // clipped: sensitivity 1
		{750, 0.5, 1},
		{0.05, 4, 0.05},
	} {
		items, pairs := noisy(t, tc.v, tc.eps, n, 7)
		for _, xs := range [][]float64{items, pairs} {
			changed := 0
			for _, x := range xs {
				if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > wire.MaxDeltaWeight {
					t.Fatalf("v=%v eps=%v: released %v", tc.v, tc.eps, x)
				}
				if x != float64(tc.v) {
					changed++
				}
			}
			if changed < n-10 {
				t.Errorf("v=%v eps=%v: only %d of %d releases changed", tc.v, tc.eps, changed, n)
			}
			// Laplace(b): variance 2b², so the mean's standard error
			// is sqrt(2/n)/eps; allow five of them.
			b := 1 / float64(tc.eps)
			if m, tol := mean(xs), 5*math.Sqrt(2.0/n)*b; math.Abs(m-tc.clipped) > tol {
				t.Errorf("v=%v eps=%v: mean release %.4f, want %.4f ± %.4f", tc.v, tc.eps, m, tc.clipped, tol)
			}
			// Mean absolute deviation of Laplace(b) is b.
			dev := 0.0
			for _, x := range xs {
				dev += math.Abs(x - tc.clipped)
			}
			if dev /= n; math.Abs(dev-b) > 0.05*b {
				t.Errorf("v=%v eps=%v: mean absolute noise %.4f, want about %.4f", tc.v, tc.eps, dev, b)
			}
		}
	}
	// Deterministic: the same seed releases the same values.
	a, _ := noisy(t, 0.5, 1, 100, 3)
	b, _ := noisy(t, 0.5, 1, 100, 3)
	if !slices.Equal(a, b) {
		t.Error("the same seed released different values")
	}
}

// constRand returns the same number every time.
type constRand float64

func (c constRand) Float64() float64 { return float64(c) }

// TestLDPNoiseExtremes checks the tails: the least and largest uniform
// draws and a tiny budget still release finite values within bounds.
func TestLDPNoiseExtremes(t *testing.T) {
	for _, tc := range []struct {
		u   float64
		eps float32
	}{
		{0, 1}, // log(0): infinite noise, clamped
		{math.Nextafter(1, 0), 1},
		{0.5, 1}, // no noise
		{0.25, 1e-30},
		{0.9, math.MaxFloat32},
		{0, math.SmallestNonzeroFloat32},
	} {
		var s delta.Stats
		s.AddItem("a", 0.5)
		s.AddPair("a", "b", 0.5)
		d, _ := s.Take(delta.Header{Epsilon: tc.eps}, constRand(tc.u))
		for _, x := range []float32{d.Items[0].N, d.Pairs[0].W} {
			if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > wire.MaxDeltaWeight {
				t.Errorf("u=%v eps=%v: released %v", tc.u, tc.eps, x)
			}
		}
		if err := wire.Unmarshal(wire.Marshal(&d), new(wire.Delta), "delta"); err != nil {
			t.Errorf("u=%v eps=%v: %v", tc.u, tc.eps, err)
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
			d1, ok1 := tc.s.Take(delta.Header{Site: "s"}, nil)
			d2, ok2 := got.Take(delta.Header{Site: "s"}, nil)
			if ok1 != ok2 || fmt.Sprint(d1) != fmt.Sprint(d2) {
				t.Fatalf("Take after a round trip = %+v, %v; want %+v, %v", d2, ok2, d1, ok1)
			}
		})
	}
}

func ExampleStats_Take() {
	var s delta.Stats
	s.AddPair("gown-1", "heels-3", 1)
	s.AddPair("gown-1", "clutch-2", 0.5)
	s.AddItem("gown-1", 1)
	s.AddItem("heels-3", 1)
	s.AddArm(wire.ArmTreatment, 6, 1, 0)
	d, ok := s.Take(delta.Header{Site: "demo", Model: 4}, nil)
	fmt.Println(ok, d.Site, d.Model)
	fmt.Println(d.Pairs)
	fmt.Println(d.Items)
	fmt.Println(d.Arms)
	_, ok = s.Take(delta.Header{Site: "demo", Model: 4}, nil)
	fmt.Println(ok)
	// Output:
	// true demo 4
	// [{gown-1 heels-3 1} {gown-1 clutch-2 0.5}]
	// [{gown-1 1} {heels-3 1}]
	// [{treatment 6 1 0}]
	// false
}
