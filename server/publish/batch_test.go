package publish_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/publish"
)

// TestVersionsKDeltasApart: no path publishes a version fewer than k new
// deltas after the last (default k), since anyone who downloads both can
// tell those deltas' items from the difference (server/e2e
// TestModelDifferencing is the attack). Close keeps the 4 pending deltas
// in the store; a restart that finds the site's configuration changed
// publishes the configuration with the last weights; the 5th delta
// publishes all 5. Each step is deterministic: Close and Start run their
// last step and open before returning.
func TestVersionsKDeltasApart(t *testing.T) {
	ctx := context.Background()
	p := aggregate.DefaultParams
	k := p.MinCohort
	st := openStore(t, filepath.Join(t.TempDir(), "tailor.db"))
	open := func(holdout float32) *publish.Aggregator {
		t.Helper()
		return start(t, st, sites(t, holdout), publish.WithParams(p), publish.WithPublishEvery(1000, 10*time.Millisecond))
	}
	check := func(a *publish.Aggregator, when string, version uint32, deltas uint64) {
		t.Helper()
		if v, _ := a.Current(shop); v.Number != version || v.Deltas != deltas {
			t.Errorf("%s: version %d of %d deltas, want %d of %d", when, v.Number, v.Deltas, version, deltas)
		}
	}

	a := open(0.05)
	for i := range k - 1 {
		appendDelta(t, st, i, "a", "b")
	}
	a.Notify()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	check(a, "closed with k-1 pending", 0, 0)

	b := open(0.1) // another holdout: another configuration
	defer b.Close(ctx)
	check(b, "restarted with a new configuration", 1, 0)
	if v, err := st.Latest(ctx, shop); err != nil || v.Deltas != 0 {
		t.Errorf("stored version %d of %d deltas (%v), want 0", v.Number, v.Deltas, err)
	}
	appendDelta(t, st, k-1, "a", "b")
	b.Notify()
	if v := waitVersion(t, b, 2); v.Deltas != uint64(k) {
		t.Errorf("version 2 of %d deltas, want %d", v.Deltas, k)
	}
}
