package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/server/publish"
)

// seedLarge is seedDemo for a synthetic catalogue (--catalog-size): n
// shoppers of sim.Large, each a fresh sdk/device run natively, post their
// deltas to this server's handler in memory, one per page, as a browser
// would; then the aggregator publishes. As seedDemo, a model built from n
// deltas or more is left alone, one built from fewer is topped up.
func seedLarge(ctx context.Context, log *slog.Logger, agg *publish.Aggregator, h http.Handler, c *demosite.Catalog, n int) error {
	v, ok := agg.Current(demosite.Key)
	if n <= 0 || !ok || v.Deltas >= uint64(n) {
		return nil
	}
	done0 := int(v.Deltas)
	start := time.Now()
	log.Info("seeding the demo model of the synthetic catalogue with simulated shoppers", "shoppers", n-done0, "products", len(c.Products))
	demo := demosite.Site()
	var done atomic.Int64
	// The devices cost little CPU; each worker posts its own deltas, and
	// the syncs in flight (posters) share the store's group commits.
	err := sim.NewLarge(c).Traffic(ctx, posters, demo.Config(), n-done0, 1+uint64(done0), start.Add(-30*24*time.Hour),
		func(delta []byte) error {
			if err := post(ctx, h, delta); err != nil {
				return err
			}
			if d := done.Add(1); d%50000 == 0 {
				log.Info("seeding", "deltas", d)
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	posted := time.Since(start)
	if err := agg.Flush(ctx); err != nil {
		return err
	}
	v, _ = agg.Current(demosite.Key)
	log.Info("seeded the demo model", "version", v.Number, "deltas", v.Deltas, "posted", done.Load(),
		"posting", posted.Round(time.Millisecond), "took", time.Since(start).Round(time.Millisecond))
	return nil
}
