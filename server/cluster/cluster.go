// Package cluster runs a Tailor server as one of several replicas sharing
// a store: every replica accepts syncs and serves the newest published
// version, and exactly one at a time aggregates and publishes.
//
//	agg, err := publish.New(db, sites, publish.WithFollower(time.Second))
//	err = agg.Start(ctx)
//	go cluster.Run(ctx, db, agg, log) // db: a *postgres.DB
//	...
//	agg.Close(closeCtx) // the leader publishes what is due...
//	cancel()            // ...then Run resigns and returns
//
// Run campaigns for the leadership; once elected it makes the aggregator
// Lead until the leadership ends (the replica's session with the database
// failed, or ctx ended), then campaigns again. Meanwhile it watches for
// published versions and has the aggregator Refresh, so that followers
// serve a new version within milliseconds of its commit; the aggregator's
// own poll bounds that when notifications are lost.
//
// # Notes
//
// Run returns when ctx ends, after resigning.
package cluster

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tailorhq/tailor/server/publish"
)

// Coordinator elects the leader among replicas and tells them of new
// versions; *postgres.DB is one.
type Coordinator interface {
	// Campaign blocks until this replica leads or ctx ends; lead ends
	// when the leadership does, resign ends it.
	Campaign(ctx context.Context) (lead context.Context, resign func(), err error)
	// Watch calls changed once listening and on every new version, until
	// ctx ends (nil) or it fails.
	Watch(ctx context.Context, changed func()) error
}

// retry bounds the wait before campaigning or watching again after an
// error: backoff doubles from retryMin.
const retryMin, retryMax = 100 * time.Millisecond, 5 * time.Second

// Run keeps agg (made WithFollower and started) following the published
// versions, and leading while this replica is elected, until ctx ends.
func Run(ctx context.Context, c Coordinator, agg *publish.Aggregator, log *slog.Logger) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		watch(ctx, c, agg, log)
	}()
	defer wg.Wait()
	backoff := retryMin
	for ctx.Err() == nil {
		lead, resign, err := c.Campaign(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("campaign for leadership failed; retrying", "err", err, "in", backoff)
				sleep(ctx, &backoff)
			}
			continue
		}
		start := time.Now()
		if err := agg.Lead(lead); err != nil {
			resign()
			if ctx.Err() == nil {
				log.Error("elected, but could not take over the aggregation; resigned", "err", err, "in", backoff)
				sleep(ctx, &backoff)
			}
			continue
		}
		backoff = retryMin
		log.Info("leading", "took", time.Since(start).Round(time.Millisecond))
		<-lead.Done()
		cause := context.Cause(lead)
		resign()
		if ctx.Err() == nil {
			log.Warn("leadership lost; following", "cause", cause)
		}
	}
}

// watch has agg Refresh on every published version, rewatching after
// failures.
func watch(ctx context.Context, c Coordinator, agg *publish.Aggregator, log *slog.Logger) {
	backoff := retryMin
	for ctx.Err() == nil {
		start := time.Now()
		err := c.Watch(ctx, agg.Refresh)
		if err == nil || ctx.Err() != nil {
			return
		}
		if time.Since(start) > retryMax {
			backoff = retryMin
		}
		log.Warn("watching for new versions failed; polling until it resumes", "err", err, "in", backoff)
		sleep(ctx, &backoff)
	}
}

// sleep waits for backoff or ctx, and doubles backoff up to retryMax.
func sleep(ctx context.Context, backoff *time.Duration) {
	t := time.NewTimer(*backoff)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	*backoff = min(2**backoff, retryMax)
}
