// Package stacktest starts the whole server in a test's process: a new
// bbolt store, the aggregator publishing from it and the API on loopback,
// as tailor-server composes them. Tests of server/api and server/e2e use
// it; servers never do.
package stacktest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store/bolt"
)

// Stack is a running server; Start closes it when the test ends.
type Stack struct {
	URL string // the API's, http://127.0.0.1:PORT
	DB  *bolt.DB
	Agg *publish.Aggregator
	API *api.Server
}

// Start serves sites from a new store in tb's temporary directory: the
// aggregator folds with p and publishes every `every` deltas (or hourly),
// and the API takes opts. The stack closes in order (API, aggregator,
// store) when the test ends, after cleanups registered later, such as a
// client's.
func Start(tb testing.TB, sites *site.Set, p aggregate.Params, every int, opts ...api.Option) *Stack {
	tb.Helper()
	db, err := bolt.Open(filepath.Join(tb.TempDir(), "tailor.db"))
	if err != nil {
		tb.Fatal(err)
	}
	agg, err := publish.New(db, sites, publish.WithParams(p), publish.WithPublishEvery(every, time.Hour))
	if err != nil {
		db.Close()
		tb.Fatal(err)
	}
	if err := agg.Start(context.Background()); err != nil {
		db.Close()
		tb.Fatal(err)
	}
	srv, err := api.New(db, agg, sites, opts...)
	if err == nil {
		err = srv.Open("127.0.0.1:0")
	}
	if err != nil {
		agg.Close(context.Background())
		db.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		srv.Close()
		agg.Close(context.Background())
		db.Close()
	})
	return &Stack{URL: srv.URL(), DB: db, Agg: agg, API: srv}
}
