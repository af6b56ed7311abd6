package publish_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
	"github.com/tailorhq/tailor/server/store/postgres"
	"github.com/tailorhq/tailor/server/store/postgres/pgtest"
)

// backend is a store under test and a way to find a delta's id anywhere
// in what it keeps.
type backend struct {
	name string
	open func(t *testing.T) store.Store
	// remains counts the ids that can still be found in the store's
	// bytes (the file) or rows.
	remains func(t *testing.T, st store.Store, ids [][16]byte) int
}

// backends are the embedded store and, when PostgreSQL is installed, the
// PostgreSQL store.
func backends(t *testing.T) []backend {
	bs := []backend{{
		name: "bolt",
		open: func(t *testing.T) store.Store { return newStore(t) },
		remains: func(t *testing.T, st store.Store, ids [][16]byte) int {
			t.Helper()
			path := st.(interface{ Path() string }).Path()
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// and its journal of appends, until they are copied into it
			if journal, err := os.ReadFile(path + ".journal"); err == nil {
				raw = append(raw, journal...)
			}
			n := 0
			for _, id := range ids {
				if bytes.Contains(raw, id[:]) {
					n++
				}
			}
			return n
		},
	}}
	if pgtest.Bin() == "" {
		t.Log("PostgreSQL is not installed: the embedded store only")
		return bs
	}
	var pg *pgtest.Server
	return append(bs, backend{
		name: "postgres",
		open: func(t *testing.T) store.Store {
			if pg == nil {
				pg = pgtest.Start(t)
			}
			db, err := postgres.Open(context.Background(), pg.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		remains: func(t *testing.T, st store.Store, ids [][16]byte) int {
			t.Helper()
			raw := make([][]byte, len(ids))
			for i := range ids {
				raw[i] = ids[i][:]
			}
			var n int
			if err := st.(*postgres.DB).Pool().QueryRow(context.Background(),
				`SELECT count(*) FROM deltas WHERE id = ANY($1)`, raw).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		},
	})
}

// appendAt stores a delta of pair from → to (and item from) received at.
func appendAt(t *testing.T, st store.Store, id string, at time.Time, from, to string) [16]byte {
	t.Helper()
	d := wire.Delta{Site: shop, Pairs: []wire.Pair{{From: from, To: to, W: 1}}, Items: []wire.Count{{ID: from, N: 1}},
		Arms: []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 1}}}
	copy(d.ID[:], fmt.Sprintf("%-16s", id))
	if _, err := st.Append(context.Background(), store.Delta{Site: d.Site, ID: d.ID, Received: at, Body: wire.Marshal(&d)}); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func retainParams() aggregate.Params {
	p := aggregate.DefaultParams
	p.MinCohort, p.Shards = 1, 4
	return p
}

// startWith starts an aggregator of the demo site with retainParams,
// closed with the test.
func startWith(t *testing.T, st store.Store, opts ...publish.Option) *publish.Aggregator {
	t.Helper()
	a := start(t, st, sites(t, 0.05), append([]publish.Option{publish.WithParams(retainParams())}, opts...)...)
	t.Cleanup(func() { a.Close(context.Background()) })
	return a
}

func checkpoint(t *testing.T, st store.Store) *aggregate.State {
	t.Helper()
	b, err := st.State(context.Background(), shop)
	if err != nil {
		t.Fatal(err)
	}
	s := aggregate.NewState()
	if err := s.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRetention: in both stores, the deltas older than the retention
// window and published are deleted, nothing of them remains in the
// store's file or rows, the base checkpoint plus the deltas kept rebuild
// the aggregate, and the versions published after are exactly those of a
// store that deleted nothing.
func TestRetention(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st, control := be.open(t), openStore(t, filepath.Join(t.TempDir(), "control.db"))
			a := startWith(t, st, publish.WithRetention(7*24*time.Hour))
			c := startWith(t, control, publish.WithRetention(0))
			now := time.Now()
			both := func(id string, at time.Time, from, to string) [16]byte {
				appendAt(t, control, id, at, from, to)
				return appendAt(t, st, id, at, from, to)
			}
			var old [][16]byte
			for i := range 30 {
				old = append(old, both(fmt.Sprintf("old-%d", i), now.Add(-10*24*time.Hour+time.Duration(i)*time.Minute), "a", fmt.Sprint("b", i%3)))
			}
			for i := range 10 {
				both(fmt.Sprintf("new-%d", i), now.Add(-time.Duration(i)*time.Minute), "b0", "c")
			}
			if got := be.remains(t, st, old); got != len(old) {
				t.Fatalf("before retention, %d of %d old deltas found: the check cannot see them", got, len(old))
			}
			// Before a version holds them nothing can go. The aggregator's
			// own steps (each second) look as this does, and such a look
			// must not put the job off for its hour (under load one came
			// before the flush below, and the old deltas stayed).
			if n, err := a.Retain(ctx); err != nil || n != 0 {
				t.Fatalf("Retain before a version holds the old deltas = %d, %v, want nothing", n, err)
			}
			// Publishing runs the retention job (the first time at once,
			// then hourly): the old deltas go once a version holds them.
			v1, cv1 := flush(t, a), flush(t, c)
			if v1.Number != 1 || v1.Deltas != 40 || !slices.Equal(v1.Shards, cv1.Shards) {
				t.Fatalf("v1 = %+v, control %+v", v1, cv1)
			}
			if got := be.remains(t, st, old); got != 0 {
				t.Errorf("after retention, %d of the %d deleted deltas' ids remain in the store", got, len(old))
			}
			// Old but not yet published: kept until a version holds it.
			late := both("late-old", now.Add(-9*24*time.Hour), "a", "b1")
			if n, err := a.Retain(ctx); err != nil || n != 0 {
				t.Fatalf("Retain = %d, %v, want nothing: the old delta left is not published yet", n, err)
			}
			if be.remains(t, st, [][16]byte{late}) != 1 {
				t.Error("an old delta not yet published was deleted")
			}
			ds, err := st.Deltas(ctx, shop, 0, 100)
			if err != nil || len(ds) != 11 || ds[0].Seq != 31 {
				t.Fatalf("deltas kept: %d from seq %d, %v; want 11 from 31", len(ds), ds[0].Seq, err)
			}
			horizon := now.Add(-7 * 24 * time.Hour)
			for _, d := range ds[:10] {
				if d.Received.Before(horizon) {
					t.Errorf("delta %d received %v, before the window, is kept", d.Seq, d.Received)
				}
			}
			base, err := st.Base(ctx, shop)
			if err != nil || base.Through != 30 || base.Until.After(now.Add(-7*24*time.Hour)) {
				t.Fatalf("base = through %d until %v, %v", base.Through, base.Until, err)
			}
			if v, _ := a.Current(shop); v.Number != 1 {
				t.Errorf("retention published v%d", v.Number)
			}
			// The base plus the deltas kept (the late one is not folded yet)
			// rebuild the checkpoint.
			p := retainParams()
			rebuilt, err := a.Rebuild(ctx, shop)
			if err != nil {
				t.Fatal(err)
			}
			if rebuilt.Deltas != 41 {
				t.Errorf("rebuilt from %d deltas, want 41", rebuilt.Deltas)
			}
			want := checkpoint(t, st)
			var lateDelta wire.Delta
			if err := wire.Unmarshal(ds[10].Body, &lateDelta, "delta"); err != nil {
				t.Fatal(err)
			}
			want.Fold(&lateDelta, ds[10].Seq, ds[10].Received, &p)
			if err := aggregate.Moved(want, rebuilt).Within(0, &p); err != nil {
				t.Errorf("base + kept deltas differ from the checkpoint: %v", err)
			}

			// A restart folds from the checkpoint; the next versions are the
			// control's, bit for bit.
			if err := a.Close(ctx); err != nil {
				t.Fatal(err)
			}
			// (Close published the late delta as v2.)
			a = startWith(t, st, publish.WithRetention(7*24*time.Hour))
			v2, cv2 := flush(t, a), flush(t, c)
			if v2.Number != 2 || v2.Deltas != 41 || !slices.Equal(v2.Shards, cv2.Shards) {
				t.Fatalf("after a restart, %+v\ncontrol %+v", v2, cv2)
			}
			for i := range 5 {
				both(fmt.Sprintf("next-%d", i), now, "c", "d")
			}
			v3, cv3 := flush(t, a), flush(t, c)
			if v3.Number != 3 || v3.Deltas != 46 || v3.Deltas != cv3.Deltas || !slices.Equal(v3.Shards, cv3.Shards) {
				t.Errorf("v3 = %+v\ncontrol %+v", v3, cv3)
			}
			arms, _ := a.Arms(shop)
			carms, _ := c.Arms(shop)
			if arms[0] != carms[0] {
				t.Errorf("arms %+v, control %+v", arms, carms)
			}
		})
	}
}

