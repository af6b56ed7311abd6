package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/tailorhq/tailor/server/store"
)

// Settings implements store.Store.
func (s *DB) Settings(ctx context.Context, site string) (store.Settings, error) {
	var st store.Settings
	if err := s.check(ctx); err != nil {
		return st, err
	}
	var body []byte
	err := s.pool.QueryRow(ctx, `SELECT body FROM settings WHERE site = $1`, site).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err == nil {
		err = json.Unmarshal(body, &st)
	}
	if err != nil {
		return store.Settings{}, fmt.Errorf("postgres: settings %s: %w", site, err)
	}
	return st, nil
}

// PutSettings implements store.Store: one statement inserts the first
// settings (none stored yet) or updates those still at st.Rev, so replicas
// need no lock.
func (s *DB) PutSettings(ctx context.Context, site string, st store.Settings) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	body, prev, err := store.NextSettings(site, st)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	query := `UPDATE settings SET rev = $2, body = $3 WHERE site = $1 AND rev = $4`
	if prev == 0 {
		query = `INSERT INTO settings (site, rev, body) VALUES ($1, $2, $3) ON CONFLICT (site) DO NOTHING`
	}
	args := []any{site, int64(prev + 1), body}
	if prev != 0 {
		args = append(args, int64(prev))
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("postgres: put settings %s: %w", site, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: put settings %s: %w: not at rev %d", site, store.ErrSettingsMoved, prev)
	}
	return nil
}
