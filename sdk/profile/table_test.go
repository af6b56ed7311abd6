package profile_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/tailorhq/tailor/sdk/profile"
)

func TestDecay(t *testing.T) {
	const h = profile.HalfLife
	for _, tc := range []struct {
		name            string
		w               float32
		then, now, hl   int64
		want, tolerance float32
	}{
		{"no time passed", 2, t0, t0, h, 2, 0},
		{"clock went back", 2, t0, t0 - profile.Day, h, 2, 0},
		{"no half-life", 2, t0, t0 + 100*profile.Day, 0, 2, 0},
		{"one half-life", 2, t0, t0 + h, h, 1, 0},
		{"two half-lives", 2, t0, t0 + 2*h, h, 0.5, 0},
		{"half a half-life", 1, t0, t0 + h/2, h, float32(math.Sqrt2 / 2), 1e-6},
		{"a year", 1, t0, t0 + 365*profile.Day, h, float32(math.Exp2(-365.0 / 14)), 1e-9},
		{"negative weight", -4, t0, t0 + h, h, -2, 0},
	} {
		got := profile.Decay(tc.w, tc.then, tc.now, tc.hl)
		if d := got - tc.want; d > tc.tolerance || d < -tc.tolerance {
			t.Errorf("%s: Decay(%v) = %v, want %v", tc.name, tc.w, got, tc.want)
		}
	}
}

func TestTableAddGetMax(t *testing.T) {
	const h = profile.HalfLife
	var tb profile.Table
	tb.Add("a", 1, t0, h, 4)
	tb.Add("b", 3, t0, h, 4)
	tb.Add("a", 1, t0+h, h, 4) // a fades to 0.5, then gains 1
	if len(tb) != 2 {
		t.Fatalf("table = %v, want two entries", tb)
	}
	for _, tc := range []struct {
		key  string
		now  int64
		want float32
	}{
		{"a", t0 + h, 1.5},
		{"a", t0 + 2*h, 0.75},
		{"b", t0, 3},
		{"b", t0 + h, 1.5},
		{"c", t0, 0},
	} {
		if got := tb.Get(tc.key, tc.now, h); got != tc.want {
			t.Errorf("Get(%q, t0%+d days) = %v, want %v", tc.key, (tc.now-t0)/profile.Day, got, tc.want)
		}
	}
	if got := tb.Max(t0+h, h); got != 1.5 {
		t.Errorf("Max = %v, want 1.5 (both at 1.5)", got)
	}
	if got := tb.Max(t0+2*h, h); got != 0.75 {
		t.Errorf("Max a half-life later = %v, want 0.75", got)
	}
	if got := (profile.Table{}).Max(t0, h); got != 0 {
		t.Errorf("empty Max = %v", got)
	}
	// Without fading, weights are counts.
	var facts profile.Table
	for i := 0; i < 3; i++ {
		facts.Add("viewed.category=shoes", 1, t0+int64(i)*profile.Day, 0, 8)
	}
	if got := facts.Get("viewed.category=shoes", t0+365*profile.Day, 0); got != 3 {
		t.Errorf("count = %v, want 3", got)
	}
}

// TestTableEviction fills tables past their bound with random weights and
// times: each stays within it, keeps the key just added, and drops only
// entries weaker (fading tables) or older (counting tables) than every one
// it keeps.
func TestTableEviction(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct {
		name string
		h    int64
		max  int
	}{
		{"fading 8", profile.HalfLife, 8},
		{"fading 64", profile.HalfLife, profile.MaxTraits},
		{"counting 32", 0, profile.MaxPurchases},
		{"counting 128", 0, profile.MaxFacts},
		{"bound 1", profile.HalfLife, 1},
		{"bound 2", 0, 2},
		{"bound 3", profile.HalfLife, 3},
	} {
		var tb profile.Table
		now := t0
		for i := 0; i < 20*tc.max+50; i++ {
			now += rng.Int64N(profile.Day)
			before := append(profile.Table(nil), tb...)
			key := "k" + strconv.Itoa(rng.IntN(3*tc.max))
			tb.Add(key, 0.1+rng.Float32()*5, now, tc.h, tc.max)
			if len(tb) > tc.max {
				t.Fatalf("%s: %d entries, over %d", tc.name, len(tb), tc.max)
			}
			if tb.Get(key, now, tc.h) == 0 {
				t.Fatalf("%s: the key just added is gone", tc.name)
			}
			// rank is what eviction keeps the most of: faded weight, or time.
			rank := func(e profile.Entry) float64 {
				if tc.h == 0 {
					return float64(e.Time)
				}
				return float64(profile.Decay(e.W, e.Time, now, tc.h))
			}
			weakestKept, strongestDropped := math.Inf(1), math.Inf(-1)
			for _, e := range before {
				if e.Key == key {
					continue
				}
				if tb.Get(e.Key, now, tc.h) != 0 {
					weakestKept = min(weakestKept, rank(e))
				} else {
					strongestDropped = max(strongestDropped, rank(e))
				}
			}
			slack := 0.0
			if tc.h > 0 {
				slack = 1e-6 * weakestKept // weights are faded in float32
			}
			if strongestDropped > weakestKept+slack {
				t.Fatalf("%s: dropped an entry ranking %v, kept one ranking %v", tc.name, strongestDropped, weakestKept)
			}
		}
	}
}
