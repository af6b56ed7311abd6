package bolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
	"github.com/tailorhq/tailor/server/store/storetest"
	bbolt "go.etcd.io/bbolt"
)

// TestContract runs the contract with the default journal, with one so
// small that most groups are copied into the file at once, and with none.
func TestContract(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []bolt.Option
	}{
		{"journal", nil},
		{"small journal", []bolt.Option{bolt.WithJournal(256)}},
		{"no journal", []bolt.Option{bolt.WithJournal(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Opener {
				path := filepath.Join(t.TempDir(), "tailor.db")
				return func() (store.Store, error) { return bolt.Open(path, tc.opts...) }
			})
		})
	}
}

// TestLocked checks that a second opener of the same file fails after the
// timeout instead of corrupting it or hanging.
func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tailor.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db2, err := bolt.Open(path, bolt.WithTimeout(50*time.Millisecond))
	if err == nil {
		db2.Close()
		t.Fatal("a second Open of a locked file succeeded")
	}
	if !errors.Is(err, bolt.ErrLocked) {
		t.Errorf("second Open: %v, want ErrLocked", err)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  bolt.Option
	}{
		{"timeout 0", bolt.WithTimeout(0)},
		{"max batch 0", bolt.WithMaxBatch(0)},
		{"journal -1", bolt.WithJournal(-1)},
	} {
		if db, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), tc.opt); err == nil {
			db.Close()
			t.Errorf("%s: Open succeeded", tc.name)
		}
	}
}

