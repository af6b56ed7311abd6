// Package postgres is the store.Store of several Tailor replicas sharing
// one PostgreSQL database, with github.com/jackc/pgx/v5. It also elects
// the one replica that aggregates (Campaign) and tells the others of new
// versions (Watch).
//
//	db, err := postgres.Open(ctx, "postgres://tailor@db.internal/tailor")
//	defer db.Close()
//	a, err := db.Append(ctx, store.Delta{Site: "demo", ID: id, Body: body})
//
// Open applies the schema migrations the database lacks, each once, in a
// transaction, recorded in schema_migrations; replicas starting together
// take turns.
//
// Appends are group-committed as in the embedded store: one writer
// goroutine per DB takes every append waiting, looks their ids up, and
// appends each site's new deltas in one statement (one round trip, one
// transaction); each Append returns only once that commit is durable
// (synchronous_commit is forced on for the store's sessions). The
// statement locks the site's sequence row to number the deltas and holds
// it until they commit, so deltas become visible in Seq order on every
// replica: the aggregator, which folds in Seq order from a cursor, can
// never skip one that commits late. The price: one site's commits are
// serialized across replicas (each carries every delta that waited). The
// delta id is unique: a retry with the same body answers Duplicate,
// another body ErrConflict, whichever replica it reaches.
//
// Versions, their blobs and deltas are immutable: a trigger refuses
// updates. Publish inserts the version under its primary key (site,
// number), so of two replicas publishing the same number one fails with
// store.ErrVersionExists, and notifies the channel Watch listens on when
// it commits.
//
// # Notes
//
// A DB is goroutine-safe. Close waits for the appends in flight. Campaign
// and Watch hold a connection each, outside the pool, for as long as they
// run: behind a connection pooler, point them at session pooling.
package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/groupcommit"
)

// Errors of the package, besides store's.
var (
	ErrSchema = errors.New("postgres: unsupported schema")
	ErrURL    = errors.New("postgres: invalid connection URL")
)

// versionsChannel is the LISTEN/NOTIFY channel of new versions; a
// notification's payload is "site number".
const versionsChannel = "tailor_versions"

// Option configures a DB.
type Option func(*options) error

type options struct {
	maxBatch      int
	appendTimeout time.Duration
}

// WithMaxBatch bounds how many appends share one transaction (default
// 1024).
func WithMaxBatch(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("postgres: max batch %d must be at least 1", n)
		}
		o.maxBatch = n
		return nil
	}
}

// WithAppendTimeout bounds one group commit (default 10s): while the
// database is unreachable, appends fail after it rather than wait.
func WithAppendTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("postgres: append timeout %v must be positive", d)
		}
		o.appendTimeout = d
		return nil
	}
}

// DB is the PostgreSQL store.
type DB struct {
	pool          *pgxpool.Pool
	conn          *pgx.ConnConfig // of the pool's connections, for Campaign and Watch
	appendTimeout time.Duration
	appends       *groupcommit.Committer // also the store's open/closed state

	commits, appended atomic.Uint64
}

var _ store.Store = (*DB)(nil)

