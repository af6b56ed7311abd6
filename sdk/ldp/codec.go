package ldp

import (
	"math"
	"slices"

	"github.com/tailorhq/tailor/sdk/internal/errs"
)

// ErrCorrupt is returned by UnmarshalBinary for bytes that are not a sketch
// of this package's dimensions.
var ErrCorrupt = errs.New("ldp: corrupt sketch encoding")

// codecVersion is the first byte of an encoded sketch.
const codecVersion = 1

// MarshalBinary encodes the sketch compactly for checkpoints: version,
// rows, cols, n, v, then only the non-zero cells as (gap, float64) pairs.
// An empty sketch takes 21 bytes, a full one about 9 bytes a cell. The
// encoding is hand-written (no encoding/binary: it pulls reflect into the
// guest, which imports this package).
func (s *Sketch) MarshalBinary() ([]byte, error) {
	b := []byte{codecVersion}
	b = appendUvarint(b, Rows)
	b = appendUvarint(b, Cols)
	b = appendFloat(b, s.n)
	b = appendFloat(b, s.v)
	return appendCells(b, s.m), nil
}

// UnmarshalBinary replaces the sketch with the one encoded in b. It checks
// the dimensions, every index and that every number is finite, and never
// allocates more than one sketch.
func (s *Sketch) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	if d.byte() != codecVersion || d.uvarint() != Rows || d.uvarint() != Cols {
		return ErrCorrupt
	}
	n, v := d.float(), d.float()
	if d.bad || !(n >= 0) || !(v >= 0) {
		return ErrCorrupt
	}
	m := make([]float64, Rows*Cols)
	d.cells(m, func(x float64) bool { return x != 0 })
	if d.bad || len(d.b) != 0 {
		return ErrCorrupt
	}
	s.m, s.n, s.v = m, n, v
	return nil
}

// appendCells appends how many of m's cells are not zero, then each of
// them as (gap from the previous one, value): the sparse body of a sketch's
// and a table's encoding.
func appendCells(b []byte, m []float64) []byte {
	nz := 0
	for _, x := range m {
		if x != 0 {
			nz++
		}
	}
	b = slices.Grow(b, 10+nz*10)
	b = appendUvarint(b, uint64(nz))
	next := 0
	for i, x := range m {
		if x != 0 {
			b = appendUvarint(b, uint64(i-next))
			b = appendFloat(b, x)
			next = i + 1
		}
	}
	return b
}

func appendUvarint(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

func appendFloat(b []byte, f float64) []byte {
	u := math.Float64bits(f)
	for i := 0; i < 8; i++ {
		b = append(b, byte(u>>(8*i)))
	}
	return b
}

// decoder reads the sketch encoding; the first error sticks in bad.
type decoder struct {
	b   []byte
	bad bool
}

// cells reads what appendCells wrote into m (zeroed, of the encoder's
// length): at most len(m) cells, indexes increasing and inside m, each
// value one that valid says is possible.
func (d *decoder) cells(m []float64, valid func(float64) bool) {
	nz := d.uvarint()
	if nz > uint64(len(m)) {
		d.bad = true
	}
	next := uint64(0)
	for k := uint64(0); k < nz && !d.bad; k++ {
		i := next + d.uvarint()
		x := d.float()
		if d.bad || i < next || i >= uint64(len(m)) || !valid(x) {
			d.bad = true
			return
		}
		m[i] = x
		next = i + 1
	}
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if len(d.b) == 0 {
			d.bad = true
			return 0
		}
		c := d.b[0]
		d.b = d.b[1:]
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	d.bad = true
	return 0
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.bad = true
		return 0
	}
	var u uint64
	for i := 0; i < 8; i++ {
		u |= uint64(d.b[i]) << (8 * i)
	}
	d.b = d.b[8:]
	f := math.Float64frombits(u)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.bad = true
		return 0
	}
	return f
}
