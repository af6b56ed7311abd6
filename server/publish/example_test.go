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

func ExampleAggregator() {
	dir, _ := os.MkdirTemp("", "tailor")
	defer os.RemoveAll(dir)
	db, _ := bolt.Open(filepath.Join(dir, "tailor.db"))
	defer db.Close()
	set, _ := site.NewSet(site.Site{Key: "shop", Origins: []string{"https://shop.example"}, Privacy: wire.PrivacyFederated})
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
	dir, _ := os.MkdirTemp("", "tailor")
	defer os.RemoveAll(dir)
	db, _ := bolt.Open(filepath.Join(dir, "tailor.db"))
	defer db.Close()
	ctx := context.Background()
	bad := store.Coarse(time.Now()).Add(-3 * time.Hour) // an attack's hour
	for i, at := range []time.Time{bad.Add(-time.Hour), bad, bad.Add(time.Minute), bad.Add(time.Hour)} {
		d := wire.Delta{Site: "shop", ID: [16]byte{byte(i)}, Pairs: []wire.Pair{{From: "gown", To: "heels", W: 1}}}
		db.Append(ctx, store.Delta{Site: d.Site, ID: d.ID, Received: at, Body: wire.Marshal(&d)})
	}
	set, _ := site.NewSet(site.Site{Key: "shop", Origins: []string{"https://shop.example"}, Privacy: wire.PrivacyFederated})
	server, _ := publish.New(db, set)
	server.Start(ctx)
	server.Close(ctx) // publishes version 1 from the four deltas

	// Later, with the server stopped (or beside PostgreSQL replicas):
	tool, _ := publish.New(db, set)
	r, err := tool.Purge(ctx, "shop", bad, bad.Add(time.Hour))
	fmt.Println(r.Deleted, r.Folded, r.Version.Number, r.Version.Deltas, err)
	// Output: 2 2 2 2 <nil>
}
