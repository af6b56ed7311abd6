// Package store is the Tailor server's durable state behind one small
// interface: the log of accepted profile deltas, and the immutable model
// versions published from them with their content-addressed blobs (weight
// shards, site configurations) and the aggregation checkpoint each version
// was built from.
//
// The embedded implementation (package bolt) needs no setup; a PostgreSQL
// implementation for more than one replica goes behind the same interface.
// Both must pass the contract suite in package storetest:
//
//	func TestContract(t *testing.T) { storetest.Run(t, newStore) }
//
// # Notes
//
// Implementations are goroutine-safe. Append returns only once the delta is
// durable: the server answers 202 Accepted after it. Versions and blobs are
// immutable once published; a Version or a blob slice returned by a Store
// is the caller's to keep and must not be modified.
//
// Deltas do not stay forever. The store records when each arrived only to
// the hour (Coarse): the exact time of a sync is timing data the operator
// has no use for. Once a delta is older than the retention window and in a
// published version, the aggregator folds it into the site's Base, the
// aggregate of every delta deleted so far, and Retire stores that base and
// deletes the deltas in one transaction; so the aggregate can always be
// rebuilt as the base plus the deltas still stored, which is how an
// operator's purge (DeleteReceived) takes a time window's deltas out of the
// model.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Errors of every Store implementation, wrapped with context.
var (
	ErrNotFound       = errors.New("store: not found")
	ErrConflict       = errors.New("store: delta id already recorded with different content")
	ErrVersionExists  = errors.New("store: version already published")
	ErrVersionGap     = errors.New("store: version does not follow the latest")
	ErrHashMismatch   = errors.New("store: blob does not match its hash")
	ErrMissingBlob    = errors.New("store: version refers to a blob not given nor stored")
	ErrClosed         = errors.New("store: closed")
	ErrInvalidRequest = errors.New("store: invalid request")
	ErrBaseMoved      = errors.New("store: the base checkpoint moved since it was read")
	ErrRetired        = errors.New("store: the window reaches deltas already folded into the base and deleted")
	ErrSettingsMoved  = errors.New("store: the site's settings changed since they were read")
)

// Granularity is how precisely the store records when a delta arrived.
const Granularity = time.Hour

// Coarse returns t in UTC, truncated to the Granularity: what the store
// records of a delta's Received time. Every store applies it in Append.
func Coarse(t time.Time) time.Time { return t.UTC().Truncate(Granularity) }

// Delta is one accepted profile delta: its validated, re-encoded msgpack
// body and what the server indexes it by.
type Delta struct {
	Seq      uint64    // position in its site's log, from 1; set by Append
	Site     string    // site key
	ID       [16]byte  // chosen by the device; the idempotency key
	Model    uint32    // the model version the device held
	Received time.Time // when the server accepted it; stored Coarse
	Body     []byte    // the encoded wire.Delta
}

// Base is a site's base checkpoint: the aggregate of the deltas that
// retention deleted, all those with Seq <= Through. A site without one has
// the zero Base.
type Base struct {
	Through uint64    // the last Seq folded into it; no delta up to it is stored
	Until   time.Time // the newest (Coarse) Received time among them
	State   []byte    // the aggregator's checkpoint of them; empty for none
}

// Check is Append's rule for a delta, before a store writes it: a site
// and a body.
func (d *Delta) Check() error {
	if d.Site == "" || len(d.Body) == 0 {
		return fmt.Errorf("append: %w: delta without site or body", ErrInvalidRequest)
	}
	return nil
}

// CheckLimit is Deltas' rule for its limit: at least one.
func CheckLimit(limit int) error {
	if limit <= 0 {
		return fmt.Errorf("deltas: %w: limit %d", ErrInvalidRequest, limit)
	}
	return nil
}

// CheckRetire is Retire's rule for a request, before a store reads
// anything: a site, and a base that does not move back from prev.
func CheckRetire(site string, prev uint64, b Base) error {
	if site == "" || b.Through < prev {
		return fmt.Errorf("retire %s through %d: %w: after %d", site, b.Through, ErrInvalidRequest, prev)
	}
	return nil
}

