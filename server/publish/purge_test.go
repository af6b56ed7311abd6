package publish_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/store"
)

// next returns the neighbours a version publishes after an item, and
// whether it publishes the item at all.
func next(t *testing.T, st store.Store, v store.Version, item string) (map[string]bool, bool) {
	t.Helper()
	for _, sh := range v.Shards {
		b, err := st.Blob(context.Background(), sh.Hash)
		if err != nil {
			t.Fatal(err)
		}
		var w wire.Weights
		if err := wire.Unmarshal(b, &w, "weights"); err != nil {
			t.Fatal(err)
		}
		for _, it := range w.Items {
			if it.ID == item {
				out := map[string]bool{}
				for _, n := range it.Next {
					out[n.ID] = true
				}
				return out, true
			}
		}
	}
	return nil, false
}

// TestPurge: in both stores, a poisoned hour purged by a tool's
// aggregator is gone from the new version and from the store, the honest
// hours' contributions stay, and the server's aggregator carries on from
// the purged checkpoint.
func TestPurge(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			a := startWith(t, st, publish.WithRetention(0))
			now := time.Now()
			hour := store.Coarse(now).Add(-6 * time.Hour) // the attack's hour
			for h := -10; h <= -2; h++ {
				if h == -6 {
					continue
				}
				for i := range 6 {
					at := store.Coarse(now).Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Minute)
					appendAt(t, st, fmt.Sprintf("honest%d/%d", h, i), at, "shoes", []string{"socks", "laces"}[i%2])
				}
			}
			var poison [][16]byte
			for i := range 30 {
				poison = append(poison, appendAt(t, st, fmt.Sprint("poison-", i), hour.Add(time.Duration(i)*time.Minute), "shoes", "planted"))
			}
			v1 := flush(t, a)
			if n, _ := next(t, st, v1, "shoes"); !n["planted"] || !n["socks"] {
				t.Fatalf("v1 after shoes: %v; the test needs the poison and the honest pairs published", n)
			}
			if err := a.Close(ctx); err != nil {
				t.Fatal(err)
			}

			tool, err := publish.New(st, sites(t, 0.05), publish.WithParams(retainParams()))
			if err != nil {
				t.Fatal(err)
			}
			r, err := tool.Purge(ctx, shop, hour.Add(10*time.Minute), hour.Add(50*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if !r.From.Equal(hour) || !r.To.Equal(hour.Add(time.Hour)) || r.Deleted != 30 || r.Folded != 48 ||
				r.Version.Number != 2 || r.Version.Deltas != 48 {
				t.Fatalf("purge = %+v", r)
			}
			if got := be.remains(t, st, poison); got != 0 {
				t.Errorf("%d poisoned deltas remain in the store", got)
			}
			n, _ := next(t, st, r.Version, "shoes")
			if n["planted"] || !n["socks"] || !n["laces"] {
				t.Errorf("v2 after shoes: %v, want socks and laces, not the planted item", n)
			}
			if _, ok := next(t, st, r.Version, "planted"); ok {
				t.Error("v2 still publishes the planted item")
			}
			if n, _ := next(t, st, v1, "shoes"); !n["planted"] {
				t.Error("purge changed the immutable v1")
			}

			// The server restarts from the purged checkpoint.
			a = startWith(t, st, publish.WithRetention(0))
			if v, _ := a.Current(shop); v.Number != 2 {
				t.Fatalf("after the purge the server serves v%d", v.Number)
			}
			appendAt(t, st, "after", now, "shoes", "socks")
			v3 := flush(t, a)
			if n, _ := next(t, st, v3, "shoes"); v3.Deltas != 49 || n["planted"] {
				t.Errorf("v3 = %d deltas, after shoes %v", v3.Deltas, n)
			}
			// Purging the same window again deletes nothing and republishes.
			if err := a.Close(ctx); err != nil {
				t.Fatal(err)
			}
			r, err = tool.Purge(ctx, shop, hour, hour.Add(time.Hour))
			if err != nil || r.Deleted != 0 || r.Version.Number != 4 || r.Version.Deltas != 49 {
				t.Errorf("purge again = %+v, %v", r, err)
			}
		})
	}
}

