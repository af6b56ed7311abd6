package cluster_test

import (
	"cmp"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/cluster"
	"github.com/tailorhq/tailor/server/internal/synctest"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
	"github.com/tailorhq/tailor/server/store/postgres"
)

// replica is a whole server in this process: store, aggregator, API on
// loopback, and (on PostgreSQL) cluster.Run.
type replica struct {
	url  string
	st   store.Store
	pg   *postgres.DB // nil: the embedded store
	agg  *publish.Aggregator
	srv  *api.Server
	stop func()
}

type replicaConfig struct {
	every    int           // publish every this many deltas (default 1000)
	interval time.Duration // or this often (default 30s)
	poll     time.Duration // a follower's bound (default 1s)
}

// siteKey is the replicas' one federated site, keyed as the sync
// benchmark's deltas are.
const siteKey = synctest.Site

// startReplica starts a replica on the database at url, or on the
// embedded store at path bolt:PATH; it is stopped with the test (or by
// stop, gracefully, as the server's shutdown does).
func startReplica(t testing.TB, url string, cfg replicaConfig) *replica {
	t.Helper()
	cfg.every = cmp.Or(cfg.every, 1000)
	cfg.interval = cmp.Or(cfg.interval, 30*time.Second)
	cfg.poll = cmp.Or(cfg.poll, time.Second)
	r := &replica{}
	var err error
	if path, ok := strings.CutPrefix(url, "bolt:"); ok {
		r.st, err = bolt.Open(path)
	} else {
		r.pg, err = postgres.Open(context.Background(), url)
		r.st = r.pg
	}
	if err != nil {
		t.Fatal(err)
	}
	p := aggregate.DefaultParams
	p.MinCohort = 1
	opts := []publish.Option{publish.WithParams(p), publish.WithPublishEvery(cfg.every, cfg.interval)}
	if r.pg != nil {
		opts = append(opts, publish.WithFollower(cfg.poll))
	}
	set := synctest.Sites(t, "http://localhost")
	if r.agg, err = publish.New(r.st, set, opts...); err != nil {
		t.Fatal(err)
	}
	if err := r.agg.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if r.pg != nil {
			cluster.Run(ctx, r.pg, r.agg, slog.New(slog.DiscardHandler))
		}
	}()
	if r.srv, err = api.New(r.st, r.agg, set); err != nil {
		t.Fatal(err)
	}
	if err := r.srv.Open("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	r.url = r.srv.URL()
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		r.srv.Close()
		r.agg.Close(context.Background())
		cancel()
		<-done
		r.st.Close()
	}
	t.Cleanup(r.stop)
	return r
}

// waitFor polls cond for up to 10s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not in time", what)
		}
	}
}

func version(r *replica) store.Version {
	v, _ := r.agg.Current(siteKey)
	return v
}
