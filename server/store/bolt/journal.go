package bolt

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"

	"github.com/tailorhq/tailor/server/store"
	bbolt "go.etcd.io/bbolt"
)

// The journal is the write-ahead log of appends: a group of appends is
// durable once its records are written to the journal and fdatasynced,
// one fsync of a file whose blocks exist already, where a bbolt commit
// takes two (pages, then the meta page) and writes a page per random id
// it touches. The records are copied into the bbolt file later, many
// groups in one transaction. Until then Deltas and the duplicate check
// read them from memory; Open copies what a crash left in the journal.
//
// The journal file has two halves. Appends go to one; when it is full
// they go on in the other while a goroutine copies the full one into the
// bbolt file and resets it, so that no append waits for a copy unless the
// copy is slower than the other half fills. Retire, DeleteReceived,
// Compact and Close first copy both halves (flush): they read or delete
// in the bbolt file alone.
//
// Layout of a half: a header (magic, epoch, CRC), then records, each
//
//	length (4) | CRC-32C of the rest (4) | epoch (8) | seq (8) | site length (2) | site | record
//
// where record is the delta's record (id, model, received, body; stage). Each time
// a half is copied into the bbolt file, the epoch in its header is
// bumped: replay stops at the first record that is torn, zero, or of an
// older epoch, so a record is replayed only if it was written after the
// last copy.
type journal struct {
	f     *os.File
	base  int64  // where its half starts in f
	size  int64  // bytes of its half
	off   int64  // where the next record goes, from base
	epoch uint64 // of the records written since the last reset
	buf   []byte // a group's records, being written
	recs  []journalRecord
}

// journalRecord is one journalled append.
type journalRecord struct {
	id     [16]byte
	sum    [sha256.Size]byte // of the body
	seq    uint64
	site   string
	record []byte // the delta's record (stage)
}

const (
	journalMagic  = "TLRJRNL2"
	journalHeader = 8 + 8 + 4 // magic, epoch, CRC of both
	recordPrefix  = 4 + 4 + 8 + 8 + 2
	maxSiteLen    = 1<<16 - 1
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errJournal marks a journal file that is not one.
var errJournal = errors.New("bolt: not a journal file")

// openJournals opens (or creates) the journal file at path, halves of
// half bytes each, and returns the halves with the records of their
// current epochs. The caller copies those into the store, then calls
// prepare, then resets both.
func openJournals(path string, half int64) ([2]*journal, []journalRecord, error) {
	var js [2]*journal
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return js, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return js, nil, err
	}
	// A file of another size is read as halves of its own size (a
	// different WithJournal), then rewritten at this size once copied.
	old := info.Size() / 2
	data := make([]byte, info.Size())
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, info.Size()), data); err != nil {
		f.Close()
		return js, nil, err
	}
	var recs []journalRecord
	for h := range js {
		js[h] = &journal{f: f, base: int64(h) * half, size: half}
		if old >= journalHeader {
			r, err := js[h].parse(data[int64(h)*old : int64(h+1)*old])
			if err != nil {
				f.Close()
				return js, nil, fmt.Errorf("%s: %w", path, err)
			}
			recs = append(recs, r...)
		}
	}
	return js, recs, nil
}

// prepare gives a journal file of another size (new, or of another
// WithJournal) its size, in zeros written: blocks allocated now are not
// allocated (a journalled metadata change) by each group's fdatasync
// later. Its records must be in the store already.
func prepare(f *os.File, size int64) error {
	info, err := f.Stat()
	if err != nil || info.Size() == size {
		return err
	}
	if err := f.Truncate(size); err != nil {
		return err
	}
	return zero(f, 0, size)
}

