package bolt

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/tailorhq/tailor/server/store"
	bbolt "go.etcd.io/bbolt"
)

// bucketMeta records the migrations a store file has had.
var (
	bucketMeta = []byte("meta")
	metaCoarse = []byte("coarse-received") // every record's received time is store.Coarse
)

// coarsenBatch is how many records one transaction of coarsen visits.
const coarsenBatch = 10_000

// coarsen makes the received time of every record written before the
// store kept them to the hour store.Coarse, once per file, in
// transactions of coarsenBatch records; it returns how many it changed
// (the caller compacts the file then, so that the exact times do not stay
// in its free pages).
func coarsen(db *bbolt.DB) (int, error) {
	var sites [][]byte
	done := false
	err := db.View(func(tx *bbolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil && m.Get(metaCoarse) != nil {
			done = true
			return nil
		}
		return tx.Bucket(bucketDeltas).ForEachBucket(func(k []byte) error {
			sites = append(sites, bytes.Clone(k))
			return nil
		})
	})
	if err != nil || done {
		return 0, err
	}
	changed := 0
	for _, site := range sites {
		var after []byte // the last key visited
		for more := true; more; {
			err := db.Update(func(tx *bbolt.Tx) error {
				b := tx.Bucket(bucketDeltas).Bucket(site)
				c := b.Cursor()
				k, v := c.First()
				if after != nil {
					k, v = c.Seek(after)
					if bytes.Equal(k, after) {
						k, v = c.Next()
					}
				}
				var keys, vals [][]byte
				for n := 0; k != nil && n < coarsenBatch; k, v = c.Next() {
					n++
					after = bytes.Clone(k)
					if len(v) < recordHeader {
						continue // decodeRecord reports it when read
					}
					r := int64(binary.BigEndian.Uint64(v[20:]))
					coarse := store.Coarse(timeUnixNano(r)).UnixNano()
					if coarse != r {
						nv := slices.Clone(v)
						binary.BigEndian.PutUint64(nv[20:], uint64(coarse))
						keys, vals = append(keys, after), append(vals, nv)
					}
				}
				more = k != nil
				for i := range keys {
					if err := b.Put(keys[i], vals[i]); err != nil {
						return err
					}
				}
				changed += len(keys)
				return nil
			})
			if err != nil {
				return changed, err
			}
		}
	}
	return changed, db.Update(func(tx *bbolt.Tx) error {
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return m.Put(metaCoarse, []byte{1})
	})
}
