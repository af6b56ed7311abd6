package publish_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
)

// exampleStore opens a bolt store in a new temporary directory, and the
// set of one federated site, "shop"; done closes and removes the store.
func exampleStore() (db *bolt.DB, set *site.Set, done func()) {
	dir, _ := os.MkdirTemp("", "tailor")
	db, _ = bolt.Open(filepath.Join(dir, "tailor.db"))
	set, _ = site.NewSet(site.Site{Key: "shop", Origins: []string{"https://shop.example"}, Privacy: wire.PrivacyFederated})
	return db, set, func() {
		db.Close()
		os.RemoveAll(dir)
	}
}

func ExampleAggregator() {
	db, set, done := exampleStore()
	defer done()
	p := aggregate.DefaultParams
	p.MinCohort = 2
	agg, _ := publish.New(db, set, publish.WithParams(p),
		publish.WithPublishEvery(1000, 30*time.Second))
	ctx := context.Background()
	agg.Start(ctx) // publishes version 0, the empty model
	defer agg.Close(ctx)
	for i := range 3 {
		d := wire.Delta{Site: "shop", ID: [16]byte{byte(i)}, Pairs: []wire.Pair{{From: "gown", To: "heels", W: 1}}}
		db.Append(ctx, store.Delta{Site: d.Site, ID: d.ID, Body: wire.Marshal(&d)})
	}
	agg.Flush(ctx) // normally: every 1000 deltas or 30s
	v, _ := agg.Current("shop")
	fmt.Println(v.Number, v.Deltas, v.Privacy.MinCohort)
	// Output: 1 3 2
}

func ExampleAggregator_Purge() {
	db, set, done := exampleStore()
	defer done()
	ctx := context.Background()
	bad := store.Coarse(time.Now()).Add(-3 * time.Hour) // an attack's hour
	for i, at := range []time.Time{bad.Add(-time.Hour), bad, bad.Add(time.Minute), bad.Add(time.Hour)} {
		d := wire.Delta{Site: "shop", ID: [16]byte{byte(i)}, Pairs: []wire.Pair{{From: "gown", To: "heels", W: 1}}}
		db.Append(ctx, store.Delta{Site: d.Site, ID: d.ID, Received: at, Body: wire.Marshal(&d)})
	}
	server, _ := publish.New(db, set)
	server.Start(ctx)
	server.Flush(ctx) // publishes version 1 from the four deltas (fewer than k: Close would not)
	server.Close(ctx)

	// Later, with the server stopped (or beside PostgreSQL replicas):
	tool, _ := publish.New(db, set)
	r, err := tool.Purge(ctx, "shop", bad, bad.Add(time.Hour))
	fmt.Println(r.Deleted, r.Folded, r.Version.Number, r.Version.Deltas, err)
	// Output: 2 2 2 2 <nil>
}

// ExampleAggregator_Offer is what the API does with each delta it
// accepts: offer the decoded value, append its canonical bytes, withdraw
// it unless the append recorded it.
func ExampleAggregator_Offer() {
	db, set, done := exampleStore()
	defer done()
	agg, _ := publish.New(db, set)
	ctx := context.Background()
	agg.Start(ctx)
	defer agg.Close(ctx)

	d := wire.Delta{Site: "shop", ID: [16]byte{1}, Items: []wire.Count{{ID: "gown", N: 1}}}
	body := wire.Marshal(&d) // the API: ingest.CanonicalTo(w, &d), after Decode and Check
	kept := agg.Offer(&d, body)
	a, err := db.Append(ctx, store.Delta{Site: d.Site, ID: d.ID, Received: time.Now(), Body: body})
	if kept && (err != nil || a.Duplicate) {
		agg.Withdraw(&d)
	}
	agg.Notify() // the fold takes d instead of decoding body
	fmt.Println(kept, err)
	// Output: true <nil>
}