// parse reads a half's header and the records of its epoch.
func (j *journal) parse(data []byte) ([]journalRecord, error) {
	if string(data[:8]) != journalMagic {
		if allZero(data[:journalHeader]) {
			return nil, nil // created, never reset
		}
		return nil, errJournal
	}
	if crc32.Checksum(data[:16], crcTable) != binary.BigEndian.Uint32(data[16:]) {
		return nil, fmt.Errorf("%w: header checksum", errJournal)
	}
	j.epoch = binary.BigEndian.Uint64(data[8:])
	var recs []journalRecord
	for off := journalHeader; off+recordPrefix <= len(data); {
		n := int(binary.BigEndian.Uint32(data[off:]))
		end := off + 8 + n
		if n < recordPrefix-8 || end > len(data) ||
			crc32.Checksum(data[off+8:end], crcTable) != binary.BigEndian.Uint32(data[off+4:]) ||
			binary.BigEndian.Uint64(data[off+8:]) != j.epoch {
			break // the end: zeros, a torn write, or an older epoch's record
		}
		sl := int(binary.BigEndian.Uint16(data[off+24:]))
		if off+recordPrefix+sl+recordHeader > end {
			return nil, fmt.Errorf("%w: record at %d is corrupt", errJournal, off)
		}
		r := journalRecord{seq: binary.BigEndian.Uint64(data[off+16:]), site: string(data[off+recordPrefix : off+recordPrefix+sl]),
			record: bytes.Clone(data[off+recordPrefix+sl : end])}
		copy(r.id[:], r.record)
		r.sum = sha256.Sum256(r.record[recordHeader:])
		recs = append(recs, r)
		off = end
	}
	return recs, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// zero writes zeros over [from, to) of f and syncs them.
func zero(f *os.File, from, to int64) error {
	z := make([]byte, min(to-from, 1<<20))
	for off := from; off < to; off += int64(len(z)) {
		if _, err := f.WriteAt(z[:min(int64(len(z)), to-off)], off); err != nil {
			return err
		}
	}
	return f.Sync()
}

// fits reports whether records of n bytes (recordBytes each) fit after
// what the half holds.
func (j *journal) fits(n int64) bool { return j.off+n <= j.size }

// recordBytes is how many bytes a delta's record takes in the journal.
func recordBytes(site string, record []byte) int64 {
	return int64(recordPrefix + len(site) + len(record))
}

// add encodes a record into the group being written.
func (j *journal) add(r *journalRecord) {
	start := len(j.buf)
	j.buf = binary.BigEndian.AppendUint32(j.buf, uint32(recordPrefix-8+len(r.site)+len(r.record)))
	j.buf = append(j.buf, 0, 0, 0, 0) // the CRC, below
	j.buf = binary.BigEndian.AppendUint64(j.buf, j.epoch)
	j.buf = binary.BigEndian.AppendUint64(j.buf, r.seq)
	j.buf = binary.BigEndian.AppendUint16(j.buf, uint16(len(r.site)))
	j.buf = append(append(j.buf, r.site...), r.record...)
	binary.BigEndian.PutUint32(j.buf[start+4:], crc32.Checksum(j.buf[start+8:], crcTable))
}

// write writes the group's records after the half's others; they are
// durable once a fdatasync that started after it returned (pipeline.go).
func (j *journal) write() error {
	defer func() { j.buf = j.buf[:0] }()
	if _, err := j.f.WriteAt(j.buf, j.base+j.off); err != nil {
		return err
	}
	j.off += int64(len(j.buf))
	return nil
}

// reset starts a new epoch of the half: the records written so far
// (copied into the store by the caller) are not replayed any more.
func (j *journal) reset() error {
	h := make([]byte, journalHeader)
	copy(h, journalMagic)
	binary.BigEndian.PutUint64(h[8:], j.epoch+1)
	binary.BigEndian.PutUint32(h[16:], crc32.Checksum(h[:16], crcTable))
	if _, err := j.f.WriteAt(h, j.base); err != nil {
		return err
	}
	if err := fdatasync(j.f); err != nil {
		return err
	}
	j.epoch++
	j.off = journalHeader
	return nil
}

// openJournal opens the store's journal at path (none when size is 0),
// copies what a crash left in it into the file, and starts new epochs.
func (s *DB) openJournal(path string, size int64) error {
	if size == 0 {
		// A journal left by a run with one must still be replayed.
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	js, recs, err := openJournals(path, max(size/2, journalHeader))
	if err != nil {
		return err
	}
	err = s.update(func(tx *bbolt.Tx) error {
		ids, deltas := tx.Bucket(bucketIDs), tx.Bucket(bucketDeltas)
		for i := range recs {
			if ids.Get(recs[i].id[:]) != nil {
				continue // copied into the file before the crash
			}
			if err := putRecord(ids, deltas, &recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = prepare(js[0].f, 2*js[0].size)
	}
	for _, j := range js {
		if err == nil {
			err = j.reset()
		}
	}
	if err == nil && size == 0 {
		return js[0].f.Close()
	}
	if err != nil {
		js[0].f.Close()
		return err
	}
	// The groups' fdatasyncs get a descriptor of their own. Linux reports
	// a write error to the next fsync of each open file, once: on a
	// shared one, the background copy's fdatasync (reset) could take the
	// error of a group's page, and the group's fdatasync, running beside
	// it, return nil.
	if s.syncF, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
		js[0].f.Close()
		return err
	}
	s.journals = js
	return nil
}

// closeJournal closes the journal's descriptors.
func (s *DB) closeJournal() error {
	if s.journals[0] == nil {
		return nil
	}
	err := s.journals[0].f.Close()
	err = cmp.Or(err, s.syncF.Close())
	s.journals, s.syncF = [2]*journal{}, nil
	return err
}

// putRecord writes one delta's record and id entry into the file, and
// moves the site's sequence up to its seq.
func putRecord(ids, deltas *bbolt.Bucket, r *journalRecord) error {
	if err := putDelta(deltas, r); err != nil {
		return err
	}
	return ids.Put(r.id[:], idValue(r.sum, r.seq, r.site))
}

// putDelta writes one delta's record into its site's log, and moves the
// site's sequence up to its seq.
func putDelta(deltas *bbolt.Bucket, r *journalRecord) error {
	b, err := siteLog(deltas, r.site)
	if err != nil {
		return err
	}
	return putSeq(b, r)
}

// putSeq writes one delta's record into its site's log b.
func putSeq(b *bbolt.Bucket, r *journalRecord) error {
	if err := b.Put(u64(r.seq), r.record); err != nil {
		return err
	}
	if r.seq > b.Sequence() {
		return b.SetSequence(r.seq)
	}
	return nil
}

// siteLog returns a site's log in the file, created if need be, filled
// to the brim: its keys are Seqs, which only grow, so a page split
// leaves the older page full rather than half (bbolt's default for keys
// in any order), for half the pages written per delta.
func siteLog(deltas *bbolt.Bucket, site string) (*bbolt.Bucket, error) {
	b, err := deltas.CreateBucketIfNotExists([]byte(site))
	if err == nil {
		b.FillPercent = 1
	}
	return b, err
}

// idValue is an id entry in the file: sha256(body) + seq + site.
func idValue(sum [sha256.Size]byte, seq uint64, site string) []byte {
	return appendIDValue(make([]byte, 0, idValueLen(site)), sum, seq, site)
}

// recorded reads an id entry of the file.
func recorded(v []byte) store.Recorded {
	r := store.Recorded{Seq: binary.BigEndian.Uint64(v[sha256.Size:]), Site: string(v[sha256.Size+8:])}
	copy(r.Sum[:], v)
	return r
}

// idValueLen is the length of a site's id entries.
func idValueLen(site string) int { return sha256.Size + 8 + len(site) }

// appendIDValue appends an id entry to b.
func appendIDValue(b []byte, sum [sha256.Size]byte, seq uint64, site string) []byte {
	return append(binary.BigEndian.AppendUint64(append(b, sum[:]...), seq), site...)
}

// rotate makes the other half the one appends go to, once its previous
// copy is settled, and copies the full one into the file in the
// background. The caller holds jmu.
func (s *DB) rotate() error {
	if s.drain() {
		return s.recoverJournal()
	}
	if err := s.settle(); err != nil {
		return err
	}
	full := s.journals[s.active]
	s.active = 1 - s.active
	if len(full.recs) == 0 {
		return nil
	}
	done := make(chan struct{})
	s.copying = done
	go func() {
		defer close(done)
		s.copyErr = s.copyHalf(full)
	}()
	return nil
}

// copyHalf copies a half's records into the file in one transaction, then
// resets it. It runs with jmu held, or in rotate's goroutine while no one
// else touches the half (appends go to the other).
func (s *DB) copyHalf(j *journal) error {
	err := s.update(func(tx *bbolt.Tx) error {
		ids, deltas := tx.Bucket(bucketIDs), tx.Bucket(bucketDeltas)
		// Each site's log is opened once, not once a record: opening one
		// is a search of the deltas bucket and a copy of its name.
		logs := map[string]*bbolt.Bucket{}
		for i := range j.recs {
			r := &j.recs[i]
			b := logs[r.site]
			if b == nil {
				var err error
				if b, err = siteLog(deltas, r.site); err != nil {
					return err
				}
				logs[r.site] = b
			}
			if err := putSeq(b, r); err != nil {
				return err
			}
		}
		// The ids in their order: each Put then finds the next in a node
		// the transaction has read already, near the last, instead of
		// anywhere in the bucket.
		byID := make([]*journalRecord, len(j.recs))
		for i := range j.recs {
			byID[i] = &j.recs[i]
		}
		slices.SortFunc(byID, func(a, b *journalRecord) int { return bytes.Compare(a.id[:], b.id[:]) })
		// The id entries in one allocation, not one each: bbolt keeps a
		// value until the transaction ends.
		n := 0
		for _, r := range byID {
			n += idValueLen(r.site)
		}
		vals := make([]byte, 0, n)
		for _, r := range byID {
			start := len(vals)
			vals = appendIDValue(vals, r.sum, r.seq, r.site)
			if err := ids.Put(r.id[:], vals[start:len(vals):len(vals)]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy the journal: %w", err)
	}
	if err := j.reset(); err != nil {
		return fmt.Errorf("reset the journal: %w", err)
	}
	return nil
}

// settle waits for the background copy, if one runs, and forgets what it
// copied. The caller holds jmu.
func (s *DB) settle() error {
	if s.copying == nil {
		return nil
	}
	<-s.copying
	s.copying = nil
	if err := s.copyErr; err != nil {
		s.copyErr = nil
		return err
	}
	s.forget(s.journals[1-s.active])
	return nil
}

// forget drops a copied half's records from memory: the file has them.
// Deltas hold a site's journalled records in Seq order, the older half's
// first. The caller holds jmu.
func (s *DB) forget(j *journal) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	n := map[string]int{}
	for i := range j.recs {
		n[j.recs[i].site]++
		delete(s.ids, j.recs[i].id)
	}
	for site, k := range n {
		if s.pending[site] = s.pending[site][k:]; len(s.pending[site]) == 0 {
			delete(s.pending, site)
		}
	}
	// The half's next records reuse the array (a half fills to about as
	// many each time): grown anew, it was a sync's largest allocation
	// (~450 bytes of the ~5,000 a sync allocates on the server).
	clear(j.recs)
	j.recs = j.recs[:0]
}

// flush copies both halves into the file and starts new epochs. The
// caller holds jmu.
func (s *DB) flush() error {
	if s.journals[0] == nil {
		return nil
	}
	if s.drain() {
		return s.recoverJournal()
	}
	if err := s.settle(); err != nil {
		return fmt.Errorf("bolt: %w", err)
	}
	if j := s.journals[s.active]; len(j.recs) > 0 {
		if err := s.copyHalf(j); err != nil {
			return fmt.Errorf("bolt: %w", err)
		}
		s.forget(j)
	}
	return nil
}

// flushed runs fn with the journal copied into the file and no append
// committing: for what reads or deletes deltas in the file alone.
func (s *DB) flushed(fn func() error) error {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if err := s.flush(); err != nil {
		return err
	}
	return fn()
}

// pendingAfter appends to out, which holds what the file has of site
// after after, the journalled deltas that follow, up to limit in all. A
// half being copied may be in the file already: what out has is skipped.
// The caller holds pmu for reading.
func (s *DB) pendingAfter(out []store.Delta, site string, after uint64, limit int) ([]store.Delta, error) {
	if len(out) > 0 {
		after = max(after, out[len(out)-1].Seq)
	}
	rs := s.pending[site] // in Seq order
	i, _ := slices.BinarySearchFunc(rs, after+1, func(r pendingRecord, seq uint64) int { return cmp.Compare(r.seq, seq) })
	if n := min(limit-len(out), len(rs)-i); n > 0 {
		out = slices.Grow(out, n) // once, not doubling from 1: the aggregator reads a few groups each time
	}
	for ; i < len(rs) && len(out) < limit; i++ {
		d, err := decodeRecord(site, rs[i].seq, rs[i].record)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// wipe writes zeros over both halves' records, for Compact: nothing of a
// deleted delta may remain in the journal either. Both are copied.
func (s *DB) wipe() error {
	if s.journals[0] == nil {
		return nil
	}
	for _, j := range s.journals {
		if err := zero(j.f, j.base+journalHeader, j.base+j.size); err != nil {
			return err
		}
		j.off = journalHeader
	}
	return nil
}
