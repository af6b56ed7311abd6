// Package bolt is the embedded store.Store: one go.etcd.io/bbolt file in
// the server's data directory, fsynced on every commit (bbolt's default).
// It needs no setup, which is what `make demo` and single-replica
// deployments want.
//
//	db, err := bolt.Open(filepath.Join(dir, "tailor.db"))
//	defer db.Close()
//	a, err := db.Append(ctx, store.Delta{Site: "demo", ID: id, Body: body})
//
// Appends are group-committed: one writer goroutine takes every append
// waiting when it starts a commit and commits them together, so a burst of
// concurrent syncs shares one fsync instead of queueing for one each, and
// no append waits for a timer. A group is committed to a write-ahead
// journal beside the file (tailor.db.journal: one fdatasync, where a bbolt
// transaction takes two and rewrites a page per random id), and copied
// into the bbolt file many groups at a time (see journal.go). The next
// group is checked and written while the previous one's fdatasync runs
// (pipeline.go). Each Append still returns only after its own commit is
// durable; Open replays what a crash left in the journal.
//
// bbolt does not overwrite what a transaction deletes: the pages are
// freed, and keep their bytes until reused. So after Retire deletes old
// deltas, Compact rewrites the file without its free pages (into a
// temporary file, fsynced, renamed over the store's), and nothing of them
// remains in it.
//
// # Notes
//
// A DB is goroutine-safe. bbolt locks the file: a second process opening
// the same file waits up to the timeout (WithTimeout) and fails. Compact
// makes every other call wait while it runs.
package bolt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/groupcommit"
	bbolt "go.etcd.io/bbolt"
	bbolterrors "go.etcd.io/bbolt/errors"
)

// ErrLocked is Open's error when another process holds the file: a
// running server, for a tool.
var ErrLocked = errors.New("bolt: the store is open in another process")

// Bucket names. Sites have a nested bucket in deltas and versions.
var (
	bucketDeltas   = []byte("deltas")   // site → seq (8 bytes BE) → record
	bucketIDs      = []byte("ids")      // delta id (16 bytes) → sha256(body) + seq + site
	bucketVersions = []byte("versions") // site → number (4 bytes BE) → Version JSON
	bucketBlobs    = []byte("blobs")    // hash → bytes
	bucketState    = []byte("state")    // site → checkpoint of the latest version
	bucketBase     = []byte("base")     // site → through (8 bytes BE) + until Unix s (8 bytes BE) + base checkpoint
	bucketSettings = []byte("settings") // site → store.Settings JSON
)

// mmapSize is the address space the file is mapped with from the start:
// while the file fits in it, growing it maps nothing anew, and bbolt does
// not copy every node a write transaction holds out of the old mapping
// (measured: 15% of the bytes a sync allocated, while the journal's copies
// grew the file). It reserves address space only, not memory. The file
// then grows by allocSize at a time (bbolt's default, 16 MiB, would make
// a small store a large file).
const (
	mmapSize  = 1 << 30
	allocSize = 1 << 20
)

// openFile opens the store's bbolt file.
func openFile(path string, timeout time.Duration) (*bbolt.DB, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, InitialMmapSize: mmapSize})
	if err != nil {
		return nil, err
	}
	db.AllocSize = allocSize
	return db, nil
}

// compactTxSize bounds the size of one of Compact's copy transactions.
const compactTxSize = 64 << 20

// Option configures a DB.
type Option func(*options) error

type options struct {
	timeout  time.Duration
	maxBatch int
	journal  int64
}

// WithTimeout sets how long Open waits for another process's lock on the
// file (default 2s).
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("bolt: timeout %v must be positive", d)
		}
		o.timeout = d
		return nil
	}
}

// WithJournal sets the size of the write-ahead journal of appends in
// bytes (default 4 MiB): the more it holds, the fewer the copies into the
// bbolt file, each of which makes appends wait. 0 turns it off: each group
// of appends is then a bbolt transaction.
func WithJournal(n int64) Option {
	return func(o *options) error {
		if n < 0 || n > 1<<30 {
			return fmt.Errorf("bolt: journal of %d bytes: want 0 to 1 GiB", n)
		}
		o.journal = n
		return nil
	}
}

