package api

import (
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/aggregate"
)

// TestReleases drives the stats batches on a made-up clock: a release
// needs both minDeltas new deltas and minDelay since the last one; a purge
// (fewer deltas) releases what remains.
func TestReleases(t *testing.T) {
	rs := newReleases(5, 10*time.Minute)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	n := uint64(0)
	counted := func(string) (map[uint32]aggregate.Arms, uint64, error) {
		arms := aggregate.Arms{}
		arms[0].Impressions, arms[0].Reported = n, n
		return map[uint32]aggregate.Arms{0: arms}, n, nil
	}
	for _, step := range []struct {
		deltas uint64
		after  time.Duration
		want   uint64 // deltas in the release served
	}{
		{4, 0, 0},                  // too few
		{5, 0, 5},                  // the first release
		{9, 11 * time.Minute, 5},   // 4 more: too few, however long after
		{10, time.Minute, 10},      // 5 more, 12 minutes after the release
		{15, 9 * time.Minute, 10},  // 5 more, but only 9 minutes after
		{16, 59 * time.Second, 10}, // 9:59 after
		{16, time.Second, 16},      // 10:00 after
		{3, 0, 3},                  // a purge left 3
		{7, 10 * time.Minute, 3},   // 4 more than what remained
	} {
		n = step.deltas
		t0 = t0.Add(step.after)
		r, err := rs.get("demo", t0, counted)
		if err != nil {
			t.Fatal(err)
		}
		if r.deltas != step.want || r.arms != nil && r.arms[0][0].Impressions != step.want {
			t.Fatalf("at %d deltas, %v on: released %d deltas (%+v), want %d", step.deltas, step.after, r.deltas, r.arms, step.want)
		}
	}
}
