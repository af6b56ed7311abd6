package publish_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// TestAddSite: a site added to a running aggregator gets its version 0
// at once and its deltas' versions after, while readers look sites up
// concurrently (run under -race); adding it twice changes nothing.
func TestAddSite(t *testing.T) {
	db := newStore(t)
	a := start(t, db, sites(t, 0.1))
	defer a.Close(context.Background())
	ctx := context.Background()
	s := &site.Site{Key: "added", Origins: []string{"*"}, Privacy: wire.PrivacyFederated, Holdout: 0.1}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				a.Current("added")
				a.Info("added")
				a.Sites()
			}
		}
	})
	if err := a.AddSite(ctx, s); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if v, ok := a.Current("added"); !ok || v.Number != 0 {
		t.Fatalf("added: %+v, %v; want version 0", v, ok)
	}
	if !slices.Contains(a.Sites(), "added") {
		t.Fatalf("Sites() = %v, lacks the added site", a.Sites())
	}
	for i := range 3 {
		d := wire.Delta{Site: "added", Pairs: []wire.Pair{{From: "a", To: "b", W: 1}}, Items: []wire.Count{{ID: "a", N: 1}}}
		copy(d.ID[:], fmt.Sprintf("added-%010d", i))
		if _, err := db.Append(ctx, store.Delta{Site: d.Site, ID: d.ID, Received: time.Now(), Body: wire.Marshal(&d)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Current("added"); v.Number != 1 || v.Deltas != 3 {
		t.Fatalf("after 3 deltas: v%d with %d deltas, want v1 with 3", v.Number, v.Deltas)
	}
	if err := a.AddSite(ctx, s); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Current("added"); v.Number != 1 {
		t.Fatalf("added twice: v%d, want v1 kept", v.Number)
	}
}