// Still is Retire's rule for the stored base b, read in the transaction
// that replaces it: it is still the one the caller read (through prev),
// else ErrBaseMoved, so that two aggregators cannot undo each other's
// work.
func (b Base) Still(prev uint64) error {
	if b.Through != prev {
		return fmt.Errorf("%w: through %d, not %d", ErrBaseMoved, b.Through, prev)
	}
	return nil
}

// Reaches is DeleteReceived's rule for the stored base b, read in the
// transaction that deletes: a window starting no later than the newest
// arrival folded into b would miss deltas already deleted (ErrRetired).
func (b Base) Reaches(from time.Time) error {
	if b.Through > 0 && !from.After(b.Until) {
		return fmt.Errorf("%w (the base holds deltas received until %s)", ErrRetired, b.Until.Format(time.RFC3339))
	}
	return nil
}

// Appended is what Append did.
type Appended struct {
	Seq       uint64 // the delta's position in its site's log
	Duplicate bool   // the same delta was recorded before: nothing was written
}

// Recorded is what a store keeps of an appended delta, by its ID, for
// Append's idempotency rule (Again).
type Recorded struct {
	Sum  [sha256.Size]byte // SHA-256 of its Body
	Seq  uint64
	Site string
}

// Again is Append's rule for a delta d, whose Body hashes to sum, when
// its ID is recorded already as r: with the same site and body it is a
// retry, a duplicate answered with r's Seq, for which nothing is written;
// with another site or body it is ErrConflict. Every store calls it, on
// the ids it holds and on an id given twice in one group of appends.
func (r *Recorded) Again(d *Delta, sum [sha256.Size]byte) (Appended, error) {
	if r.Site != d.Site || r.Sum != sum {
		return Appended{}, fmt.Errorf("append %x: %w", d.ID, ErrConflict)
	}
	return Appended{Seq: r.Seq, Duplicate: true}, nil
}

// Version is one published model version of a site. Everything it refers
// to is immutable.
type Version struct {
	Site    string    `json:"site"`
	Number  uint32    `json:"number"`  // 0 is the empty model
	Created time.Time `json:"created"` // when it was published
	Deltas  uint64    `json:"deltas"`  // deltas folded into it, in total
	New     uint64    `json:"new"`     // deltas folded since the previous version
	Cursor  uint64    `json:"cursor"`  // the last delta Seq folded into it
	Shards  []Shard   `json:"shards"`  // in shard order
	Config  string    `json:"config"`  // hash of the encoded wire.Config blob
	Bytes   int       `json:"bytes"`   // total bytes of its shards
	Privacy Privacy   `json:"privacy"` // how it was aggregated
}

// Shard is one shard of a version's weights.
type Shard struct {
	Index   int    `json:"index"`
	Version uint32 `json:"version"` // the version whose content it carries: unchanged shards keep it, and their hash
	Hash    string `json:"hash"`    // of the encoded wire.Weights blob
	Bytes   int    `json:"bytes"`
	// Head marks the shard of the most popular items, which every device
	// fetches (a cold page ranks by popularity); its Index follows the
	// shards by wire.ShardOf, and those leave its items out.
	Head bool `json:"head,omitempty"`
}

