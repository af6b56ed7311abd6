package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/postgres"
	"github.com/tailorhq/tailor/server/store/postgres/pgtest"
	"github.com/tailorhq/tailor/server/store/storetest"
)

// TestContract runs the store contract suite on a real PostgreSQL, one
// database per subtest.
func TestContract(t *testing.T) {
	pg := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		url := pg.NewDatabase(t)
		return func() (store.Store, error) { return postgres.Open(context.Background(), url) }
	})
}

func open(t *testing.T, url string, opts ...postgres.Option) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func delta(site string, n int) store.Delta {
	d := store.Delta{Site: site, Received: time.Now(), Body: fmt.Appendf(nil, "body %d", n)}
	copy(d.ID[:], fmt.Sprintf("%s-%d----------------", site, n))
	return d
}

// TestMigrations opens one database from several replicas at once: each
// migration is applied once, and reopening changes nothing. A database
// migrated by a newer server is refused.
func TestMigrations(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := postgres.Open(context.Background(), url)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	db := open(t, url)
	ctx := context.Background()
	var n, latest int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &latest); err != nil {
		t.Fatal(err)
	}
	if n != postgres.SchemaVersion() || latest != postgres.SchemaVersion() {
		t.Fatalf("schema_migrations holds %d rows up to %d, want %d", n, latest, postgres.SchemaVersion())
	}
	if _, err := db.Pool().Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, postgres.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if db2, err := postgres.Open(ctx, url); !errors.Is(err, postgres.ErrSchema) {
		if err == nil {
			db2.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want ErrSchema", err)
	}
}

