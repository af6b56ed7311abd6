package publish_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
)

// newStore opens a new store in the test's temporary directory.
func newStore(t testing.TB) *bolt.DB {
	t.Helper()
	return openStore(t, filepath.Join(t.TempDir(), "tailor.db"))
}

// openStore opens the store at path, closed with the test.
func openStore(t testing.TB, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// shop is the site of the tests.
const shop = "shop"

// sites returns the tests' one federated site, shop, with a holdout share.
func sites(t testing.TB, holdout float32) *site.Set {
	t.Helper()
	set, err := site.NewSet(site.Site{Key: shop, Origins: []string{"http://localhost"}, Privacy: wire.PrivacyFederated, Holdout: holdout})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// start starts an aggregator of set over st (opts override its test
// parameters); the caller closes it.
func start(t *testing.T, st store.Store, set *site.Set, opts ...publish.Option) *publish.Aggregator {
	t.Helper()
	p := aggregate.DefaultParams
	p.MinCohort, p.Shards, p.HeadItems, p.PairShare = 1, 4, 0, 0
	a, err := publish.New(st, set, append([]publish.Option{publish.WithParams(p), publish.WithPublishEvery(1000, time.Hour)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

// flush publishes what the aggregator has pending, failing the test on
// an error, and returns the shop's version after it.
func flush(t *testing.T, a *publish.Aggregator) store.Version {
	t.Helper()
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	v, _ := a.Current(shop)
	return v
}

// appendDelta stores a delta for item pair from → to, numbered n.
func appendDelta(t testing.TB, st store.Store, n int, from, to string) {
	t.Helper()
	d := wire.Delta{Site: shop, Pairs: []wire.Pair{{From: from, To: to, W: 1}}, Items: []wire.Count{{ID: from, N: 1}},
		Arms: []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 1}}}
	copy(d.ID[:], fmt.Sprintf("delta-%010d", n))
	if _, err := st.Append(context.Background(), store.Delta{Site: d.Site, ID: d.ID, Received: time.Now(), Body: wire.Marshal(&d)}); err != nil {
		t.Fatal(err)
	}
}

// TestWithClock: the versions an aggregator publishes carry its clock's
// time, not the wall clock's.
func TestWithClock(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	st := newStore(t)
	a := start(t, st, sites(t, 0), publish.WithClock(func() time.Time { return at }))
	defer a.Close(context.Background())
	v0, _ := a.Current(shop)
	appendDelta(t, st, 0, "a", "b")
	for _, v := range []store.Version{v0, flush(t, a)} {
		if !v.Created.Equal(at) {
			t.Errorf("v%d created %v, want the clock's %v", v.Number, v.Created, at)
		}
	}
}

func TestAggregatorLifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tailor.db")
	st := openStore(t, path)
	a := start(t, st, sites(t, 0.05))
	v0, ok := a.Current(shop)
	if !ok || v0.Number != 0 || v0.Deltas != 0 || len(v0.Shards) != 4 {
		t.Fatalf("version 0 = %+v", v0)
	}
	for _, sh := range v0.Shards {
		b, err := st.Blob(ctx, sh.Hash)
		var w wire.Weights
		if err != nil || wire.Unmarshal(b, &w, "weights") != nil || len(w.Items) != 0 || w.Version != 0 {
			t.Fatalf("version 0 shard %d: %+v, %v", sh.Index, w, err)
		}
	}
	// Nothing new: Flush publishes nothing.
	if v := flush(t, a); v.Number != 0 {
		t.Fatalf("Flush without deltas published v%d", v.Number)
	}
	for i := 0; i < 10; i++ {
		appendDelta(t, st, i, "a", "b")
	}
	v1 := flush(t, a)
	if v1.Number != 1 || v1.Deltas != 10 || v1.New != 10 || v1.Cursor != 10 || v1.Config != v0.Config {
		t.Fatalf("version 1 = %+v", v1)
	}
	arms, _ := a.Arms(shop)
	if arms[0][wire.ArmTreatment].Impressions != 10 {
		t.Errorf("arms = %+v", arms)
	}
	// A delta touching one item only changes the shard holding it.
	appendDelta(t, st, 10, "a", "c")
	v2 := flush(t, a)
	changed := 0
	for i, sh := range v2.Shards {
		if sh.Version == 2 {
			changed++
		} else if sh != v1.Shards[i] {
			t.Errorf("unchanged shard %d: %+v, was %+v", i, sh, v1.Shards[i])
		}
	}
	if changed == 0 || changed == 4 {
		t.Errorf("%d of 4 shards changed; want only those of the changed items", changed)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// Deltas logged while the aggregator is down are folded on restart,
	// from the checkpoint; a changed configuration publishes a version.
	for i := 11; i < 15; i++ {
		appendDelta(t, st, i, "b", "c")
	}
	a = start(t, st, sites(t, 0.2))
	v3, _ := a.Current(shop)
	if v3.Number != 3 || v3.Deltas != 15 || v3.New != 4 || v3.Config == v2.Config {
		t.Fatalf("after a restart with a new configuration: %+v", v3)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// An untouched restart publishes nothing new.
	a = start(t, st, sites(t, 0.2))
	if v, _ := a.Current(shop); v.Number != 3 {
		t.Fatalf("an idle restart published v%d", v.Number)
	}
	a.Close(ctx)
}

func TestAggregatorPublishesByCountAndTime(t *testing.T) {
	st := newStore(t)
	p := aggregate.DefaultParams
	p.MinCohort = 1
	a := start(t, st, sites(t, 0.05), publish.WithParams(p), publish.WithPublishEvery(5, time.Hour))
	defer a.Close(context.Background())
	for i := 0; i < 5; i++ {
		appendDelta(t, st, i, "a", "b")
		a.Notify()
	}
	waitVersion(t, a, 1)

	b := start(t, newStore(t), sites(t, 0.05), publish.WithParams(p), publish.WithPublishEvery(1000, 50*time.Millisecond))
	defer b.Close(context.Background())
	if v, _ := b.Current(shop); v.Number != 0 {
		t.Fatal("no version 0")
	}
	time.Sleep(150 * time.Millisecond)
	if v, _ := b.Current(shop); v.Number != 0 {
		t.Fatalf("published v%d with nothing new", v.Number)
	}
}

func waitVersion(t *testing.T, a *publish.Aggregator, n uint32) store.Version {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if v, _ := a.Current(shop); v.Number >= n {
			return v
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("version %d not published in time", n)
	return store.Version{}
}

func TestAggregatorNoiseRecorded(t *testing.T) {
	st := newStore(t)
	p := aggregate.DefaultParams
	p.MinCohort, p.Noise, p.Epsilon, p.Delta = 1, aggregate.NoiseGaussian, 2, 1e-6
	a := start(t, st, sites(t, 0.05), publish.WithParams(p), publish.WithNoiseSeed(1))
	defer a.Close(context.Background())
	v, _ := a.Current(shop)
	if v.Privacy.Noise != "gaussian" || v.Privacy.Delta != 1e-6 || v.Privacy.Scale != p.Sigma() || v.Privacy.MinCohort != 1 || v.Privacy.Rho != 0 {
		t.Errorf("privacy of version 0 = %+v", v.Privacy)
	}
}

// TestAggregatorHammer appends, notifies, flushes and reads from many
// goroutines at once (run it under -race): every delta is folded exactly
// once.
func TestAggregatorHammer(t *testing.T) {
	st := newStore(t)
	p := aggregate.DefaultParams
	p.MinCohort = 1
	a := start(t, st, sites(t, 0.05), publish.WithParams(p), publish.WithPublishEvery(7, 10*time.Millisecond))
	const writers, each = 8, 40
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				appendDelta(t, st, w*each+i, fmt.Sprint("a", w), fmt.Sprint("b", i))
				a.Notify()
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := 0; r < 3; r++ {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				a.Current(shop)
				a.Info(shop)
				if _, err := a.Arms(shop); err != nil {
					t.Error(err)
				}
				if r == 0 {
					a.Flush(context.Background())
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	v, _ := a.Current(shop)
	arms, _ := a.Arms(shop)
	if v.Deltas != writers*each || arms[0][wire.ArmTreatment].Impressions != writers*each {
		t.Fatalf("version %d holds %d deltas, %d impressions; want %d", v.Number, v.Deltas, arms[0][wire.ArmTreatment].Impressions, writers*each)
	}
}
