package tailor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/tailorhq/tailor/build/replay/data"
)

// ErrDeltaFile is the error of a delta file that cannot be read back.
var ErrDeltaFile = errors.New("tailor: bad delta file")

// deltaFile, when set (SetDeltaFile), is where the training devices'
// deltas are kept between processes: a run that finds it, made by the
// same devices (same sessions, configuration and seed), syncs them to its
// server without running a single device; a run that does not writes it.
// Running every training session through tailor.wasm is most of a
// federated mode's fit (YOOCHOOSE 1/64: 116,167 devices), while a sweep of
// the server's parameters only needs their deltas aggregated again.
var deltaFile struct {
	mu   sync.Mutex
	path string
}

// SetDeltaFile makes the federated modes read their training devices'
// deltas from path when it holds those devices' deltas, and write them
// there when it does not exist; "" turns it off. A file made by other
// devices is left alone (and the devices run).
func SetDeltaFile(path string) {
	deltaFile.mu.Lock()
	defer deltaFile.mu.Unlock()
	deltaFile.path = path
}

func deltaFilePath() string {
	deltaFile.mu.Lock()
	defer deltaFile.mu.Unlock()
	return deltaFile.path
}

// deltaMagic opens a delta file; the version byte changes with the layout.
const deltaMagic = "tailor-deltas\x02"

// Bounds of a delta file's counts, so that a damaged file fails to read
// instead of allocating without end.
const (
	maxFileDevices = 1 << 24
	maxFileDeltas  = 1 << 16 // per device
	maxFileDelta   = 1 << 20 // bytes of one delta
)

// fileKey is what makes the same devices across processes: memoKey
// without the slice's identity, with a fingerprint of the sessions and of
// the guest that ran them (a rebuilt tailor.wasm makes other deltas).
type fileKey struct {
	guest   uint64 // FNV-1a of tailor.wasm
	n       uint64
	privacy uint64
	epsilon uint64 // float32 bits
	seed    uint64
	clock   uint64
	cats    uint64
	print   uint64 // FNV-1a of every click's item and time
}

func newFileKey(k memoKey, train []data.Session, guest []byte) fileKey {
	h := fnv.New64a()
	var b [8]byte
	for _, s := range train {
		for _, c := range s.Clicks {
			h.Write([]byte(c.Item))
			binary.LittleEndian.PutUint64(b[:], uint64(c.At))
			h.Write(b[:])
		}
		h.Write([]byte{0})
	}
	clock := uint64(0)
	if k.clock {
		clock = 1
	}
	g := fnv.New64a()
	g.Write(guest)
	return fileKey{guest: g.Sum64(), n: uint64(k.n), privacy: uint64(k.privacy), epsilon: uint64(math.Float32bits(k.epsilon)),
		seed: uint64(k.cfg), clock: clock, cats: uint64(k.cats), print: h.Sum64()}
}

func (k fileKey) fields() []uint64 {
	return []uint64{k.guest, k.n, k.privacy, k.epsilon, k.seed, k.clock, k.cats, k.print}
}

// readDeltas returns the deltas of path when it was written for key; ok is
// false when the file does not exist or holds other devices' deltas.
func readDeltas(path string, key fileKey) (deltas [][][]byte, ok bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	magic := make([]byte, len(deltaMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic[:len(magic)-1]) != deltaMagic[:len(deltaMagic)-1] {
		return nil, false, fmt.Errorf("%w: %s: not a delta file", ErrDeltaFile, path)
	}
	if string(magic) != deltaMagic {
		return nil, false, nil // another layout: other devices, as far as this build can tell
	}
	for _, want := range key.fields() {
		got, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %s: %v", ErrDeltaFile, path, err)
		}
		if got != want {
			return nil, false, nil
		}
	}
	count := func(limit uint64) (int, error) {
		n, err := binary.ReadUvarint(r)
		if err == nil && n > limit {
			err = fmt.Errorf("count %d over %d", n, limit)
		}
		return int(n), err
	}
	devices, err := count(maxFileDevices)
	if err != nil || devices != int(key.n) {
		return nil, false, fmt.Errorf("%w: %s: devices: %v", ErrDeltaFile, path, err)
	}
	deltas = make([][][]byte, devices)
	for i := range deltas {
		n, err := count(maxFileDeltas)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %s: device %d: %v", ErrDeltaFile, path, i, err)
		}
		for range n {
			size, err := count(maxFileDelta)
			if err != nil {
				return nil, false, fmt.Errorf("%w: %s: device %d: %v", ErrDeltaFile, path, i, err)
			}
			d := make([]byte, size)
			if _, err := io.ReadFull(r, d); err != nil {
				return nil, false, fmt.Errorf("%w: %s: device %d: %v", ErrDeltaFile, path, i, err)
			}
			deltas[i] = append(deltas[i], d)
		}
	}
	return deltas, true, nil
}

// writeDeltas writes deltas to path for key, through a temporary file
// renamed into place, so that a run stopped halfway leaves no file a
// later run would take for whole.
func writeDeltas(path string, key fileKey, deltas [][][]byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	var b [binary.MaxVarintLen64]byte
	put := func(v uint64) { w.Write(b[:binary.PutUvarint(b[:], v)]) }
	w.WriteString(deltaMagic)
	for _, v := range key.fields() {
		put(v)
	}
	put(uint64(len(deltas)))
	for _, ds := range deltas {
		put(uint64(len(ds)))
		for _, d := range ds {
			put(uint64(len(d)))
			w.Write(d)
		}
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
