package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tailorhq/tailor/server/store"
	bbolt "go.etcd.io/bbolt"
)

// A base record is through (8) + until Unix seconds (8, 0 for none) +
// the checkpoint.
const baseHeader = 16

func encodeBase(b store.Base) []byte {
	v := make([]byte, baseHeader, baseHeader+len(b.State))
	binary.BigEndian.PutUint64(v, b.Through)
	if !b.Until.IsZero() {
		binary.BigEndian.PutUint64(v[8:], uint64(b.Until.Unix()))
	}
	return append(v, b.State...)
}

func decodeBase(site string, v []byte) (store.Base, error) {
	if v == nil {
		return store.Base{}, nil
	}
	if len(v) < baseHeader {
		return store.Base{}, fmt.Errorf("bolt: base %s: record of %d bytes is corrupt", site, len(v))
	}
	b := store.Base{Through: binary.BigEndian.Uint64(v), State: bytes.Clone(v[baseHeader:])}
	if u := int64(binary.BigEndian.Uint64(v[8:])); u != 0 {
		b.Until = time.Unix(u, 0).UTC()
	}
	return b, nil
}

// Base implements store.Store.
func (s *DB) Base(ctx context.Context, site string) (store.Base, error) {
	if err := s.check(ctx); err != nil {
		return store.Base{}, err
	}
	var b store.Base
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		b, err = decodeBase(site, tx.Bucket(bucketBase).Get([]byte(site)))
		return err
	})
	if err != nil {
		return store.Base{}, fmt.Errorf("bolt: base %s: %w", site, err)
	}
	return b, nil
}

// Retire implements store.Store.
func (s *DB) Retire(ctx context.Context, site string, prev uint64, b store.Base) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	if err := store.CheckRetire(site, prev, b); err != nil {
		return 0, fmt.Errorf("bolt: %w", err)
	}
	n := 0
	err := s.flushed(func() error {
		return s.update(func(tx *bbolt.Tx) error {
			bases := tx.Bucket(bucketBase)
			old, err := decodeBase(site, bases.Get([]byte(site)))
			if err != nil {
				return err
			}
			if err := old.Still(prev); err != nil {
				return err
			}
			if err := bases.Put([]byte(site), encodeBase(b)); err != nil {
				return err
			}
			n, err = deleteDeltas(tx, site, func(seq uint64, _ []byte) (bool, bool) { return seq <= b.Through, seq < b.Through })
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("bolt: retire %s through %d: %w", site, b.Through, err)
	}
	return n, nil
}

// DeleteReceived implements store.Store.
func (s *DB) DeleteReceived(ctx context.Context, site string, from, to time.Time) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	lo, hi := from.UnixNano(), to.UnixNano()
	n := 0
	err := s.flushed(func() error {
		return s.update(func(tx *bbolt.Tx) error {
			base, err := decodeBase(site, tx.Bucket(bucketBase).Get([]byte(site)))
			if err != nil {
				return err
			}
			if err := base.Reaches(from); err != nil {
				return err
			}
			n, err = deleteDeltas(tx, site, func(_ uint64, v []byte) (bool, bool) {
				if len(v) < recordHeader {
					return false, true // decodeRecord reports it when read
				}
				r := int64(binary.BigEndian.Uint64(v[20:]))
				return lo <= r && r < hi, true
			})
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("bolt: delete %s received in [%s, %s): %w", site, from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return n, nil
}

// deleteDeltas deletes the site's deltas that match, with their ids, in
// Seq order until match says to stop, and returns how many it deleted.
func deleteDeltas(tx *bbolt.Tx, site string, match func(seq uint64, record []byte) (del, more bool)) (int, error) {
	b := tx.Bucket(bucketDeltas).Bucket([]byte(site))
	if b == nil {
		return 0, nil
	}
	// Collect first: deleting under a cursor moves it.
	var keys, ids [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		del, more := match(binary.BigEndian.Uint64(k), v)
		if del && len(v) >= 16 {
			keys = append(keys, bytes.Clone(k))
			ids = append(ids, bytes.Clone(v[:16]))
		}
		if !more {
			break
		}
	}
	idb := tx.Bucket(bucketIDs)
	for i, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
		if err := idb.Delete(ids[i]); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// Compact implements store.Compactor: it copies the journal into the
// file and writes zeros over the journal, copies the store into a new file
// beside it, without free pages, fsyncs it, renames it over the store's
// file and reopens it. Every other call waits meanwhile.
func (s *DB) Compact(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	return s.flushed(func() error {
		if err := s.wipe(); err != nil {
			return fmt.Errorf("bolt: compact: journal: %w", err)
		}
		return s.compact()
	})
}

func (s *DB) compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.appends.Closed() { // closed while this call waited for the lock
		return store.ErrClosed
	}
	path := s.db.Path()
	tmp := path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("bolt: compact: %w", err)
	}
	if err := copyCompact(tmp, s.db); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("bolt: compact: %w", err)
	}
	if err := s.db.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("bolt: compact: close: %w", err)
	}
	err := os.Rename(tmp, path)
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	db, oerr := openFile(path, s.timeout)
	if oerr != nil {
		// The store's file is closed and cannot be reopened: every call
		// fails from now on, and says why.
		s.err = fmt.Errorf("bolt: reopen after compaction: %w", oerr)
		return s.err
	}
	s.db = db
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("bolt: compact: %w", err) // the old file is still the store's
	}
	return nil
}

// copyCompact writes a compacted copy of src to the new file path, durably.
func copyCompact(path string, src *bbolt.DB) error {
	// Mapping the new file at the old one's size at once spares the
	// remaps (each copies every node in memory) as it grows; the copy's
	// commits skip their fsyncs, and one Sync makes it durable before the
	// rename.
	var size int
	if info, err := os.Stat(src.Path()); err == nil {
		size = int(info.Size())
	}
	dst, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, InitialMmapSize: size, NoSync: true})
	if err != nil {
		return err
	}
	if err := bbolt.Compact(dst, src, compactTxSize); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