// WithMaxBatch bounds how many appends share one commit (default 1024).
func WithMaxBatch(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("bolt: max batch %d must be at least 1", n)
		}
		o.maxBatch = n
		return nil
	}
}

// DB is the bbolt store.
type DB struct {
	timeout time.Duration
	appends *groupcommit.Committer // also the store's open/closed state

	mu  sync.RWMutex // held for writing by Compact, which replaces db
	db  *bbolt.DB
	err error // why db could not be reopened after a compaction

	// The journal's state (journal.go). jmu is held by each group's
	// commit and by whatever waits for or makes a copy of the journal
	// into the file (lock order: jmu, pmu, mu).
	jmu      sync.Mutex
	journals [2]*journal                 // its halves; nil: groups commit to the file directly
	active   int                         // the half appends go to
	copying  chan struct{}               // closed when the background copy of the other half ends; nil: none
	copyErr  error                       // the background copy's, read once copying is closed
	jerr     error                       // a failed journal write or copy: appends fail (Open replays)
	next     map[string]uint64           // site → the last Seq given, once read from the file
	ids      map[[16]byte]store.Recorded // the journalled deltas' ids (staged too), until copied
	// Groups staged into the journal and not known durable yet, oldest
	// first (pipeline.go). The finishes run on groupcommit's goroutine,
	// without jmu; inflight counts those not done.
	staging  []*stagedGroup
	inflight sync.WaitGroup
	written  atomic.Uint64        // groups written into the journal, ever
	synced   uint64               // of those, how many a fdatasync covered (the finishing goroutine's)
	poisoned atomic.Bool          // a finish's fdatasync failed: the groups staged since fail too
	fsync    func(*os.File) error // fdatasync; tests make it block or fail
	syncF    *os.File             // the journal, opened again for the groups' fdatasyncs alone (pipeline.go)
	pmu      sync.RWMutex         // held for writing while pending or tail changes
	pending  map[string][]pendingRecord
	// tail is, per site, a Seq that none of its deltas exceeds: the
	// newest appended, or the file's newest at Open (0 for a site not
	// in it). Deletions leave it above what remains, which only makes
	// Deltas read the file. With it, the aggregator's frequent "what is
	// new?" reads no transaction: nothing after tail exists, and what
	// follows a journalled delta is in pending (see Deltas).
	tail map[string]uint64
}

// pendingRecord is a journalled delta not yet copied into the file.
type pendingRecord struct {
	seq    uint64
	record []byte // the delta's record (stage)
}

var _ store.Store = (*DB)(nil)

// Open opens or creates the store file at path.
func Open(path string, opts ...Option) (*DB, error) {
	o := options{timeout: 2 * time.Second, maxBatch: 1024, journal: 4 << 20}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	db, err := openFile(path, o.timeout)
	if errors.Is(err, bbolterrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: %w (waited %v for its lock)", path, ErrLocked, o.timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketDeltas, bucketIDs, bucketVersions, bucketBlobs, bucketState, bucketBase, bucketSettings} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: init %s: %w", path, err)
	}
	changed, err := coarsen(db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: keep the received times of %s to the hour: %w", path, err)
	}
	s := &DB{db: db, timeout: o.timeout, next: map[string]uint64{}, ids: map[[16]byte]store.Recorded{},
		pending: map[string][]pendingRecord{}, fsync: fdatasync}
	if err := s.openJournal(path+".journal", o.journal); err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: journal of %s: %w", path, err)
	}
	if s.tail, err = tails(db); err != nil {
		s.closeJournal()
		db.Close()
		return nil, fmt.Errorf("bolt: read %s: %w", path, err)
	}
	s.appends = groupcommit.NewPipelined(o.maxBatch, maxStaged, s.commit)
	if changed > 0 {
		if err := s.Compact(context.Background()); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Path returns the file the store lives in.
func (s *DB) Path() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Path()
}

// usable is the error of view and update without a transaction: why the
// file could not be reopened after a compaction, if it could not.
func (s *DB) usable() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.err
}

