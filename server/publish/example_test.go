package publish_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
)

func ExampleAggregator() {
	dir, _ := os.MkdirTemp("", "tailor")
	defer os.RemoveAll(dir)
	db, _ := bolt.Open(filepath.Join(dir, "tailor.db"))
	defer db.Close()
	p := aggregate.DefaultParams
	p.MinCohort = 2
	agg, _ := publish.New(db, demosite.Sites("http://localhost:8080"), publish.WithParams(p),
		publish.WithPublishEvery(1000, 30*time.Second))
	ctx := context.Background()
	agg.Start(ctx) // publishes version 0, the empty model
	defer agg.Close(ctx)
	for i := range 3 {
		d := wire.Delta{Site: "demo", ID: [16]byte{byte(i)}, Pairs: []wire.Pair{{From: "gown", To: "heels", W: 1}}}
		db.Append(ctx, store.Delta{Site: d.Site, ID: d.ID, Body: wire.Marshal(&d)})
	}
	agg.Flush(ctx) // normally: every 1000 deltas or 30s
	v, _ := agg.Current("demo")
	fmt.Println(v.Number, v.Deltas, v.Privacy.MinCohort)
	// Output: 1 3 2
}
