package publish_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// follower starts an aggregator that follows the store's leader, closed
// with the test.
func follower(t *testing.T, st store.Store, set *site.Set) *publish.Aggregator {
	t.Helper()
	p := aggregate.DefaultParams
	p.MinCohort = 1
	a := start(t, st, set, publish.WithParams(p), publish.WithFollower(20*time.Millisecond))
	t.Cleanup(func() { a.Close(context.Background()) })
	return a
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not in time", what)
		}
	}
}

// TestFollower runs two replicas' aggregators over one store: the leader
// publishes, the follower serves what it published (versions and arms);
// leading replicas that overlap are fenced by the version numbers and
// count nothing twice; a leadership that ends turns the leader back into
// a follower.
func TestFollower(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	set := sites(t, 0.05)
	a, b := follower(t, st, set), follower(t, st, set)
	if _, ok := a.Current(shop); ok || a.Leading() {
		t.Fatal("a follower of an empty store serves a version, or leads")
	}
	leadA, endA := context.WithCancel(ctx)
	defer endA()
	if err := a.Lead(leadA); err != nil {
		t.Fatal(err)
	}
	if v, ok := a.Current(shop); !ok || v.Number != 0 || !a.Leading() {
		t.Fatalf("the leader did not publish version 0: %+v", v)
	}
	b.Refresh()
	waitFor(t, "the follower sees version 0", func() bool { _, ok := b.Current(shop); return ok })

	for i := 0; i < 10; i++ {
		appendDelta(t, st, i, "a", "b")
	}
	if err := b.Flush(ctx); err != nil { // a follower publishes nothing
		t.Fatal(err)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	b.Refresh()
	waitFor(t, "the follower sees version 1", func() bool { v, _ := b.Current(shop); return v.Number == 1 })
	if arms, _ := b.Arms(shop); arms[0][0].Impressions+arms[0][1].Impressions+arms[0][2].Impressions != 10 {
		t.Errorf("the follower's arms = %+v, want the leader's 10 impressions", arms)
	}

	// Two leaders at once (an election's overlap): only one publication of
	// a number succeeds; the other restores from it and counts nothing
	// twice.
	leadB, endB := context.WithCancel(ctx)
	defer endB()
	if err := b.Lead(leadB); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 15; i++ {
		appendDelta(t, st, i, "a", "c")
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 15; i < 18; i++ {
		appendDelta(t, st, i, "c", "d")
	}
	a.Flush(ctx) // v2 exists: restores from it
	v := flush(t, a)
	if v.Number != 3 || v.Deltas != 18 || v.Cursor != 18 {
		t.Fatalf("after overlapping leaders: %+v, want v3 of 18 deltas", v)
	}

	// The end of a leadership: a follows again.
	endA()
	waitFor(t, "the old leader steps down", func() bool { return !a.Leading() })
	endB()
	waitFor(t, "the other steps down", func() bool { return !b.Leading() })
	waitFor(t, "b follows v3", func() bool { v, _ := b.Current(shop); return v.Number == 3 })
	appendDelta(t, st, 18, "d", "e")
	if v := flush(t, a); v.Number != 3 {
		t.Fatalf("a follower published v%d", v.Number)
	}
	// Leading again restores afresh and folds what arrived meanwhile.
	if err := b.Lead(ctx); err != nil {
		t.Fatal(err)
	}
	if v := flush(t, b); v.Number != 4 || v.Deltas != 19 {
		t.Fatalf("after leading again: %+v, want v4 of 19 deltas", v)
	}
}

func TestLeadNotFollower(t *testing.T) {
	st := newStore(t)
	a := start(t, st, sites(t, 0.05))
	defer a.Close(context.Background())
	if err := a.Lead(context.Background()); !errors.Is(err, publish.ErrNotFollower) {
		t.Fatalf("Lead without WithFollower: %v", err)
	}
	if !a.Leading() {
		t.Error("the only aggregator of a store does not lead")
	}
	if _, err := publish.New(st, sites(t, 0.05), publish.WithFollower(0)); err == nil {
		t.Error("WithFollower(0) accepted")
	}
}