// TestImmutable checks that the database itself refuses to change a
// published version, a blob or a delta.
func TestImmutable(t *testing.T) {
	pg := pgtest.Start(t)
	db := open(t, pg.NewDatabase(t))
	ctx := context.Background()
	if _, err := db.Append(ctx, delta("a", 1)); err != nil {
		t.Fatal(err)
	}
	cfg := []byte("config")
	v := store.Version{Site: "a", Config: store.Hash(cfg), Created: time.Now()}
	if err := db.Publish(ctx, store.Publication{Version: v, Blobs: map[string][]byte{v.Config: cfg}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE versions SET number = 7`, `UPDATE blobs SET body = 'x'`, `UPDATE deltas SET body = 'x'`} {
		if _, err := db.Pool().Exec(ctx, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
}

// TestReplicasAppend appends the same deltas through two stores on one
// database at once, as a device's retry reaching another replica does:
// each delta is recorded once, the other append answers Duplicate with
// the same seq, and the log has no holes.
func TestReplicasAppend(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	dbs := []*postgres.DB{open(t, url), open(t, url)}
	const n = 300
	seqs := make([][]store.Appended, len(dbs))
	var wg sync.WaitGroup
	for r, db := range dbs {
		seqs[r] = make([]store.Appended, n)
		for w := 0; w < 4; w++ {
			wg.Go(func() {
				for i := w; i < n; i += 4 {
					a, err := db.Append(context.Background(), delta("a", i))
					if err != nil {
						t.Error(err)
						return
					}
					seqs[r][i] = a
				}
			})
		}
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		a, b := seqs[0][i], seqs[1][i]
		if a.Seq != b.Seq || a.Duplicate == b.Duplicate {
			t.Fatalf("delta %d: replica 1 %+v, replica 2 %+v: want one append and one duplicate of the same seq", i, a, b)
		}
	}
	ds, err := dbs[0].Deltas(context.Background(), "a", 0, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range ds {
		if d.Seq != uint64(i+1) {
			t.Fatalf("delta %d has seq %d", i, d.Seq)
		}
	}
	if len(ds) != n {
		t.Fatalf("log holds %d deltas, want %d", len(ds), n)
	}
	st := dbs[0].Stats()
	t.Logf("replica 1: %d deltas appended in %d commits", st.Appended, st.Commits)
}

// TestDatabaseDown stops the database under a store: appends fail (none
// is acknowledged), and once it is back the same store appends again
// without being reopened.
func TestDatabaseDown(t *testing.T) {
	pg := pgtest.Start(t)
	db := open(t, pg.NewDatabase(t), postgres.WithAppendTimeout(2*time.Second))
	ctx := context.Background()
	if _, err := db.Append(ctx, delta("a", 1)); err != nil {
		t.Fatal(err)
	}
	pg.Stop(t)
	if a, err := db.Append(ctx, delta("a", 2)); err == nil {
		t.Fatalf("append with the database down = %+v, want an error", a)
	}
	if _, err := db.Latest(ctx, "a"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Latest with the database down: %v, want a connection error", err)
	}
	pg.Restart(t)
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var a store.Appended
		if a, err = db.Append(ctx, delta("a", 2)); err == nil {
			if a.Seq != 2 || a.Duplicate {
				t.Fatalf("append after the restart = %+v, want seq 2", a)
			}
			return
		}
	}
	t.Fatalf("appends did not resume after the restart: %v", err)
}

// TestCampaign elects one of three campaigners at a time: the others wait
// until the leader resigns or its session dies, then one takes over.
func TestCampaign(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type leadership struct {
		i      int
		lead   context.Context
		resign func()
	}
	elected := make(chan leadership, 3)
	for i := 0; i < 3; i++ {
		db := open(t, url)
		go func() {
			lead, resign, err := db.Campaign(ctx)
			if err == nil {
				elected <- leadership{i, lead, resign}
			}
		}()
	}
	first := <-elected
	select {
	case second := <-elected:
		t.Fatalf("replicas %d and %d lead at once", first.i, second.i)
	case <-time.After(300 * time.Millisecond):
	}
	start := time.Now()
	first.resign()
	second := <-elected
	t.Logf("replica %d took over from %d in %v after it resigned", second.i, first.i, time.Since(start))
	// Kill the leader's session from the server side: it notices and steps
	// down, and the last campaigner takes over.
	db := open(t, url)
	if _, err := db.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tailor-server leader'
		AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-second.lead.Done():
		if !errors.Is(context.Cause(second.lead), postgres.ErrLeadershipLost) {
			t.Errorf("cause %v, want ErrLeadershipLost", context.Cause(second.lead))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the leader did not notice that its session ended")
	}
	second.resign()
	select {
	case third := <-elected:
		third.resign()
	case <-time.After(5 * time.Second):
		t.Fatal("no replica took over")
	}
}

// TestWatch sees another store's publication.
func TestWatch(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	a, b := open(t, url), open(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	changed := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() { done <- b.Watch(ctx, func() { changed <- struct{}{} }) }()
	<-changed // listening
	cfg := []byte("config")
	v := store.Version{Site: "a", Config: store.Hash(cfg), Created: time.Now()}
	if err := a.Publish(ctx, store.Publication{Version: v, Blobs: map[string][]byte{v.Config: cfg}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no notification of the publication")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Watch: %v", err)
	}
}

// TestSameIDInOneBatch appends one delta id with two bodies from many
// goroutines at once, so that copies share a group commit: the body first
// in line is recorded once, its other copies answer Duplicate with its
// seq, and every copy of the other body is a conflict.
func TestSameIDInOneBatch(t *testing.T) {
	pg := pgtest.Start(t)
	db := open(t, pg.NewDatabase(t))
	const copies = 32
	res := make([]store.Appended, copies)
	errs := make([]error, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() {
			d := delta("a", 1)
			d.Body = fmt.Appendf(nil, "body %d", i%2)
			res[i], errs[i] = db.Append(context.Background(), d)
		})
	}
	wg.Wait()
	winner := 0
	if errs[0] != nil {
		winner = 1
	}
	recorded := 0
	for i := range copies {
		switch {
		case i%2 != winner:
			if !errors.Is(errs[i], store.ErrConflict) {
				t.Fatalf("copy %d of the other body: %+v, %v; want ErrConflict", i, res[i], errs[i])
			}
		case errs[i] != nil || res[i].Seq != 1:
			t.Fatalf("copy %d: %+v, %v", i, res[i], errs[i])
		case !res[i].Duplicate:
			recorded++
		}
	}
	if recorded != 1 {
		t.Fatalf("%d copies recorded, want 1", recorded)
	}
	t.Logf("%d copies in %d commits", copies, db.Stats().Commits)
}