// TestCompact: Retire deletes deltas, but bbolt keeps their bytes in free
// pages (and the journal, until overwritten); Compact rewrites the file
// without them, and zeros over the journal, and the store carries on
// (appends waiting meanwhile, reads, reopening).
func TestCompact(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tailor.db")
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	mark := func(i int) []byte { return fmt.Appendf(nil, "secret-body-%04d", i) }
	for i := range 200 {
		d := store.Delta{Site: "a", Received: time.Now(), Body: mark(i)}
		copy(d.ID[:], fmt.Sprintf("id-%013d", i))
		if _, err := db.Append(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	found := func() (n int) { // in the file or in its journal
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		journal, err := os.ReadFile(path + ".journal")
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, journal...)
		for i := range 150 {
			if bytes.Contains(raw, mark(i)) || bytes.Contains(raw, fmt.Appendf(nil, "id-%013d", i)) {
				n++
			}
		}
		return n
	}
	if n := found(); n != 150 {
		t.Fatalf("%d of 150 deltas found in the file before deleting: the check cannot see them", n)
	}
	if n, err := db.Retire(ctx, "a", 0, store.Base{Through: 150, State: []byte("base")}); err != nil || n != 150 {
		t.Fatalf("Retire = %d, %v", n, err)
	}
	t.Logf("after Retire, %d of the 150 deleted deltas are still in the file's free pages", found())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // an append racing the compaction waits for it, and lands
		defer wg.Done()
		d := store.Delta{Site: "a", Received: time.Now(), Body: []byte("during")}
		copy(d.ID[:], "during----------")
		if a, err := db.Append(ctx, d); err != nil || a.Seq != 201 {
			t.Errorf("append during Compact = %+v, %v", a, err)
		}
	}()
	if err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := found(); n != 0 {
		t.Errorf("after Compact, %d of the 150 deleted deltas remain in the file", n)
	}
	if _, err := os.Stat(path + ".compact"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary file is left: %v", err)
	}
	check := func() {
		t.Helper()
		ds, err := db.Deltas(ctx, "a", 0, 1000)
		if err != nil || len(ds) != 51 || ds[0].Seq != 151 || !bytes.Equal(ds[0].Body, mark(150)) {
			t.Fatalf("after Compact: %d deltas, %v", len(ds), err)
		}
		if b, err := db.Base(ctx, "a"); err != nil || b.Through != 150 || string(b.State) != "base" {
			t.Fatalf("base after Compact = %+v, %v", b, err)
		}
	}
	check()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = bolt.Open(path); err != nil {
		t.Fatal(err)
	}
	check()
	if a, err := db.Append(ctx, store.Delta{Site: "a", ID: [16]byte{1}, Body: []byte("x")}); err != nil || a.Seq != 202 {
		t.Errorf("append after reopening = %+v, %v", a, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Compact after Close: %v, want ErrClosed", err)
	}
}

// openBench opens a new store for a benchmark, closed with it.
func openBench(b *testing.B, opts ...bolt.Option) *bolt.DB {
	b.Helper()
	db, err := bolt.Open(filepath.Join(b.TempDir(), "tailor.db"), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkCompact measures compacting a store of 100,000 deltas of 400
// bytes after retiring half of them: what the retention job pays, with
// appends waiting, after each run that deleted deltas.
func BenchmarkCompact(b *testing.B) {
	ctx := context.Background()
	db := openBench(b)
	const n = 100_000
	body := bytes.Repeat([]byte{0xa5}, 400)
	var wg sync.WaitGroup
	for w := range 64 { // concurrent appends share commits
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 64 {
				d := store.Delta{Site: "a", Received: time.Now(), Body: body}
				copy(d.ID[:], fmt.Sprintf("id-%013d", i))
				if _, err := db.Append(ctx, d); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if _, err := db.Retire(ctx, "a", 0, store.Base{Through: n / 2}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := db.Compact(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if st, err := os.Stat(db.Path()); err == nil {
		b.ReportMetric(float64(st.Size())/(1<<20), "MB")
	}
}

// TestCoarsenOldRecords: a store written before arrival times were kept to
// the hour has them coarsened when opened, once, and nothing of the exact
// times stays in the file.
func TestCoarsenOldRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tailor.db")
	exact := time.Date(2026, 11, 30, 14, 37, 12, 345678901, time.UTC)
	old, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 12_000 // more than one migration batch
	err = old.Update(func(tx *bbolt.Tx) error {
		ds, err := tx.CreateBucket([]byte("deltas"))
		if err != nil {
			return err
		}
		site, err := ds.CreateBucket([]byte("a"))
		if err != nil {
			return err
		}
		for i := range n {
			rec := make([]byte, 28, 32)
			copy(rec, fmt.Sprintf("id-%013d", i))
			binary.BigEndian.PutUint64(rec[20:], uint64(exact.Add(time.Duration(i)*time.Millisecond).UnixNano()))
			rec = append(rec, "body"...)
			seq, _ := site.NextSequence()
			if err := site.Put(binary.BigEndian.AppendUint64(nil, seq), rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := db.Deltas(context.Background(), "a", 0, 2*n)
	if err != nil || len(ds) != n {
		t.Fatalf("%d deltas, %v", len(ds), err)
	}
	for _, d := range ds {
		if !d.Received.Equal(store.Coarse(exact)) {
			t.Fatalf("delta %d received %v, want %v", d.Seq, d.Received, store.Coarse(exact))
		}
	}
	db.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	times := map[uint64]bool{}
	for i := range n {
		times[uint64(exact.Add(time.Duration(i)*time.Millisecond).UnixNano())] = true
	}
	left := 0
	for i := 0; i+8 <= len(raw); i++ {
		if times[binary.BigEndian.Uint64(raw[i:])] {
			left++
		}
	}
	if left > 0 {
		t.Errorf("the exact times of %d deltas are still in the file", left)
	}
	if db, err = bolt.Open(path); err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// BenchmarkAppend measures appends of 1,200-byte deltas with random ids
// from 32 concurrent writers, each waiting for its own durable commit,
// with the journal (the default) and without (each group a bbolt
// transaction). It reports appends/s and the p99 latency.
func BenchmarkAppend(b *testing.B) {
	for _, tc := range []struct {
		name string
		opt  bolt.Option
	}{{"journal", bolt.WithJournal(4 << 20)}, {"no journal", bolt.WithJournal(0)}} {
		b.Run(tc.name, func(b *testing.B) {
			db := openBench(b, tc.opt)
			body := make([]byte, 1200)
			var next, ids atomic.Uint64
			lat := make([][]time.Duration, 32)
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range lat {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= uint64(b.N) {
						d := store.Delta{Site: "a", Body: body, Received: time.Now()}
						binary.BigEndian.PutUint64(d.ID[:], ids.Add(1)*0x9E3779B97F4A7C15) // spread like random ids
						t := time.Now()
						if _, err := db.Append(context.Background(), d); err != nil {
							b.Error(err)
							return
						}
						lat[w] = append(lat[w], time.Since(t))
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			all := slices.Sorted(slices.Values(slices.Concat(lat...)))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// BenchmarkDeltasNew measures what the aggregator asks after each group
// of appends: the deltas after the last one it folded, of its site (one
// new delta) and of two sites with nothing new.
func BenchmarkDeltasNew(b *testing.B) {
	ctx := context.Background()
	db := openBench(b)
	body := make([]byte, 1200)
	for _, site := range []string{"a", "b", "c"} {
		d := store.Delta{Site: site, Body: body, Received: time.Now()}
		copy(d.ID[:], site)
		if _, err := db.Append(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		ds, err := db.Deltas(ctx, "a", 0, 1000)
		if err != nil || len(ds) != 1 {
			b.Fatal(len(ds), err)
		}
		for _, site := range []string{"b", "c"} {
			if ds, err := db.Deltas(ctx, site, 1, 1000); err != nil || len(ds) != 0 {
				b.Fatal(len(ds), err)
			}
		}
	}
}
