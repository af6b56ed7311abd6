package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tailorhq/tailor/server/store"
)

// baseLock returns the transaction-level advisory lock that serializes
// Retire and DeleteReceived of one site across replicas and tools.
func baseLock(site string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tailor.base/"))
	h.Write([]byte(site))
	return int64(h.Sum64())
}

// Base implements store.Store.
func (s *DB) Base(ctx context.Context, site string) (store.Base, error) {
	if err := s.check(ctx); err != nil {
		return store.Base{}, err
	}
	b, err := readBase(ctx, s.pool.QueryRow, site)
	if err != nil {
		return store.Base{}, fmt.Errorf("postgres: base %s: %w", site, err)
	}
	return b, nil
}

// readBase reads a site's base through query (a pool's or a transaction's
// QueryRow).
func readBase(ctx context.Context, query func(context.Context, string, ...any) pgx.Row, site string) (store.Base, error) {
	var b store.Base
	var through, until int64
	err := query(ctx, `SELECT through, until, state FROM bases WHERE site = $1`, site).Scan(&through, &until, &b.State)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Base{}, nil
	}
	if err != nil {
		return store.Base{}, err
	}
	b.Through = uint64(through)
	if until != 0 {
		b.Until = time.Unix(until, 0).UTC()
	}
	return b, nil
}

// withBase runs fn in a transaction that holds site's base lock, with the
// base as it stands: Retire and DeleteReceived check their rule against it
// and change the deltas before another replica can move it.
func (s *DB) withBase(ctx context.Context, site string, fn func(tx pgx.Tx, b store.Base) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, baseLock(site)); err != nil {
			return err
		}
		b, err := readBase(ctx, tx.QueryRow, site)
		if err != nil {
			return err
		}
		return fn(tx, b)
	})
}

// Retire implements store.Store.
func (s *DB) Retire(ctx context.Context, site string, prev uint64, b store.Base) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if err := store.CheckRetire(site, prev, b); err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	var until int64
	if !b.Until.IsZero() {
		until = b.Until.Unix()
	}
	state := b.State
	if state == nil {
		state = []byte{}
	}
	n := 0
	err := s.withBase(ctx, site, func(tx pgx.Tx, old store.Base) error {
		if err := old.Still(prev); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bases (site, through, until, state) VALUES ($1, $2, $3, $4)
			ON CONFLICT (site) DO UPDATE SET through = EXCLUDED.through, until = EXCLUDED.until, state = EXCLUDED.state`,
			site, int64(b.Through), until, state); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM deltas WHERE site = $1 AND seq <= $2`, site, int64(b.Through))
		n = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: retire %s through %d: %w", site, b.Through, err)
	}
	return n, nil
}

// DeleteReceived implements store.Store.
func (s *DB) DeleteReceived(ctx context.Context, site string, from, to time.Time) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := s.withBase(ctx, site, func(tx pgx.Tx, base store.Base) error {
		if err := base.Reaches(from); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM deltas WHERE site = $1 AND received >= $2 AND received < $3`,
			site, from.UnixNano(), to.UnixNano())
		n = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: delete %s received in [%s, %s): %w", site, from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return n, nil
}
