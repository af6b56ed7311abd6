package bolt

import (
	"bytes"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/groupcommit"
	bbolt "go.etcd.io/bbolt"
)

// A group of appends goes to the journal in two steps (groupcommit's
// NewPipelined): stageJournal, with jmu held, checks for duplicates,
// gives Seqs and writes the records; its finish, on groupcommit's other
// goroutine and without jmu, waits for a fdatasync that started after
// the write, then lets Deltas read the records and answers. So the next
// group's checks and write run while this one's fdatasync does (at 32
// clients the syncs left part of the CPU idle, waiting on it), and one
// fdatasync covers every group written before it started: a finish whose
// group an earlier fdatasync covered returns at once. No 202 is sent
// before the fdatasync that covers its record returns.
//
// The duplicate check sees staged groups' ids (s.ids holds them from
// staging): a retry of a staged delta is answered "duplicate" by its own
// group's finish, which runs after the first one's. When a fdatasync
// fails, every finish fails until jmu's next holder undoes the groups
// staged since the last durable one (drain) and starts new epochs.
// Whatever copies or resets a half (rotate, flush) drains first, so the
// halves' records it reads are all durable.

// maxStaged is how many staged groups may wait for their finish at most.
const maxStaged = 2

// stagedGroup is a group written into the journal: its records, and
// whether its finish found them durable.
type stagedGroup struct {
	recs  []journalRecord
	state atomic.Int32 // groupStaged, groupDurable or groupFailed
}

const (
	groupStaged int32 = iota
	groupDurable
	groupFailed
)

// stageJournal writes a group (of staged Bodies) into j, in which it
// fits: the duplicate check (against the journal's ids, staged groups'
// and this group's, then the file's), a Seq for each new delta, one
// write. Its finish makes the records durable. The caller holds jmu.
func (s *DB) stageJournal(j *journal, batch []store.Delta) func() []groupcommit.Result {
	s.prune()
	res := make([]groupcommit.Result, len(batch))
	// The group's records go straight into the half's (recs is their
	// part of it), not into a slice of their own copied there after.
	start := len(j.recs)
	err := s.view(func(tx *bbolt.Tx) error {
		// One cursor for the group's lookups: Bucket.Get makes one each,
		// and a cursor's path grows by allocations.
		ids, deltas := tx.Bucket(bucketIDs).Cursor(), tx.Bucket(bucketDeltas)
		for i := range batch {
			d := &batch[i]
			sum, record := staged(d.Body)
			prev, ok := s.ids[d.ID]
			if !ok {
				if k, v := ids.Seek(d.ID[:]); v != nil && bytes.Equal(k, d.ID[:]) {
					prev, ok = recorded(v), true
				}
			}
			if ok {
				res[i] = again(prev, d, sum)
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
			j.recs = append(j.recs, journalRecord{id: d.ID, sum: sum, seq: seq, site: d.Site, record: record})
			j.add(&j.recs[len(j.recs)-1])
			s.ids[d.ID] = store.Recorded{Sum: sum, Seq: seq, Site: d.Site}
			res[i].Appended = store.Appended{Seq: seq}
		}
		return nil
	})
	if err == nil && len(j.buf) > 0 {
		err = j.write()
	}
	recs := j.recs[start:len(j.recs):len(j.recs)] // full: the half's later appends do not write over it
	if err != nil {
		// What reached the journal may be replayed: undo the group, copy
		// what is durable into the file and start new epochs, or stop
		// taking appends.
		j.buf = j.buf[:0]
		for i := range recs {
			delete(s.ids, recs[i].id)
		}
		j.recs = j.recs[:start]
		s.drain()
		ferr := s.recoverJournal()
		if ferr != nil {
			s.jerr = fmt.Errorf("bolt: journal failed (%v), then copying it: %w", err, ferr)
		}
		return now(failed(len(batch), fmt.Errorf("bolt: append: %w", err)))
	}
	g := &stagedGroup{recs: recs}
	s.inflight.Add(1)
	s.staging = append(s.staging, g)
	gen := s.written.Load() // duplicates and conflicts only: their originals' finishes come first
	if len(recs) > 0 {
		gen = s.written.Add(1)
	}
	return func() []groupcommit.Result { return s.finish(s.syncF, gen, g, res) }
}

// finish waits until the journal's writes up to group gen are durable,
// then lets Deltas read g's records and returns res. Finishes run on one
// goroutine, in the order of their groups.
func (s *DB) finish(f *os.File, gen uint64, g *stagedGroup, res []groupcommit.Result) []groupcommit.Result {
	defer s.inflight.Done()
	if err := s.durable(f, gen); err != nil {
		g.state.Store(groupFailed)
		return failed(len(res), fmt.Errorf("bolt: append: %w", err))
	}
	if len(g.recs) > 0 {
		s.pmu.Lock()
		for i := range g.recs {
			r := &g.recs[i]
			s.pending[r.site] = append(s.pending[r.site], pendingRecord{seq: r.seq, record: r.record})
			s.tail[r.site] = max(s.tail[r.site], r.seq)
		}
		s.pmu.Unlock()
	}
	g.state.Store(groupDurable)
	return res
}

// durable returns once the groups written up to gen are durable: at once
// if a fdatasync that started after gen's write returned, else after one
// that covers every group written so far. Only finishes call it.
func (s *DB) durable(f *os.File, gen uint64) error {
	if s.poisoned.Load() {
		return errPoisoned
	}
	if s.synced >= gen {
		return nil
	}
	to := s.written.Load() // before the fdatasync: what it covers
	if err := s.fsync(f); err != nil {
		s.poisoned.Store(true)
		return err
	}
	s.synced = to
	return nil
}

// errPoisoned fails the groups staged after one whose fdatasync failed.
var errPoisoned = fmt.Errorf("bolt: an earlier group's journal sync failed")

// prune forgets the oldest staged groups found durable. The caller holds
// jmu.
func (s *DB) prune() {
	i := 0
	for i < len(s.staging) && s.staging[i].state.Load() == groupDurable {
		i++
	}
	if i > 0 {
		s.staging = append(s.staging[:0], s.staging[i:]...)
	}
}

// drain waits for every staged group's finish, undoes the groups whose
// finish failed (their ids, their records in the active half) and reports
// whether any did: the caller then calls recoverJournal. The caller holds
// jmu.
func (s *DB) drain() (failed bool) {
	s.inflight.Wait()
	j := s.journals[s.active]
	for _, g := range s.staging {
		if g.state.Load() != groupFailed {
			continue
		}
		failed = true
		for i := range g.recs {
			delete(s.ids, g.recs[i].id)
		}
		j.recs = j.recs[:len(j.recs)-len(g.recs)] // failed groups are the last staged
	}
	s.staging = s.staging[:0]
	return failed
}

// recoverJournal copies the journal's durable records into the file and
// starts new epochs in both halves, so that nothing a failed or undone
// group wrote is replayed, then takes appends again. Sequences are read
// from the file again. The caller holds jmu, and drained.
func (s *DB) recoverJournal() error {
	if err := s.settle(); err != nil {
		return fmt.Errorf("bolt: %w", err)
	}
	j := s.journals[s.active]
	if len(j.recs) > 0 {
		if err := s.copyHalf(j); err != nil {
			return fmt.Errorf("bolt: %w", err)
		}
		s.forget(j)
	} else if err := j.reset(); err != nil {
		return fmt.Errorf("bolt: reset the journal: %w", err)
	}
	clear(s.next)
	s.synced = s.written.Load()
	s.poisoned.Store(false)
	return nil
}
