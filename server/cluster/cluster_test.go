package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/postgres/pgtest"
)

var deltaN int

// appendDeltas appends n deltas of the demo site, each with one
// impression, through a replica's store.
func appendDeltas(t *testing.T, st store.Store, n int) {
	t.Helper()
	for range n {
		deltaN++
		d := wire.Delta{Site: siteKey, Pairs: []wire.Pair{{From: fmt.Sprint("item-", deltaN), To: "anchor", W: 1}},
			Arms: []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 1}}}
		copy(d.ID[:], fmt.Sprintf("cluster-%08d", deltaN))
		if _, err := st.Append(context.Background(), store.Delta{Site: d.Site, ID: d.ID, Received: time.Now(), Body: wire.Marshal(&d)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRun runs two replicas in this process on a real PostgreSQL: one
// leads; the other serves each version the leader publishes as soon as it
// is notified (its poll is an hour, so nothing else could tell it), with
// its uplift counts; a leader stopping gracefully publishes what is
// pending and hands over to the other.
func TestRun(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	a := startReplica(t, url, replicaConfig{poll: time.Hour})
	waitFor(t, "a replica leads", a.agg.Leading)
	b := startReplica(t, url, replicaConfig{poll: time.Hour})
	waitFor(t, "the follower serves version 0", func() bool { _, ok := b.agg.Current(siteKey); return ok })
	var worst time.Duration
	for n := uint32(1); n <= 3; n++ {
		appendDeltas(t, b.st, 5) // synced to the follower
		if err := a.agg.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		published := time.Now()
		waitFor(t, "the follower serves the new version", func() bool { return version(b).Number == n })
		worst = max(worst, time.Since(published))
		if b.agg.Leading() {
			t.Fatal("both replicas lead")
		}
	}
	arms, err := b.agg.Arms(siteKey)
	if err != nil || arms[0][wire.ArmTreatment].Impressions != 15 {
		t.Fatalf("the follower's arms = %+v, %v; want the leader's 15 impressions", arms, err)
	}
	t.Logf("the follower served each new version at most %v after its publication", worst)

	appendDeltas(t, b.st, 4)
	stopped := time.Now()
	a.stop()
	waitFor(t, "the other replica takes over", b.agg.Leading)
	t.Logf("the other replica led %v after the leader stopped", time.Since(stopped).Round(time.Millisecond))
	if v := version(b); v.Number != 4 || v.Deltas != 19 {
		t.Fatalf("after the handover: %+v, want the stopped leader's last version, 4, of 19 deltas", v)
	}
}
