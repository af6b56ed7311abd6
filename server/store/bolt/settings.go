package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tailorhq/tailor/server/store"
	"go.etcd.io/bbolt"
)

// Settings implements store.Store.
func (s *DB) Settings(ctx context.Context, site string) (store.Settings, error) {
	var st store.Settings
	if err := s.check(ctx); err != nil {
		return st, err
	}
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		if b == nil {
			return nil // a file opened read-only before the bucket existed
		}
		if js := b.Get([]byte(site)); js != nil {
			return json.Unmarshal(js, &st)
		}
		return nil
	})
	if err != nil {
		return store.Settings{}, fmt.Errorf("bolt: settings %s: %w", site, err)
	}
	return st, nil
}

// PutSettings implements store.Store.
func (s *DB) PutSettings(ctx context.Context, site string, st store.Settings) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	js, prev, err := store.NextSettings(site, st)
	if err != nil {
		return fmt.Errorf("bolt: %w", err)
	}
	err = s.update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSettings)
		if err != nil {
			return err
		}
		var old store.Settings
		if cur := b.Get([]byte(site)); cur != nil {
			if err := json.Unmarshal(cur, &old); err != nil {
				return err
			}
		}
		if old.Rev != prev {
			return fmt.Errorf("%w: at rev %d, not %d", store.ErrSettingsMoved, old.Rev, prev)
		}
		return b.Put([]byte(site), js)
	})
	if err != nil {
		return fmt.Errorf("bolt: put settings %s: %w", site, err)
	}
	return nil
}