// appendReq is one delta of a group commit, with its body's hash.
type appendReq struct {
	d   store.Delta
	sum [sha256.Size]byte
}

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string; pool_max_conns and the other pgxpool parameters
// apply), applies the migrations it lacks and starts the writer.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	o := options{maxBatch: 1024, appendTimeout: 10 * time.Second}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrURL, err) // not %w: the message may quote a password
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = 5 * time.Second
	}
	for k, v := range map[string]string{"application_name": "tailor-server", "synchronous_commit": "on"} {
		if cc.RuntimeParams[k] == "" {
			cc.RuntimeParams[k] = v
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	s := &DB{pool: pool, conn: cc.Copy(), appendTimeout: o.appendTimeout}
	s.appends = groupcommit.New(o.maxBatch, s.commit)
	return s, nil
}

// Pool returns the connection pool, for tests and tools.
func (s *DB) Pool() *pgxpool.Pool { return s.pool }

// Stats are counts of the group commit since Open.
type Stats struct {
	Commits  uint64 // transactions that appended deltas
	Appended uint64 // deltas appended (not duplicates)
}

// Stats returns the group commit's counts.
func (s *DB) Stats() Stats { return Stats{Commits: s.commits.Load(), Appended: s.appended.Load()} }

// Append implements store.Store.
func (s *DB) Append(ctx context.Context, d store.Delta) (store.Appended, error) {
	if err := d.Check(); err != nil {
		return store.Appended{}, fmt.Errorf("postgres: %w", err)
	}
	return s.appends.Append(ctx, d)
}

// commit appends a group (groupcommit calls it).
func (s *DB) commit(deltas []store.Delta) []groupcommit.Result {
	ctx, cancel := context.WithTimeout(context.Background(), s.appendTimeout)
	defer cancel()
	batch := make([]appendReq, len(deltas))
	for i, d := range deltas {
		batch[i] = appendReq{d: d, sum: sha256.Sum256(d.Body)}
	}
	res := make([]groupcommit.Result, len(batch))
	todo := make([]int, len(batch))
	for i := range todo {
		todo[i] = i
	}
	var err error
	for attempt := 0; len(todo) > 0 && err == nil; attempt++ {
		if attempt == 5 {
			err = errors.New("ids recorded concurrently by other replicas, again and again")
			break
		}
		todo, err = s.tryCommit(ctx, batch, todo, res)
	}
	for _, i := range todo {
		res[i].Err = fmt.Errorf("postgres: append: %w", err)
	}
	return res
}

// insertDeltas appends a site's new deltas in one statement, so in one
// round trip and one implicit transaction: it numbers them under the
// site's sequence row lock, which it holds until it commits (so that they
// become visible in Seq order), and inserts them. $2 is their count.
const insertDeltas = `WITH counter AS (
	INSERT INTO sequences AS q (site, last) VALUES ($1, $2)
	ON CONFLICT (site) DO UPDATE SET last = q.last + EXCLUDED.last RETURNING last)
INSERT INTO deltas (site, seq, id, sha, model, received, body)
SELECT $1, counter.last - $2 + d.n, d.id, d.sha, d.model, d.received, d.body
FROM counter, unnest($3::bytea[], $4::bytea[], $5::bigint[], $6::bigint[], $7::bytea[])
	WITH ORDINALITY AS d (id, sha, model, received, body, n)
RETURNING seq`

// tryCommit records the appends todo (indexes in batch) into res: it
// looks their ids up, answering duplicates and conflicts, then appends
// each site's new deltas with insertDeltas, sites in order. It returns the
// appends left: with a nil error, those to try again because another
// replica recorded one of their site's ids since the lookup (the retry
// finds it); else those that failed.
func (s *DB) tryCommit(ctx context.Context, batch []appendReq, todo []int, res []groupcommit.Result) ([]int, error) {
	ids := make([][]byte, len(todo))
	for j, i := range todo {
		ids[j] = batch[i].d.ID[:]
	}
	known := map[[16]byte]store.Recorded{}
	rows, err := s.pool.Query(ctx, `SELECT id, site, sha, seq FROM deltas WHERE id = ANY($1)`, ids)
	if err != nil {
		return todo, err
	}
	var id, sum []byte
	var r store.Recorded
	if _, err := pgx.ForEachRow(rows, []any{&id, &r.Site, &sum, &r.Seq}, func() error {
		r.Sum = [sha256.Size]byte{}
		copy(r.Sum[:], sum)
		known[[16]byte(id)] = r
		return nil
	}); err != nil {
		return todo, err
	}
	// A recorded id is a duplicate (same site and body) or a conflict; so
	// is an id given again later in the batch, answered once the first is.
	first := map[[16]byte]int{}
	again := map[int]int{} // index → index of its id's first append
	perSite := map[string][]int{}
	for _, i := range todo {
		r := &batch[i]
		k, ok := known[r.d.ID]
		f, later := first[r.d.ID]
		if later {
			k, ok = store.Recorded{Sum: batch[f].sum, Site: batch[f].d.Site}, true // its Seq is not given yet
		}
		if ok {
			a, err := k.Again(&r.d, r.sum)
			switch {
			case err != nil:
				res[i].Err = fmt.Errorf("postgres: %w", err)
			case later:
				again[i] = f
			default:
				res[i].Appended = a
			}
			continue
		}
		first[r.d.ID] = i
		perSite[r.d.Site] = append(perSite[r.d.Site], i)
	}
	sites := make([]string, 0, len(perSite))
	for site := range perSite {
		sites = append(sites, site)
	}
	slices.Sort(sites) // replicas lock sequence rows in one order
	var left []int
	done := map[int]bool{}
	for k, site := range sites {
		idx := perSite[site]
		err := s.insert(ctx, site, batch, idx, res)
		if isUniqueViolation(err) {
			left = append(left, idx...)
			continue
		}
		if err != nil {
			for _, site := range sites[k:] {
				left = append(left, perSite[site]...)
			}
			for i, f := range again {
				if !done[f] {
					left = append(left, i)
				}
			}
			return left, err
		}
		for _, i := range idx {
			done[i] = true
		}
	}
	for i, f := range again {
		if done[f] {
			res[i].Appended = store.Appended{Seq: res[f].Appended.Seq, Duplicate: true}
		} else {
			left = append(left, i)
		}
	}
	return left, nil
}

// insert appends the deltas batch[idx] of one site, new to the store, and
// sets their seqs in res.
func (s *DB) insert(ctx context.Context, site string, batch []appendReq, idx []int, res []groupcommit.Result) error {
	n := len(idx)
	ids, sums, bodies := make([][]byte, n), make([][]byte, n), make([][]byte, n)
	models, received := make([]int64, n), make([]int64, n)
	for j, i := range idx {
		d := &batch[i].d
		ids[j], sums[j], bodies[j] = d.ID[:], batch[i].sum[:], d.Body
		models[j], received[j] = int64(d.Model), d.Received.UnixNano()
	}
	firstSeq := int64(math.MaxInt64)
	rows, err := s.pool.Query(ctx, insertDeltas, site, n, ids, sums, models, received, bodies)
	if err != nil {
		return err
	}
	var seq int64
	if _, err := pgx.ForEachRow(rows, []any{&seq}, func() error {
		firstSeq = min(firstSeq, seq)
		return nil
	}); err != nil {
		return err
	}
	for j, i := range idx {
		res[i].Appended = store.Appended{Seq: uint64(firstSeq) + uint64(j)}
	}
	s.commits.Add(1)
	s.appended.Add(uint64(n))
	return nil
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Deltas implements store.Store.
func (s *DB) Deltas(ctx context.Context, site string, after uint64, limit int) ([]store.Delta, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if err := store.CheckLimit(limit); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, id, model, received, body FROM deltas
		WHERE site = $1 AND seq > $2 ORDER BY seq LIMIT $3`, site, int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: deltas %s after %d: %w", site, after, err)
	}
	var out []store.Delta
	var seq, model, received int64
	var id, body []byte
	if _, err := pgx.ForEachRow(rows, []any{&seq, &id, &model, &received, &body}, func() error {
		out = append(out, store.Delta{Site: site, Seq: uint64(seq), ID: [16]byte(id), Model: uint32(model),
			Received: time.Unix(0, received).UTC(), Body: body})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("postgres: deltas %s after %d: %w", site, after, err)
	}
	return out, nil
}

// Publish implements store.Store.
func (s *DB) Publish(ctx context.Context, p store.Publication) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := p.Check(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	v := &p.Version
	js, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("postgres: publish %s v%d: %w", v.Site, v.Number, err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var latest *int64
		if err := tx.QueryRow(ctx, `SELECT max(number) FROM versions WHERE site = $1`, v.Site).Scan(&latest); err != nil {
			return err
		}
		var n uint32
		if latest != nil {
			n = uint32(*latest)
		}
		if err := v.Follows(n, latest != nil); err != nil {
			return err
		}
		refs := v.Blobs()
		stored := map[string]bool{}
		rows, err := tx.Query(ctx, `SELECT hash FROM blobs WHERE hash = ANY($1)`, refs)
		if err != nil {
			return err
		}
		var h string
		if _, err := pgx.ForEachRow(rows, []any{&h}, func() error {
			stored[h] = true
			return nil
		}); err != nil {
			return err
		}
		add, err := p.NewBlobs(func(h string) bool { return stored[h] })
		if err != nil {
			return err
		}
		for _, h := range add {
			if _, err := tx.Exec(ctx, `INSERT INTO blobs (hash, body) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING`, h, p.Blobs[h]); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO versions (site, number, created, doc) VALUES ($1, $2, $3, $4)`,
			v.Site, int64(v.Number), v.Created, js); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: another publisher stored v%d first", store.ErrVersionExists, v.Number)
			}
			return err
		}
		state := p.State
		if state == nil {
			state = []byte{}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO checkpoints (site, number, state) VALUES ($1, $2, $3)
			ON CONFLICT (site) DO UPDATE SET number = EXCLUDED.number, state = EXCLUDED.state`,
			v.Site, int64(v.Number), state); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, versionsChannel, fmt.Sprintf("%s %d", v.Site, v.Number))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: publish %s v%d: %w", v.Site, v.Number, err)
	}
	return nil
}

// Latest implements store.Store.
func (s *DB) Latest(ctx context.Context, site string) (store.Version, error) {
	return s.version(ctx, site, -1)
}

// Version implements store.Store.
func (s *DB) Version(ctx context.Context, site string, n uint32) (store.Version, error) {
	return s.version(ctx, site, int64(n))
}

func (s *DB) version(ctx context.Context, site string, n int64) (store.Version, error) {
	var v store.Version
	if err := s.check(ctx); err != nil {
		return v, err
	}
	var js []byte
	var err error
	what := "latest"
	if n < 0 {
		err = s.pool.QueryRow(ctx, `SELECT doc FROM versions WHERE site = $1 ORDER BY number DESC LIMIT 1`, site).Scan(&js)
	} else {
		what = fmt.Sprintf("v%d", n)
		err = s.pool.QueryRow(ctx, `SELECT doc FROM versions WHERE site = $1 AND number = $2`, site, n).Scan(&js)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err == nil {
		err = json.Unmarshal(js, &v)
	}
	if err != nil {
		return store.Version{}, fmt.Errorf("postgres: version %s %s: %w", site, what, err)
	}
	return v, nil
}

// Blob implements store.Store.
func (s *DB) Blob(ctx context.Context, hash string) ([]byte, error) {
	return s.get(ctx, `SELECT body FROM blobs WHERE hash = $1`, hash, "blob")
}

// State implements store.Store.
func (s *DB) State(ctx context.Context, site string) ([]byte, error) {
	return s.get(ctx, `SELECT state FROM checkpoints WHERE site = $1`, site, "state")
}

func (s *DB) get(ctx context.Context, query, key, what string) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var out []byte
	err := s.pool.QueryRow(ctx, query, key).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: %s %.16s: %w", what, key, err)
	}
	return out, nil
}

// check fails when ctx is done or the store is closed.
func (s *DB) check(ctx context.Context) error { return s.appends.Check(ctx) }

// Close waits for appends in flight to commit, then closes the pool.
func (s *DB) Close() error {
	if !s.appends.Close() {
		return nil
	}
	s.pool.Close()
	return nil
}