// view runs fn in a read transaction, update in a write transaction, while
// no compaction runs.
func (s *DB) view(fn func(*bbolt.Tx) error) error   { return s.tx(false, fn) }
func (s *DB) update(fn func(*bbolt.Tx) error) error { return s.tx(true, fn) }

func (s *DB) tx(writable bool, fn func(*bbolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.err != nil {
		return s.err
	}
	if writable {
		return s.db.Update(fn)
	}
	return s.db.View(fn)
}

// Append implements store.Store. The delta's sum and record are made
// here, by the caller's goroutine, not in the group's commit that every
// append of the group waits for; the group commit gets them as the Body
// (stage), which it need not copy.
func (s *DB) Append(ctx context.Context, d store.Delta) (store.Appended, error) {
	if err := d.Check(); err != nil {
		return store.Appended{}, fmt.Errorf("bolt: %w", err)
	}
	d.Received = store.Coarse(d.Received) // as the group commit would: the record holds it
	d.Body = stage(&d)
	return s.appends.AppendOwned(ctx, d)
}

// stage is the Body of a delta in a group commit: sha256(body), the
// duplicate check's, then the delta's record, which the
// journal writes and Deltas reads until the file has it. A record is
// recordHeader's fields, then the body.
func stage(d *store.Delta) []byte {
	b := make([]byte, sha256.Size+recordHeader, sha256.Size+recordHeader+len(d.Body))
	sum := sha256.Sum256(d.Body)
	copy(b, sum[:])
	putRecordHeader(b[sha256.Size:], d)
	return append(b, d.Body...)
}

// staged splits a staged Body into its sum and its record.
func staged(b []byte) (sum [sha256.Size]byte, record []byte) {
	copy(sum[:], b)
	return sum, b[sha256.Size:]
}

// commit stages a group (groupcommit calls it): into the journal, whose
// fdatasync its finish waits for, or straight into the file when there
// is no journal or the group is larger than a half of it.
func (s *DB) commit(batch []store.Delta) func() []groupcommit.Result {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if s.jerr == nil && s.poisoned.Load() {
		// A staged group's fdatasync failed: what it and the groups after
		// it wrote may be replayed. Undo them, copy the rest, new epochs.
		if err := s.flush(); err != nil {
			s.jerr = fmt.Errorf("bolt: append: %w", err)
		}
	}
	if s.jerr != nil {
		return now(failed(len(batch), s.jerr))
	}
	if s.journals[0] == nil {
		return now(s.commitFile(batch))
	}
	var n int64
	for i := range batch {
		_, record := staged(batch[i].Body)
		n += recordBytes(batch[i].Site, record)
		if len(batch[i].Site) > maxSiteLen {
			n = 1 << 62 // never fits: the file takes it
		}
	}
	if !s.journals[s.active].fits(n) {
		if err := s.rotate(); err != nil {
			s.jerr = fmt.Errorf("bolt: append: %w", err)
			return now(failed(len(batch), s.jerr))
		}
		if !s.journals[s.active].fits(n) { // larger than a half
			if err := s.flush(); err != nil {
				s.jerr = fmt.Errorf("bolt: append: %w", err)
				return now(failed(len(batch), s.jerr))
			}
			return now(s.commitFile(batch))
		}
	}
	return s.stageJournal(s.journals[s.active], batch)
}

// now is the finish of a group committed (or failed) when staged.
func now(res []groupcommit.Result) func() []groupcommit.Result {
	return func() []groupcommit.Result { return res }
}

// failed is the result of a group that failed as a whole.
func failed(n int, err error) []groupcommit.Result {
	res := make([]groupcommit.Result, n)
	for i := range res {
		res[i].Err = err
	}
	return res
}

// commitFile appends a group (of staged Bodies) in one bbolt
// transaction. Nothing is pending in the journal when it runs.
func (s *DB) commitFile(batch []store.Delta) []groupcommit.Result {
	clear(s.next) // the file's sequences move: read them again
	res := make([]groupcommit.Result, len(batch))
	err := s.update(func(tx *bbolt.Tx) error {
		ids := tx.Bucket(bucketIDs)
		deltas := tx.Bucket(bucketDeltas)
		for i := range batch {
			res[i] = groupcommit.Result{}
			d := &batch[i]
			sum, record := staged(d.Body)
			if v := ids.Get(d.ID[:]); v != nil {
				res[i] = again(recorded(v), d, sum)
				continue
			}
			siteLog, err := siteLog(deltas, d.Site)
			if err != nil {
				return err
			}
			seq, err := siteLog.NextSequence()
			if err != nil {
				return err
			}
			if err := siteLog.Put(u64(seq), record); err != nil {
				return err
			}
			if err := ids.Put(d.ID[:], idValue(sum, seq, d.Site)); err != nil {
				return err
			}
			res[i].Appended = store.Appended{Seq: seq}
		}
		return nil
	})
	if err != nil {
		for i := range res {
			res[i] = groupcommit.Result{Err: fmt.Errorf("bolt: append: %w", err)}
		}
		return res
	}
	s.pmu.Lock()
	for i := range batch {
		if a := res[i].Appended; res[i].Err == nil && !a.Duplicate {
			s.tail[batch[i].Site] = max(s.tail[batch[i].Site], a.Seq)
		}
	}
	s.pmu.Unlock()
	return res
}

// again is the result of appending d, whose body hashes to sum, when its
// id is recorded already as r (store.Recorded.Again).
func again(r store.Recorded, d *store.Delta, sum [sha256.Size]byte) groupcommit.Result {
	a, err := r.Again(d, sum)
	if err != nil {
		err = fmt.Errorf("bolt: %w", err)
	}
	return groupcommit.Result{Appended: a, Err: err}
}

// A record is id (16) + model (4) + received Unix ns (8) + body.
const recordHeader = 16 + 4 + 8

// putRecordHeader writes a record's header, of d, into b.
func putRecordHeader(b []byte, d *store.Delta) {
	copy(b, d.ID[:])
	binary.BigEndian.PutUint32(b[16:], d.Model)
	binary.BigEndian.PutUint64(b[20:], uint64(d.Received.UnixNano()))
}

func decodeRecord(site string, seq uint64, v []byte) (store.Delta, error) {
	if len(v) < recordHeader {
		return store.Delta{}, fmt.Errorf("bolt: delta %s/%d: record of %d bytes is corrupt", site, seq, len(v))
	}
	d := store.Delta{Seq: seq, Site: site, Model: binary.BigEndian.Uint32(v[16:]),
		Received: timeUnixNano(int64(binary.BigEndian.Uint64(v[20:]))),
		Body:     bytes.Clone(v[recordHeader:])}
	copy(d.ID[:], v)
	return d, nil
}

func timeUnixNano(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// tails reads the newest Seq of each site's log in the file.
func tails(db *bbolt.DB) (map[string]uint64, error) {
	tail := map[string]uint64{}
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDeltas).ForEachBucket(func(site []byte) error {
			if k, _ := tx.Bucket(bucketDeltas).Bucket(site).Cursor().Last(); k != nil {
				tail[string(site)] = binary.BigEndian.Uint64(k)
			}
			return nil
		})
	})
	return tail, err
}

