package console

import (
	"math"
	"testing"
	"time"
)

func TestWilson(t *testing.T) {
	for _, tc := range []struct {
		x, n            uint64
		rate, low, high float64
	}{
		{0, 0, 0, 0, 0},
		{0, 10, 0, 0, 0.2775},  // the Wald interval would be [0, 0]
		{10, 10, 1, 0.7225, 1}, // and [1, 1]
		{12, 7, 1, 0.6457, 1},  // clicks synced after their impressions: capped
		{50, 100, 0.5, 0.4038, 0.5962},
		{81, 263, 0.308, 0.2553, 0.3662},
	} {
		got := Wilson(tc.x, tc.n)
		if math.Abs(got.Rate-tc.rate) > 5e-4 || math.Abs(got.Low-tc.low) > 5e-4 || math.Abs(got.High-tc.high) > 5e-4 {
			t.Errorf("Wilson(%d, %d) = %+v, want %.4f [%.4f, %.4f]", tc.x, tc.n, got, tc.rate, tc.low, tc.high)
		}
	}
}

func TestSRM(t *testing.T) {
	for _, tc := range []struct {
		t, h     uint64
		share    float64
		p        float64
		mismatch bool
	}{
		// Exposures are counted once per visit: a binomial's chi-square.
		{900, 100, 0.1, 1, false},
		{880, 120, 0.1, 0.0350, false},
		{870, 130, 0.1, 0.00157, false},
		{850, 150, 0.1, 1.36e-7, true}, // chi² 27.8
		{500, 500, 0.5, 1, false},
		{5100, 4900, 0.5, 0.0455, false},
		{5200, 4800, 0.5, 6.33e-5, true},
	} {
		_, p, ok := SRM(tc.t, tc.h, tc.share)
		if !ok || math.Abs(p-tc.p) > tc.p*0.02+1e-9 || (p < SRMThreshold) != tc.mismatch {
			t.Errorf("SRM(%d, %d, %v) = p %.3g (ok %v), want %.3g", tc.t, tc.h, tc.share, p, ok, tc.p)
		}
	}
	if _, _, ok := SRM(0, 0, 0.1); ok {
		t.Error("SRM of nothing is a test")
	}
	if _, _, ok := SRM(10, 0, 0); ok {
		t.Error("SRM without a holdout is a test")
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{168 * time.Hour, "7 days"}, {"24h0m0s", "1 day"}, {90 * time.Minute, "1h30m0s"}, {"0s", "0"}, {"soon", "soon"},
	} {
		if got := duration(tc.in); got != tc.want {
			t.Errorf("duration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
