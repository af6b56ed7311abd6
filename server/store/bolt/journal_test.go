package bolt

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/store"
	bbolt "go.etcd.io/bbolt"
)

// crash stops the store as a killed process would: the journal is not
// copied into the file, nothing more is written.
func (s *DB) crash(t *testing.T) {
	t.Helper()
	s.appends.Close()
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if s.copying != nil {
		<-s.copying // a process killed meanwhile: the replay test covers a half copied but not reset
	}
	s.closeJournal()
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// mustOpen opens the store at path or fails the test.
func mustOpen(t *testing.T, path string, opts ...Option) *DB {
	t.Helper()
	db, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func journalDelta(site string, i int) store.Delta {
	d := store.Delta{Site: site, Received: time.Now(), Body: fmt.Appendf(nil, "body-%s-%d", site, i)}
	copy(d.ID[:], fmt.Sprintf("%s-%013d", site[:1], i))
	return d
}

// TestJournalReplay: what a crash leaves in the journal only (every
// append answered, none copied into the file) is in the store when it is
// opened again, at the same Seq; a torn last record is not; deltas
// copied and then retired before the crash do not come back.
func TestJournalReplay(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tailor.db")
	db := mustOpen(t, path)
	for i := range 10 { // copied into the file by Retire, which deletes 1..5
		if _, err := db.Append(ctx, journalDelta("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.Retire(ctx, "a", 0, store.Base{Through: 5}); err != nil || n != 5 {
		t.Fatalf("Retire = %d, %v", n, err)
	}
	var wg sync.WaitGroup
	for w := range 4 { // journalled only: 10 more of a, 10 of b
		wg.Go(func() {
			for i := w * 5; i < w*5+5; i++ {
				site, n := "a", 10+i
				if i >= 10 {
					site, n = "b", i-10
				}
				if _, err := db.Append(ctx, journalDelta(site, n)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if len(db.pending["a"]) != 10 || len(db.pending["b"]) != 10 {
		t.Fatalf("pending %d and %d deltas, want 10 and 10 (the test needs them in the journal only)", len(db.pending["a"]), len(db.pending["b"]))
	}
	want := map[string][]store.Delta{}
	for _, site := range []string{"a", "b"} {
		ds, err := db.Deltas(ctx, site, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		want[site] = ds
	}
	db.crash(t)

	check := func(db *DB, site string, want []store.Delta) {
		t.Helper()
		got, err := db.Deltas(ctx, site, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d deltas after the crash, want %d", site, len(got), len(want))
		}
		for i := range got {
			if got[i].Seq != want[i].Seq || got[i].ID != want[i].ID || !bytes.Equal(got[i].Body, want[i].Body) {
				t.Errorf("%s: delta %d = %d %q, want %d %q", site, i, got[i].Seq, got[i].Body, want[i].Seq, want[i].Body)
			}
		}
	}
	// Tear the last record: flip its last byte.
	raw, err := os.ReadFile(path + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.LastIndex(raw, []byte("body-"))
	end += bytes.IndexByte(raw[end:], 0) - 1
	var torn store.Delta
	for _, site := range []string{"a", "b"} {
		for i, d := range want[site] {
			if bytes.HasSuffix(raw[:end+1], d.Body) {
				torn = d
				want[site] = append(want[site][:i:i], want[site][i+1:]...)
			}
		}
	}
	if torn.Seq == 0 {
		t.Fatal("the last record of the journal is none of the deltas")
	}
	raw[end] ^= 0xff
	if err := os.WriteFile(path+".journal", raw, 0o600); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check(db, "a", want["a"])
	check(db, "b", want["b"])
	// The replayed deltas are known to the duplicate check, the torn one
	// is not, and new ones follow the replayed Seqs.
	if a, err := db.Append(ctx, want["a"][len(want["a"])-1]); err != nil || !a.Duplicate {
		t.Errorf("retry of a replayed delta = %+v, %v", a, err)
	}
	if a, err := db.Append(ctx, torn); err != nil || a.Duplicate {
		t.Errorf("retry of the torn delta = %+v, %v", a, err)
	}
	if a, err := db.Append(ctx, journalDelta("b", 99)); err != nil || a.Seq != 11 {
		t.Errorf("new delta of b = %+v, %v; want Seq 11", a, err)
	}
}

// TestJournalFull: groups larger than what the journal has left are
// copied first, and a group larger than the whole journal goes straight to
// the file; Seqs stay in order and every delta is read back.
func TestJournalFull(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, filepath.Join(t.TempDir(), "tailor.db"), WithJournal(300))
	defer db.Close()
	for i := range 50 {
		d := journalDelta("a", i)
		if i%7 == 0 {
			d.Body = bytes.Repeat([]byte{byte(i)}, 400) // larger than the journal
		}
		if a, err := db.Append(ctx, d); err != nil || a.Seq != uint64(i+1) {
			t.Fatalf("append %d = %+v, %v", i, a, err)
		}
	}
	ds, err := db.Deltas(ctx, "a", 0, 100)
	if err != nil || len(ds) != 50 {
		t.Fatalf("Deltas = %d, %v", len(ds), err)
	}
	for i, d := range ds {
		if d.Seq != uint64(i+1) || d.ID != journalDelta("a", i).ID {
			t.Errorf("delta %d: Seq %d id %q", i, d.Seq, d.ID)
		}
	}
}

// TestJournalHammer: appends with a journal so small that its halves
// rotate every few groups, each copied into the file in the background,
// while readers read: every read is in Seq order without a repeat, never
// loses what an earlier read saw, and in the end every acknowledged delta
// is there once, at the Seq its append returned, also after a crash.
func TestJournalHammer(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tailor.db")
	db := mustOpen(t, path, WithJournal(4<<10))
	const writers, each = 8, 100
	seqs := make([][]uint64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				d := journalDelta("a", w*each+i)
				if i%10 == 9 { // a retry: the same delta again
					d = journalDelta("a", w*each+i-1)
				}
				a, err := db.Append(ctx, d)
				if err != nil {
					t.Error(err)
					return
				}
				if i%10 == 9 {
					if !a.Duplicate || a.Seq != seqs[w][len(seqs[w])-1] {
						t.Errorf("retry = %+v, want a duplicate of %d", a, seqs[w][len(seqs[w])-1])
					}
					continue
				}
				seqs[w] = append(seqs[w], a.Seq)
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			seen := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				ds, err := db.Deltas(ctx, "a", 0, 1<<20)
				if err != nil {
					t.Error(err)
					return
				}
				for i := range ds {
					if i > 0 && ds[i].Seq <= ds[i-1].Seq {
						t.Errorf("Deltas: Seq %d after %d", ds[i].Seq, ds[i-1].Seq)
						return
					}
				}
				if len(ds) < seen {
					t.Errorf("Deltas: %d deltas after %d", len(ds), seen)
					return
				}
				seen = len(ds)
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	want := map[uint64][16]byte{}
	for w := range writers {
		for k, seq := range seqs[w] {
			i := w*each + k + k/9 // the index of the k-th delta that was not a retry
			want[seq] = journalDelta("a", i).ID
		}
	}
	check := func(db *DB) {
		t.Helper()
		ds, err := db.Deltas(ctx, "a", 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != len(want) {
			t.Fatalf("%d deltas, want %d", len(ds), len(want))
		}
		for _, d := range ds {
			if id, ok := want[d.Seq]; !ok || id != d.ID {
				t.Fatalf("Seq %d holds %q, want %q", d.Seq, d.ID, id)
			}
		}
	}
	check(db)
	db.crash(t)
	db = mustOpen(t, path, WithJournal(4<<10))
	defer db.Close()
	check(db)
}

// TestJournalCopiedNotReset: a crash after a half was copied into the
// file but before its reset replays nothing twice.
func TestJournalCopiedNotReset(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tailor.db")
	db := mustOpen(t, path)
	for i := range 5 {
		if _, err := db.Append(ctx, journalDelta("a", i)); err != nil {
			t.Fatal(err)
		}
	}
	db.jmu.Lock()
	j := db.journals[db.active]
	err := db.update(func(tx *bbolt.Tx) error { // copyHalf without its reset
		for i := range j.recs {
			if err := putRecord(tx.Bucket(bucketIDs), tx.Bucket(bucketDeltas), &j.recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	db.jmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	db.crash(t)
	db = mustOpen(t, path)
	defer db.Close()
	ds, err := db.Deltas(ctx, "a", 0, 100)
	if err != nil || len(ds) != 5 {
		t.Fatalf("Deltas = %d, %v; want 5", len(ds), err)
	}
	if a, err := db.Append(ctx, journalDelta("a", 5)); err != nil || a.Seq != 6 {
		t.Errorf("next append = %+v, %v; want Seq 6", a, err)
	}
}

// TestJournalResized: what a crash left in a journal is replayed by an
// Open with another journal size (or none), which then resizes the file.
func TestJournalResized(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int64{64 << 10, 0} {
		path := filepath.Join(t.TempDir(), "tailor.db")
		db := mustOpen(t, path, WithJournal(16<<10))
		for i := range 20 {
			if _, err := db.Append(ctx, journalDelta("a", i)); err != nil {
				t.Fatal(err)
			}
		}
		db.crash(t)
		db = mustOpen(t, path, WithJournal(size))
		ds, err := db.Deltas(ctx, "a", 0, 100)
		if err != nil || len(ds) != 20 || ds[19].Seq != 20 {
			t.Errorf("journal %d: Deltas = %d, %v; want 20", size, len(ds), err)
		}
		if a, err := db.Append(ctx, journalDelta("a", 20)); err != nil || a.Seq != 21 {
			t.Errorf("journal %d: next append = %+v, %v; want Seq 21", size, a, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if size > 0 {
			if info, err := os.Stat(path + ".journal"); err != nil || info.Size() != size {
				t.Errorf("journal %d: the file is %v, %v", size, info, err)
			}
		}
	}
}

// TestDeltasFollow: a reader that asks for what follows the last delta it
// saw, as the aggregator does, while appends rotate a small journal many
// times, sees every Seq once and in order (Deltas answers from memory
// past the first journalled delta and past the tail); after a reopen
// (tails read from the file) and the newest deltas deleted, it still
// reads what the file has.
func TestDeltasFollow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tailor.db")
	db := mustOpen(t, path, WithJournal(2<<10))
	const writers, each = 4, 150
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := db.Append(ctx, journalDelta("a", w*each+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	follow := func(db *DB, after uint64, limit int) uint64 {
		t.Helper()
		ds, err := db.Deltas(ctx, "a", after, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Seq != after+1 {
				t.Fatalf("Deltas after %d: Seq %d", after, d.Seq)
			}
			after = d.Seq
		}
		return after
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var seen uint64
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		default:
		}
		seen = follow(db, seen, 7)
	}
	if seen = follow(db, seen, 1<<20); seen != writers*each {
		t.Fatalf("followed to Seq %d, want %d", seen, writers*each)
	}
	if ds, err := db.Deltas(ctx, "none", 0, 10); err != nil || len(ds) != 0 {
		t.Fatalf("Deltas of a site without any = %d, %v", len(ds), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, path, WithJournal(2<<10))
	defer db.Close()
	if got := follow(db, 0, 1<<20); got != writers*each {
		t.Fatalf("after a reopen, followed to Seq %d, want %d", got, writers*each)
	}
	// Delete the newest deltas (all received this hour), append one: the
	// tail only moves up, and the file still answers below it.
	if _, err := db.DeleteReceived(ctx, "a", store.Coarse(time.Now()), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ds, err := db.Deltas(ctx, "a", 0, 10); err != nil || len(ds) != 0 {
		t.Fatalf("Deltas after deleting all = %d, %v", len(ds), err)
	}
	a, err := db.Append(ctx, journalDelta("a", writers*each))
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := db.Deltas(ctx, "a", 0, 10); err != nil || len(ds) != 1 || ds[0].Seq != a.Seq {
		t.Fatalf("Deltas after one more = %v, %v; want Seq %d", ds, err, a.Seq)
	}
}
