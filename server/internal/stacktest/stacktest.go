// Package stacktest starts the whole server in a test's process (Start: a
// new bbolt store, the aggregator publishing from it and the API on
// loopback, as tailor-server composes them; or its steps, Open, Aggregate
// and Serve, for a test that composes more) and sends it requests (Do),
// also as a browser of the console does (NewBrowser, Submit). Tests of
// server/api, server/console, server/e2e, server/serve and tailor-server
// use it; servers never do.
package stacktest

import (
	"context"
	"io"
	"net/http"
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
	return StartInterval(tb, sites, p, every, time.Hour, opts...)
}

// StartInterval is Start publishing every `every` deltas or every
// interval, whichever comes first: tests of the interval's own rules (a
// version on a quiet site) need it short.
func StartInterval(tb testing.TB, sites *site.Set, p aggregate.Params, every int, interval time.Duration, opts ...api.Option) *Stack {
	tb.Helper()
	db := Open(tb, "")
	agg := Aggregate(tb, db, sites, publish.WithParams(p), publish.WithPublishEvery(every, interval))
	srv := Serve(tb, db, agg, sites, opts...)
	return &Stack{URL: srv.URL(), DB: db, Agg: agg, API: srv}
}

// Open, Aggregate and Serve are Start's steps, for a test that composes
// more between them (the console's levers, registry and console): each
// closes what it starts when the test ends, so that the stack closes in
// the reverse order (API, aggregator, store).

// Open opens the bbolt store at path ("": a new one in tb's temporary
// directory).
func Open(tb testing.TB, path string) *bolt.DB {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "tailor.db")
	}
	db, err := bolt.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Aggregate starts the aggregator of sites over db with opts.
func Aggregate(tb testing.TB, db *bolt.DB, sites *site.Set, opts ...publish.Option) *publish.Aggregator {
	tb.Helper()
	agg, err := publish.New(db, sites, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	if err := agg.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { agg.Close(context.Background()) })
	return agg
}

// Serve serves the API of sites over db and agg with opts on loopback
// (its URL).
func Serve(tb testing.TB, db *bolt.DB, agg *publish.Aggregator, sites *site.Set, opts ...api.Option) *api.Server {
	tb.Helper()
	srv, err := api.New(db, agg, sites, opts...)
	if err == nil {
		err = srv.Open("127.0.0.1:0")
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	return srv
}

// Do sends a request with header's name-value pairs through c and returns
// the response with its whole body read (the body is closed); it fails the
// test if the request cannot be made or its body read.
func Do(tb testing.TB, c *http.Client, method, url string, body io.Reader, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return res, b
}