// TestPurgeRefused: windows that are empty, not over, or reaching into
// the base, and a tool whose parameters are not the server's.
func TestPurgeRefused(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	a := startWith(t, st, publish.WithRetention(24*time.Hour))
	now := time.Now()
	for i := range 5 {
		appendAt(t, st, fmt.Sprint("old-", i), now.Add(-50*time.Hour), "a", "b")
	}
	for i := range 5 {
		appendAt(t, st, fmt.Sprint("new-", i), now.Add(-2*time.Hour), "a", "c")
	}
	flush(t, a) // retires the old deltas
	if b, err := st.Base(ctx, shop); err != nil || b.Through != 5 {
		t.Fatalf("base through %d, %v; want the 5 old deltas retired", b.Through, err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	tool, err := publish.New(st, sites(t, 0.05), publish.WithParams(retainParams()))
	if err != nil {
		t.Fatal(err)
	}
	p := retainParams()
	p.MinCohort = 3
	other, err := publish.New(st, sites(t, 0.05), publish.WithParams(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		agg      *publish.Aggregator
		key      string
		from, to time.Time
		want     error
	}{
		{"empty", tool, shop, now.Add(-3 * time.Hour), now.Add(-3 * time.Hour), publish.ErrPurgeWindow},
		{"not over", tool, shop, now.Add(-3 * time.Hour), now.Add(time.Minute), publish.ErrPurgeWindow},
		{"in the base", tool, shop, now.Add(-51 * time.Hour), now.Add(-time.Hour - time.Minute), store.ErrRetired},
		{"unknown site", tool, "nobody", now.Add(-3 * time.Hour), now.Add(-2 * time.Hour), publish.ErrUnknownSite},
		{"other parameters", other, shop, now.Add(-3 * time.Hour), now.Add(-2 * time.Hour), publish.ErrPurgeMismatch},
	} {
		if _, err := tc.agg.Purge(ctx, tc.key, tc.from, tc.to); !errors.Is(err, tc.want) {
			t.Errorf("purge %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	ds, err := st.Deltas(ctx, shop, 0, 100)
	if err != nil || len(ds) != 5 {
		t.Errorf("refused purges left %d deltas, %v; want 5", len(ds), err)
	}
}

// racing is a store on which another aggregator publishes right before
// the first publication made through it.
type racing struct {
	store.Store
	once   sync.Once
	before func()
}

func (r *racing) Publish(ctx context.Context, p store.Publication) error {
	r.once.Do(r.before)
	return r.Store.Publish(ctx, p)
}

// TestPurgeWhileLeading: a purge beside a running leader (replicas on
// PostgreSQL keep running) is fenced by version numbers. The leader
// publishes first: the purge folds what that version added and publishes
// the next number; the leader's next publication fails, and it restores
// from the purged checkpoint. No version after the purge holds the poison.
func TestPurgeWhileLeading(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	a := startWith(t, st, publish.WithRetention(0))
	now := store.Coarse(time.Now())
	bad := now.Add(-3 * time.Hour)
	for i := range 10 {
		appendAt(t, st, fmt.Sprint("honest-", i), now.Add(-5*time.Hour), "shoes", "socks")
		appendAt(t, st, fmt.Sprint("poison-", i), bad, "shoes", "planted")
	}
	flush(t, a)
	tool, err := publish.New(&racing{Store: st, before: func() {
		appendAt(t, st, "during", now.Add(-time.Minute), "shoes", "socks")
		flush(t, a) // v2, with the poison
	}}, sites(t, 0.05), publish.WithParams(retainParams()))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tool.Purge(ctx, shop, bad, bad.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version.Number != 3 || r.Deleted != 10 || r.Folded != 11 || r.Version.Deltas != 11 {
		t.Fatalf("purge beside the leader = %+v", r)
	}
	if n, _ := next(t, st, r.Version, "shoes"); n["planted"] || !n["socks"] {
		t.Errorf("purged v3 after shoes: %v", n)
	}
	appendAt(t, st, "after", now.Add(-time.Minute), "shoes", "socks")
	if err := a.Flush(ctx); err != nil {
		t.Logf("the leader's publication after the purge: %v", err)
	}
	v := flush(t, a)
	if n, _ := next(t, st, v, "shoes"); v.Number != 4 || v.Deltas != 12 || n["planted"] {
		t.Errorf("the leader's next version: v%d of %d deltas, after shoes %v; want v4 of 12 without the poison", v.Number, v.Deltas, n)
	}
}

// TestPurgeBudget: with central DP, a purge's version is a release like
// any other. A purge that could not publish within the window's budget is
// refused before it deletes anything.
func TestPurgeBudget(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	p := retainParams()
	p.Noise, p.Epsilon, p.Delta, p.DPWindow, p.DPReleases = aggregate.NoiseGaussian, 8, 1e-6, 24*time.Hour, 2
	a, err := publish.New(st, sites(t, 0.05), publish.WithParams(p), publish.WithRetention(0), publish.WithNoiseSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	now := store.Coarse(time.Now())
	for i := range 10 {
		appendAt(t, st, fmt.Sprint("a-", i), now.Add(-3*time.Hour), "shoes", "socks")
		appendAt(t, st, fmt.Sprint("b-", i), now.Add(-2*time.Hour), "shoes", "laces")
	}
	if v := flush(t, a); v.Number != 1 { // the window's first release
		t.Fatalf("v%d", v.Number)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	tool, err := publish.New(st, sites(t, 0.05), publish.WithParams(p), publish.WithNoiseSeed(2))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tool.Purge(ctx, shop, now.Add(-3*time.Hour), now.Add(-2*time.Hour))
	if err != nil || r.Version.Number != 2 || r.Deleted != 10 { // the second and last
		t.Fatalf("purge within the budget = %+v, %v", r, err)
	}
	if _, err := tool.Purge(ctx, shop, now.Add(-2*time.Hour), now.Add(-time.Hour)); !errors.Is(err, publish.ErrPurgeBudget) {
		t.Fatalf("purge past the budget: %v, want ErrPurgeBudget", err)
	}
	if ds, err := st.Deltas(ctx, shop, 0, 100); err != nil || len(ds) != 10 {
		t.Errorf("a purge refused for the budget left %d deltas, %v; want 10", len(ds), err)
	}
}