// Privacy records the defences and noise a version was aggregated with,
// so that each version states its privacy parameters.
type Privacy struct {
	MinCohort  int     `json:"min_cohort"`          // distinct deltas a pair or item needs before it is published
	ClipWeight float64 `json:"clip_weight"`         // what one delta's entry counts (binary counting)
	ClipItem   float64 `json:"clip_item"`           // bound on one delta's pairs into (and out of) any one item
	ClipL1     float64 `json:"clip_l1"`             // bound on the L1 norm of one delta's pairs (and of its items)
	HalfLife   string  `json:"half_life,omitempty"` // decay of the sums (a Go duration; "0s": none)
	Noise      string  `json:"noise"`               // "none" or "gaussian" (central DP)
	// With central DP: the (Epsilon, Delta)-DP guarantee of all the
	// versions published in the Window up to this one (zCDP composition
	// of each release's Rho), the Gaussian noise's standard deviation
	// (Scale) on each released sum, and the noisy sum a key needed to be
	// published (Threshold).
	Epsilon   float64 `json:"epsilon,omitempty"`
	Delta     float64 `json:"delta,omitempty"`
	Scale     float64 `json:"scale,omitempty"`
	Rho       float64 `json:"rho,omitempty"`
	Window    string  `json:"window,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
}

// Follows applies the version-sequence rule every store enforces when it
// publishes v: a site's versions are numbered 0, 1, 2, ... without a gap.
// latest is the site's newest stored number, has whether it has any.
// Publishing the same number twice fails with ErrVersionExists (two
// publishers raced), skipping one with ErrVersionGap.
func (v *Version) Follows(latest uint32, has bool) error {
	switch {
	case !has && v.Number != 0:
		return fmt.Errorf("%w: v%d is the site's first", ErrVersionGap, v.Number)
	case has && v.Number <= latest:
		return fmt.Errorf("%w: latest is v%d", ErrVersionExists, latest)
	case has && v.Number != latest+1:
		return fmt.Errorf("%w: latest is v%d", ErrVersionGap, latest)
	}
	return nil
}

// Blobs returns the hashes of the blobs v refers to, each of which must
// be stored when v is: its configuration's, then its shards' in order
// (unchanged shards refer to an earlier version's blob).
func (v *Version) Blobs() []string {
	refs := make([]string, 0, 1+len(v.Shards))
	refs = append(refs, v.Config)
	for _, sh := range v.Shards {
		refs = append(refs, sh.Hash)
	}
	return refs
}

// Publication is a new version with the blobs it introduces and the
// aggregation checkpoint it was built from.
type Publication struct {
	Version Version
	Blobs   map[string][]byte // by Hash; blobs already stored may be left out
	State   []byte            // the aggregator's checkpoint at Version.Cursor
}

// Check validates a publication before a store writes it: a site, and
// blobs whose content matches their hash. Every store calls it.
func (p *Publication) Check() error {
	v := &p.Version
	if v.Site == "" {
		return fmt.Errorf("publish: %w: version without site", ErrInvalidRequest)
	}
	for h, b := range p.Blobs {
		if Hash(b) != h {
			return fmt.Errorf("publish %s v%d: blob %.12s: %w", v.Site, v.Number, h, ErrHashMismatch)
		}
	}
	return nil
}

// NewBlobs is Publish's rule for blobs, applied once the store can say
// which it holds: every blob the version refers to (Version.Blobs) is
// stored already or given, else ErrMissingBlob. It returns the hashes of
// the given blobs to store, each once, in the version's order; a blob
// stored already is not written again. Every store calls it within its
// transaction.
func (p *Publication) NewBlobs(stored func(hash string) bool) ([]string, error) {
	var add []string
	for _, h := range p.Version.Blobs() {
		if slices.Contains(add, h) || stored(h) {
			continue
		}
		if _, ok := p.Blobs[h]; !ok {
			return nil, fmt.Errorf("%w: %.12s", ErrMissingBlob, h)
		}
		add = append(add, h)
	}
	return add, nil
}

// Settings are a site's levers, set by its owner in the console: kept in
// the store, not in a replica's memory, so that they survive a restart and
// every replica sharing the store applies them. Each change of a lever
// appends to Audit in the same write.
type Settings struct {
	Rev    uint64       `json:"rev"`    // bumped by each PutSettings; 0: never written
	Pinned bool         `json:"pinned"` // devices get version Pin, not the newest
	Pin    uint32       `json:"pin"`
	Paused bool         `json:"paused"` // no new version is published
	Audit  []AuditEntry `json:"audit"`  // oldest first, at most MaxAudit
	// Config is the owner's edit of the site's rules and slot settings
	// (package site's Edit, as JSON), which the aggregator publishes as a
	// configuration version; nil: the --sites file's.
	Config json.RawMessage `json:"config,omitempty"`
}

// MaxAudit bounds a site's audit log: the newest entries are kept.
const MaxAudit = 200

// AuditEntry is one lever pulled.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Who    string    `json:"who"`    // "admin" or "owner": a token is a role, not a person
	Action string    `json:"action"` // pin, unpin, pause, resume, purge, rules
	Detail string    `json:"detail"`
}

// Log appends an entry to the audit log, dropping the oldest past MaxAudit.
func (s *Settings) Log(e AuditEntry) {
	s.Audit = append(s.Audit, e)
	if n := len(s.Audit) - MaxAudit; n > 0 {
		s.Audit = append([]AuditEntry(nil), s.Audit[n:]...)
	}
}

// NextSettings is PutSettings' rule, before a store writes: a site, and
// what is stored (body) is s one revision on, as JSON, written only while
// the stored settings are still at prev, the s.Rev the caller read.
func NextSettings(site string, s Settings) (body []byte, prev uint64, err error) {
	if site == "" {
		return nil, 0, fmt.Errorf("put settings: %w: no site", ErrInvalidRequest)
	}
	prev = s.Rev
	s.Rev++
	if body, err = json.Marshal(&s); err != nil {
		return nil, 0, fmt.Errorf("put settings %s: %w", site, err)
	}
	return body, prev, nil
}

// Store is durable server state. See the package documentation.
type Store interface {
	// Append durably records an accepted delta, idempotently by its ID: a
	// retry with the same body returns the recorded Seq with Duplicate set
	// and writes nothing; the same ID with another body fails with
	// ErrConflict. It records d.Received Coarse, and does not retain
	// d.Body. When ctx ends first, the delta may or may not have been
	// recorded: a retry tells.
	Append(ctx context.Context, d Delta) (Appended, error)

	// Deltas returns up to limit deltas of a site with Seq > after, in Seq
	// order.
	Deltas(ctx context.Context, site string, after uint64, limit int) ([]Delta, error)

	// Publish records a new version of a site atomically with its blobs and
	// checkpoint. Its Number must follow the latest (Version.Follows), every
	// blob it refers to must be given or already stored
	// (Publication.NewBlobs, ErrMissingBlob), and given blobs must match
	// their hashes (ErrHashMismatch).
	Publish(ctx context.Context, p Publication) error

	// Latest returns a site's newest version, or ErrNotFound.
	Latest(ctx context.Context, site string) (Version, error)

	// Version returns a site's version n, or ErrNotFound.
	Version(ctx context.Context, site string, n uint32) (Version, error)

	// Blob returns a blob by its hash, or ErrNotFound.
	Blob(ctx context.Context, hash string) ([]byte, error)

	// State returns the checkpoint stored with a site's latest version, or
	// ErrNotFound.
	State(ctx context.Context, site string) ([]byte, error)

	// Base returns a site's base checkpoint (the zero Base if it has none).
	Base(ctx context.Context, site string) (Base, error)

	// Retire stores b as a site's base and deletes the site's deltas with
	// Seq <= b.Through (and their idempotency records), in one transaction,
	// and returns how many it deleted. It fails with ErrBaseMoved unless
	// the stored base's Through is prev (so two aggregators cannot undo
	// each other's work), and with ErrInvalidRequest unless b.Through >=
	// prev. A delta retried after Retire deleted it is recorded anew.
	Retire(ctx context.Context, site string, prev uint64, b Base) (int, error)

	// DeleteReceived deletes a site's deltas whose (Coarse) Received time
	// is in [from, to), and returns how many. It fails with ErrRetired,
	// deleting nothing, when from is not after the base's Until: some
	// deltas of the window may be in the base already, beyond reach.
	DeleteReceived(ctx context.Context, site string, from, to time.Time) (int, error)

	// Settings returns a site's settings (the zero Settings if none were
	// written).
	Settings(ctx context.Context, site string) (Settings, error)

	// PutSettings stores s as a site's settings with Rev s.Rev+1, if the
	// stored ones still have Rev s.Rev (read, change, put: two replicas
	// cannot undo each other's change), else fails with ErrSettingsMoved.
	PutSettings(ctx context.Context, site string, s Settings) error

	// Close flushes and releases the store. Calls after Close fail with
	// ErrClosed.
	Close() error
}

// Compactor is a Store whose deletions leave the deleted bytes in the
// file's free pages until it is compacted (the embedded store). Retention
// compacts it after deleting, so that nothing of a deleted delta remains.
type Compactor interface {
	// Compact rewrites the store without its free pages. Appends and reads
	// wait while it runs.
	Compact(ctx context.Context) error
}

// Hash returns the content address of a blob: lowercase hex SHA-256.
func Hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// ValidHash reports whether s has the form of a Hash.
func ValidHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
