package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/wasm/harness"
)

// seedDemo gives the demo store a model learned from n simulated
// shoppers, so that a first visitor does not start from nothing: each runs
// the real tailor.wasm (from dist) through the harness and posts its
// profile delta to this server's handler, in memory (api.Server.Local:
// the per-address rate limit is for the network), as a browser would;
// then the aggregator publishes. A model already built from n deltas or
// more is left alone (n shoppers send several deltas each, one per page);
// one built from fewer (a seeding interrupted by Ctrl-C early) is topped
// up with as many shoppers as it lacks deltas.
func seedDemo(ctx context.Context, log *slog.Logger, agg *publish.Aggregator, h http.Handler, dist string, n int) error {
	v, ok := agg.Current(demosite.Key)
	if n <= 0 || !ok || v.Deltas >= uint64(n) {
		return nil
	}
	done0 := int(v.Deltas)
	start := time.Now()
	rt, err := harness.Load(ctx, filepath.Join(dist, "tailor.wasm"))
	if err != nil {
		return fmt.Errorf("seed demo: %w (build it with make wasm)", err)
	}
	defer rt.Close(context.Background())
	s, err := sim.New()
	if err != nil {
		return err
	}
	demo := demosite.Site()
	var done atomic.Int64
	log.Info("seeding the demo model with simulated shoppers", "shoppers", n-done0)
	// The shoppers run on the CPU, their syncs wait for the store's group
	// commit: many syncs in flight share each commit, so posting from
	// their own goroutines keeps the seeding CPU-bound (12,000+ deltas
	// from 3,000 shoppers, one per page).
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	deltas := make(chan []byte, posters)
	var wg sync.WaitGroup
	for range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for delta := range deltas {
				if err := post(ctx, h, delta); err != nil {
					cancel(err)
				}
				if d := done.Add(1); d%5000 == 0 {
					log.Info("seeding", "deltas", d)
				}
			}
		}()
	}
	err = s.Traffic(ctx, rt.NewPool(runtime.GOMAXPROCS(0), nil), demo.Config(), n-done0, 1+uint64(done0), start.Add(-30*24*time.Hour),
		func(delta []byte) error {
			select {
			case deltas <- delta:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
	close(deltas)
	wg.Wait()
	if err == nil {
		err = context.Cause(ctx)
	}
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	if err := agg.Flush(ctx); err != nil {
		return err
	}
	v, _ = agg.Current(demosite.Key)
	log.Info("seeded the demo model", "version", v.Number, "deltas", v.Deltas, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// posters is how many syncs the seeding keeps in flight.
const posters = 64

// post syncs one delta through the server's handler, in memory.
func post(ctx context.Context, h http.Handler, delta []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/v1/sync", bytes.NewReader(delta))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/msgpack")
	res := &response{header: http.Header{}}
	h.ServeHTTP(res, req)
	if res.code != http.StatusAccepted {
		return fmt.Errorf("sync: %d: %s", res.code, res.body.Bytes())
	}
	return nil
}

// response records what a handler answers in memory.
type response struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *response) Header() http.Header { return r.header }

func (r *response) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *response) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