// Deltas implements store.Store.
//
// Past the site's tail there is nothing to read; from the first
// journalled delta on, everything is in pending (a site's log in pending
// is the newest part of it, with no gap: Seqs are given in order, and a
// half is forgotten only once the file has it). Either way no bbolt
// transaction begins: the aggregator asks after every group of appends.
func (s *DB) Deltas(ctx context.Context, site string, after uint64, limit int) ([]store.Delta, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := store.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("bolt: %w", err)
	}
	var out []store.Delta
	s.pmu.RLock() // the file, then the journal's deltas (all after the file's)
	defer s.pmu.RUnlock()
	if err := s.usable(); err != nil {
		return nil, fmt.Errorf("bolt: deltas %s after %d: %w", site, after, err)
	}
	if after >= s.tail[site] {
		return nil, nil
	}
	if rs := s.pending[site]; len(rs) > 0 && after+1 >= rs[0].seq {
		out, err := s.pendingAfter(nil, site, after, limit)
		if err != nil {
			return nil, fmt.Errorf("bolt: deltas %s after %d: %w", site, after, err)
		}
		return out, nil
	}
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketDeltas).Bucket([]byte(site))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			d, err := decodeRecord(site, binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err == nil {
		out, err = s.pendingAfter(out, site, after, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: deltas %s after %d: %w", site, after, err)
	}
	return out, nil
}

// Publish implements store.Store.
func (s *DB) Publish(ctx context.Context, p store.Publication) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := p.Check(); err != nil {
		return fmt.Errorf("bolt: %w", err)
	}
	v := &p.Version
	js, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("bolt: publish %s v%d: %w", v.Site, v.Number, err)
	}
	err = s.update(func(tx *bbolt.Tx) error {
		vb, err := tx.Bucket(bucketVersions).CreateBucketIfNotExists([]byte(v.Site))
		if err != nil {
			return err
		}
		var latest uint32
		k, _ := vb.Cursor().Last()
		if k != nil {
			latest = binary.BigEndian.Uint32(k)
		}
		if err := v.Follows(latest, k != nil); err != nil {
			return err
		}
		blobs := tx.Bucket(bucketBlobs)
		add, err := p.NewBlobs(func(h string) bool { return blobs.Get([]byte(h)) != nil })
		if err != nil {
			return err
		}
		for _, h := range add {
			if err := blobs.Put([]byte(h), p.Blobs[h]); err != nil {
				return err
			}
		}
		if err := vb.Put(u32(v.Number), js); err != nil {
			return err
		}
		return tx.Bucket(bucketState).Put([]byte(v.Site), p.State)
	})
	if err != nil {
		return fmt.Errorf("bolt: publish %s v%d: %w", v.Site, v.Number, err)
	}
	return nil
}