// TestRetentionOff: WithRetention(0) deletes nothing; a negative window
// is refused.
func TestRetentionOff(t *testing.T) {
	st := newStore(t)
	a := startWith(t, st, publish.WithRetention(0))
	appendAt(t, st, "ancient", time.Now().Add(-365*24*time.Hour), "a", "b")
	flush(t, a)
	if n, err := a.Retain(context.Background()); err != nil || n != 0 {
		t.Errorf("Retain without retention = %d, %v", n, err)
	}
	if _, err := publish.New(st, sites(t, 0), publish.WithRetention(-time.Hour)); !errors.Is(err, aggregate.ErrParams) {
		t.Errorf("negative retention: %v", err)
	}
}

// BenchmarkRetain measures one retention run over 50,000 published deltas
// of an honest federated shape (4 pairs, 8 items) older than the window:
// folding them into the base, retiring them, compacting the embedded
// store. Run it with -benchtime 1x (each run builds its store).
func BenchmarkRetain(b *testing.B) {
	ctx := context.Background()
	old := time.Now().Add(-8 * 24 * time.Hour)
	for range b.N {
		b.StopTimer()
		st, err := bolt.Open(filepath.Join(b.TempDir(), "tailor.db"))
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 32 {
			wg.Go(func() {
				for i := w; i < 50_000; i += 32 {
					d := wire.Delta{Site: shop}
					for j := range 8 {
						d.Items = append(d.Items, wire.Count{ID: fmt.Sprintf("item-%d", (i*7+j*13)%2000), N: 1})
					}
					for j := range 4 {
						d.Pairs = append(d.Pairs, wire.Pair{From: d.Items[j].ID, To: d.Items[j+4].ID, W: 1})
					}
					copy(d.ID[:], fmt.Sprintf("bench-%010d", i))
					if _, err := st.Append(ctx, store.Delta{Site: d.Site, ID: d.ID, Received: old, Body: wire.Marshal(&d)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		a, err := publish.New(st, sites(b, 0.05), publish.WithRetention(0))
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			b.Fatal(err)
		}
		a.Close(ctx) // publishes the 50,000
		a, err = publish.New(st, sites(b, 0.05))
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, err := a.Retain(ctx)
		b.StopTimer()
		if err != nil || n != 50_000 {
			b.Fatalf("Retain = %d, %v", n, err)
		}
		a.Close(ctx)
		st.Close()
	}
}
