package bolt

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/groupcommit"
	bbolt "go.etcd.io/bbolt"
)

// The journal is the write-ahead log of appends: a group of appends is
// durable once its records are written to the journal and fdatasynced,
// one fsync of a file whose blocks exist already, where a bbolt commit
// takes two (pages, then the meta page) and writes a page per random id
// it touches. The records are copied into the bbolt file later, many
// groups in one transaction, when the journal is full or before anything
// that reads the bbolt file alone (Retire, DeleteReceived, Compact,
// Close); until then Deltas and the duplicate check read them from
// memory. Open copies what a crash left in the journal into the file.
//
// Layout: a header (magic, epoch, CRC), then records, each
//
//	length (4) | CRC-32C of the rest (4) | epoch (8) | seq (8) | site length (2) | site | record
//
// where record is encodeRecord's (id, model, received, body). Each time
// the records are copied into the bbolt file, the epoch in the header is
// bumped: replay stops at the first record that is torn, zero, or of an
// older epoch, so a record is replayed only if it was written after the
// last copy.
type journal struct {
	f     *os.File
	size  int64  // the file's preallocated bytes
	off   int64  // where the next record goes
	epoch uint64 // of the records written since the last reset
	buf   []byte // reused for a group's records
}

const (
	journalMagic  = "TLRJRNL1"
	journalHeader = 8 + 8 + 4 // magic, epoch, CRC of both
	recordPrefix  = 4 + 4 + 8 + 8 + 2
	maxSiteLen    = 1<<16 - 1
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errJournal marks a journal file that is not one.
var errJournal = errors.New("bolt: not a journal file")

// openJournal opens (or creates, preallocated with zeros to size bytes)
// the journal at path and returns it with the records of its current
// epoch, in order. The caller copies them into the store, then calls
// reset.
func openJournal(path string, size int64) (*journal, []journalRecord, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, err
	}
	j := &journal{f: f}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	var recs []journalRecord
	if info.Size() > 0 {
		data := make([]byte, info.Size())
		if _, err := io.ReadFull(io.NewSectionReader(f, 0, info.Size()), data); err != nil {
			f.Close()
			return nil, nil, err
		}
		if recs, err = j.parse(data); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	j.size = max(size, info.Size())
	if info.Size() < j.size {
		// Zeros, written: blocks allocated now are not allocated (a
		// journalled metadata change) by each group's fdatasync later.
		if err := j.zero(info.Size(), j.size); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	return j, recs, nil
}

// journalRecord is one append read back from the journal.
type journalRecord struct {
	seq    uint64
	site   string
	record []byte // encodeRecord's
}

// parse reads the header and the records of its epoch.
func (j *journal) parse(data []byte) ([]journalRecord, error) {
	if len(data) < journalHeader || string(data[:8]) != journalMagic {
		if allZero(data) {
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
		seq := binary.BigEndian.Uint64(data[off+16:])
		sl := int(binary.BigEndian.Uint16(data[off+24:]))
		if off+recordPrefix+sl+recordHeader > end {
			return nil, fmt.Errorf("%w: record at %d is corrupt", errJournal, off)
		}
		site := string(data[off+recordPrefix : off+recordPrefix+sl])
		recs = append(recs, journalRecord{seq: seq, site: site, record: data[off+recordPrefix+sl : end]})
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

// zero writes zeros over [from, to) and syncs them.
func (j *journal) zero(from, to int64) error {
	z := make([]byte, min(to-from, 1<<20))
	for off := from; off < to; off += int64(len(z)) {
		if _, err := j.f.WriteAt(z[:min(int64(len(z)), to-off)], off); err != nil {
			return err
		}
	}
	return j.f.Sync()
}

// fits reports whether records of n bytes (recordBytes each) fit after
// what the journal holds.
func (j *journal) fits(n int64) bool { return j.off+n <= j.size }

// recordBytes is how many bytes a delta's journal record takes.
func recordBytes(site string, body []byte) int64 {
	return int64(recordPrefix + len(site) + recordHeader + len(body))
}

// add encodes a record into the group being written.
func (j *journal) add(seq uint64, site string, record []byte) {
	start := len(j.buf)
	j.buf = binary.BigEndian.AppendUint32(j.buf, uint32(recordPrefix-8+len(site)+len(record)))
	j.buf = append(j.buf, 0, 0, 0, 0) // the CRC, below
	j.buf = binary.BigEndian.AppendUint64(j.buf, j.epoch)
	j.buf = binary.BigEndian.AppendUint64(j.buf, seq)
	j.buf = binary.BigEndian.AppendUint16(j.buf, uint16(len(site)))
	j.buf = append(append(j.buf, site...), record...)
	binary.BigEndian.PutUint32(j.buf[start+4:], crc32.Checksum(j.buf[start+8:], crcTable))
}

// write writes the group's records and fdatasyncs them: once it returns
// nil, they are durable.
func (j *journal) write() error {
	defer func() { j.buf = j.buf[:0] }()
	if _, err := j.f.WriteAt(j.buf, j.off); err != nil {
		return err
	}
	if err := fdatasync(j.f); err != nil {
		return err
	}
	j.off += int64(len(j.buf))
	return nil
}

// reset starts a new epoch: the records written so far (copied into the
// store by the caller) are not replayed any more.
func (j *journal) reset() error {
	j.buf = j.buf[:0]
	h := make([]byte, journalHeader)
	copy(h, journalMagic)
	binary.BigEndian.PutUint64(h[8:], j.epoch+1)
	binary.BigEndian.PutUint32(h[16:], crc32.Checksum(h[:16], crcTable))
	if _, err := j.f.WriteAt(h, 0); err != nil {
		return err
	}
	if err := fdatasync(j.f); err != nil {
		return err
	}
	j.epoch++
	j.off = journalHeader
	return nil
}

// wipe writes zeros over every record, for Compact: nothing of a deleted
// delta may remain in the journal either.
func (j *journal) wipe() error {
	if err := j.zero(journalHeader, j.size); err != nil {
		return err
	}
	j.off = journalHeader
	return nil
}

// openJournal opens the store's journal at path (none when size is 0),
// copies what a crash left in it into the file, and starts a new epoch.
func (s *DB) openJournal(path string, size int64) error {
	if size == 0 {
		// A journal left by a run with one must still be replayed.
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	j, recs, err := openJournal(path, max(size, journalHeader))
	if err != nil {
		return err
	}
	err = s.update(func(tx *bbolt.Tx) error {
		ids, deltas := tx.Bucket(bucketIDs), tx.Bucket(bucketDeltas)
		for _, r := range recs {
			id := r.record[:16]
			if ids.Get(id) != nil {
				continue // copied into the file before the crash
			}
			if err := putRecord(ids, deltas, r.site, r.seq, r.record, sha256.Sum256(r.record[recordHeader:])); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = j.reset()
	}
	if err == nil && size == 0 {
		err = j.f.Close()
		j = nil
	}
	if err != nil {
		if j != nil {
			j.f.Close()
		}
		return err
	}
	s.journal = j
	return nil
}

// putRecord writes one delta's record and id entry into the file, and
// moves the site's sequence up to seq.
func putRecord(ids, deltas *bbolt.Bucket, site string, seq uint64, record []byte, sum [sha256.Size]byte) error {
	b, err := deltas.CreateBucketIfNotExists([]byte(site))
	if err != nil {
		return err
	}
	if err := b.Put(u64(seq), record); err != nil {
		return err
	}
	if seq > b.Sequence() {
		if err := b.SetSequence(seq); err != nil {
			return err
		}
	}
	return ids.Put(record[:16], idValue(sum, seq, site))
}

// idValue is an id entry in the file: sha256(body) + seq + site.
func idValue(sum [sha256.Size]byte, seq uint64, site string) []byte {
	v := make([]byte, 0, sha256.Size+8+len(site))
	return append(binary.BigEndian.AppendUint64(append(v, sum[:]...), seq), site...)
}

// commitJournal appends a group that fits to the journal: the duplicate
// check (against the journal's ids, the group's, then the file's), a Seq
// for each new delta, one write and one fdatasync.
func (s *DB) commitJournal(batch []store.Delta) []groupcommit.Result {
	res := make([]groupcommit.Result, len(batch))
	fresh := make(map[[16]byte]idEntry, len(batch)) // the group's new deltas
	records := make([][]byte, len(batch))
	err := s.view(func(tx *bbolt.Tx) error {
		ids, deltas := tx.Bucket(bucketIDs), tx.Bucket(bucketDeltas)
		for i := range batch {
			d := &batch[i]
			sum := sha256.Sum256(d.Body)
			prev, ok := s.ids[d.ID]
			if !ok {
				prev, ok = fresh[d.ID]
			}
			if !ok {
				if v := ids.Get(d.ID[:]); v != nil {
					prev, ok = idEntry{seq: binary.BigEndian.Uint64(v[sha256.Size:]), site: string(v[sha256.Size+8:])}, true
					copy(prev.sum[:], v)
				}
			}
			if ok {
				if prev.sum != sum || prev.site != d.Site {
					res[i].Err = fmt.Errorf("bolt: append %x: %w", d.ID, store.ErrConflict)
				} else {
					res[i].Appended = store.Appended{Seq: prev.seq, Duplicate: true}
				}
				continue
			}
			seq, known := s.next[d.Site]
			if !known {
				if b := deltas.Bucket([]byte(d.Site)); b != nil {
					seq = b.Sequence()
				}
			}
			seq++
			s.next[d.Site] = seq
			records[i] = encodeRecord(d)
			s.journal.add(seq, d.Site, records[i])
			fresh[d.ID] = idEntry{sum: sum, seq: seq, site: d.Site}
			res[i].Appended = store.Appended{Seq: seq}
		}
		return nil
	})
	if err == nil {
		err = s.journal.write()
	}
	if err != nil {
		// What reached the journal may be replayed: copy what is pending
		// into the file and start a new epoch, or stop taking appends.
		clear(s.next)
		if ferr := s.flush(); ferr != nil {
			s.jerr = fmt.Errorf("bolt: journal failed (%v), then copying it: %w", err, ferr)
		}
		return failed(len(batch), fmt.Errorf("bolt: append: %w", err))
	}
	s.pmu.Lock()
	for i := range batch {
		if records[i] != nil {
			d := &batch[i]
			s.ids[d.ID] = fresh[d.ID]
			s.pending[d.Site] = append(s.pending[d.Site], pendingRecord{seq: res[i].Appended.Seq, record: records[i]})
		}
	}
	s.pmu.Unlock()
	return res
}

// flush copies the journalled deltas into the file in one transaction and
// starts a new epoch of the journal. The caller holds jmu.
func (s *DB) flush() error {
	if s.journal == nil || len(s.ids) == 0 {
		return nil
	}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	err := s.update(func(tx *bbolt.Tx) error {
		ids, deltas := tx.Bucket(bucketIDs), tx.Bucket(bucketDeltas)
		for site, rs := range s.pending {
			for _, r := range rs {
				if err := putRecord(ids, deltas, site, r.seq, r.record, s.ids[[16]byte(r.record[:16])].sum); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy the journal: %w", err)
	}
	clear(s.pending)
	clear(s.ids)
	if err := s.journal.reset(); err != nil {
		return fmt.Errorf("reset the journal: %w", err)
	}
	return nil
}

// flushed runs fn with the journal copied into the file and no append
// committing: for what reads or deletes deltas in the file alone.
func (s *DB) flushed(fn func() error) error {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if err := s.flush(); err != nil {
		return fmt.Errorf("bolt: %w", err)
	}
	return fn()
}

// pendingAfter appends to out the journalled deltas of site with Seq >
// after, up to limit in all. The caller holds pmu for reading.
func (s *DB) pendingAfter(out []store.Delta, site string, after uint64, limit int) ([]store.Delta, error) {
	for _, r := range s.pending[site] {
		if len(out) >= limit {
			break
		}
		if r.seq > after {
			d, err := decodeRecord(site, r.seq, r.record)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}