// Latest implements store.Store.
func (s *DB) Latest(ctx context.Context, site string) (store.Version, error) {
	return s.version(ctx, site, nil)
}

// Version implements store.Store.
func (s *DB) Version(ctx context.Context, site string, n uint32) (store.Version, error) {
	return s.version(ctx, site, u32(n))
}

func (s *DB) version(ctx context.Context, site string, key []byte) (store.Version, error) {
	var v store.Version
	if err := s.check(ctx); err != nil {
		return v, err
	}
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketVersions).Bucket([]byte(site))
		if b == nil {
			return store.ErrNotFound
		}
		var js []byte
		if key == nil {
			_, js = b.Cursor().Last()
		} else {
			js = b.Get(key)
		}
		if js == nil {
			return store.ErrNotFound
		}
		return json.Unmarshal(js, &v)
	})
	if err != nil {
		what := "latest"
		if key != nil {
			what = fmt.Sprintf("v%d", binary.BigEndian.Uint32(key))
		}
		return store.Version{}, fmt.Errorf("bolt: version %s %s: %w", site, what, err)
	}
	return v, nil
}

// Blob implements store.Store.
func (s *DB) Blob(ctx context.Context, hash string) ([]byte, error) {
	return s.get(ctx, bucketBlobs, hash, "blob")
}

// State implements store.Store.
func (s *DB) State(ctx context.Context, site string) ([]byte, error) {
	return s.get(ctx, bucketState, site, "state")
}

func (s *DB) get(ctx context.Context, bucket []byte, key, what string) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []byte
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucket).Get([]byte(key))
		if v == nil {
			return store.ErrNotFound
		}
		out = bytes.Clone(v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: %s %.16s: %w", what, key, err)
	}
	return out, nil
}

// check fails when ctx is done or the store is closed.
func (s *DB) check(ctx context.Context) error { return s.appends.Check(ctx) }

// Close waits for appends in flight to commit, copies the journal into
// the file, then closes both.
func (s *DB) Close() error {
	if !s.appends.Close() {
		return nil
	}
	s.jmu.Lock()
	var jerr error
	if s.journals[0] != nil {
		jerr = s.flush() // on failure, the next Open replays the journal
		if err := s.closeJournal(); jerr == nil && err != nil {
			jerr = err
		}
	}
	s.jmu.Unlock()
	if jerr != nil {
		jerr = fmt.Errorf("bolt: close: %w", jerr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return jerr // no file open
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close: %w", err)
	}
	return jerr
}
