// Package msgp is Tailor's small MessagePack codec: an append-only Writer and
// a bounds-checked Reader over a byte slice.
//
// The guest (tailor.wasm) cannot afford github.com/vmihailenco/msgpack/v5:
// its reflection pulls ~300 KB (brotli) into every visitor's download. This
// codec writes only the subset Tailor's wire types use (nil, bool, ints,
// float32/64, str, bin, array, map), always in the shortest form, so its
// bytes decode with msgpack/v5 on the Go side (tests check this).
//
// The Reader treats input as hostile: every length prefix is checked against
// the bytes that remain before anything is allocated, nesting is bounded,
// and errors are sticky, so a decoder reads a whole structure and checks
// Err once at the end:
//
//	r := msgp.NewReader(b)
//	n := r.MapHeader()
//	for i := 0; i < n; i++ {
//		switch r.String() {
//		case "v":
//			v = r.Uint()
//		default:
//			r.Skip()
//		}
//	}
//	if err := r.Finish(); err != nil { ... }
//
// # Notes
//
// Writer and Reader are not goroutine-safe; neither retains the caller's
// slices beyond the calls that use them, except Reader, which reads b until
// it is dropped.
package msgp

import (
	"math"

	"github.com/tailorhq/tailor/sdk/internal/errs"
)

// Errors reported by Reader.Err. A decode fails with the first one met.
var (
	ErrShort     = errs.New("msgp: unexpected end of input")
	ErrType      = errs.New("msgp: unexpected type")
	ErrRange     = errs.New("msgp: value out of range")
	ErrNotFinite = errs.New("msgp: NaN or Inf")
	ErrDepth     = errs.New("msgp: nesting too deep")
	ErrTrailing  = errs.New("msgp: trailing bytes")
	ErrTooLong   = errs.New("msgp: length exceeds limit")
)

// MaxDepth bounds how deeply Skip descends into nested arrays and maps.
const MaxDepth = 32

// Writer appends MessagePack to an internal buffer.
type Writer struct {
	buf []byte
}

// NewWriter returns a Writer whose buffer starts with capacity n.
func NewWriter(n int) *Writer { return &Writer{buf: make([]byte, 0, n)} }

// Bytes returns the encoded bytes. They alias the Writer's buffer until Reset.
func (w *Writer) Bytes() []byte { return w.buf }

// Len returns the number of bytes written so far.
func (w *Writer) Len() int { return len(w.buf) }

// Reset empties the buffer, keeping its capacity.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

//go:noinline
func (w *Writer) byte1(b byte) { w.buf = append(w.buf, b) }

//go:noinline
func (w *Writer) be16(tag byte, v uint16) { w.buf = append(w.buf, tag, byte(v>>8), byte(v)) }

//go:noinline
func (w *Writer) be32(tag byte, v uint32) {
	w.buf = append(w.buf, tag, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

//go:noinline
func (w *Writer) be64(tag byte, v uint64) {
	w.buf = append(w.buf, tag, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// Nil writes nil.
//
//go:noinline
func (w *Writer) Nil() { w.byte1(0xc0) }

// Bool writes a boolean.
//
//go:noinline
func (w *Writer) Bool(v bool) {
	if v {
		w.byte1(0xc3)
	} else {
		w.byte1(0xc2)
	}
}

// Uint writes an unsigned integer in its shortest form.
//
//go:noinline
func (w *Writer) Uint(v uint64) {
	switch {
	case v <= 0x7f:
		w.byte1(byte(v))
	case v <= math.MaxUint8:
		w.buf = append(w.buf, 0xcc, byte(v))
	case v <= math.MaxUint16:
		w.be16(0xcd, uint16(v))
	case v <= math.MaxUint32:
		w.be32(0xce, uint32(v))
	default:
		w.be64(0xcf, v)
	}
}

// Int writes a signed integer in its shortest form (non-negative values as
// unsigned, as msgpack/v5 does).
//
//go:noinline
func (w *Writer) Int(v int64) {
	switch {
	case v >= 0:
		w.Uint(uint64(v))
	case v >= -32:
		w.byte1(byte(v))
	case v >= math.MinInt8:
		w.buf = append(w.buf, 0xd0, byte(v))
	case v >= math.MinInt16:
		w.be16(0xd1, uint16(v))
	case v >= math.MinInt32:
		w.be32(0xd2, uint32(v))
	default:
		w.be64(0xd3, uint64(v))
	}
}

// Float32 writes a 32-bit float.
//
//go:noinline
func (w *Writer) Float32(v float32) { w.be32(0xca, math.Float32bits(v)) }

// Float64 writes a 64-bit float.
//
//go:noinline
func (w *Writer) Float64(v float64) { w.be64(0xcb, math.Float64bits(v)) }

// String writes a UTF-8 string (str family).
//
//go:noinline
func (w *Writer) String(s string) {
	n := len(s)
	switch {
	case n <= 31:
		w.byte1(0xa0 | byte(n))
	case n <= math.MaxUint8:
		w.buf = append(w.buf, 0xd9, byte(n))
	case n <= math.MaxUint16:
		w.be16(0xda, uint16(n))
	default:
		w.be32(0xdb, uint32(n))
	}
	w.buf = append(w.buf, s...)
}

// Bin writes raw bytes (bin family).
//
//go:noinline
func (w *Writer) Bin(b []byte) {
	n := len(b)
	switch {
	case n <= math.MaxUint8:
		w.buf = append(w.buf, 0xc4, byte(n))
	case n <= math.MaxUint16:
		w.be16(0xc5, uint16(n))
	default:
		w.be32(0xc6, uint32(n))
	}
	w.buf = append(w.buf, b...)
}

// ArrayHeader starts an array of n elements; the caller writes them next.
//
//go:noinline
func (w *Writer) ArrayHeader(n int) {
	switch {
	case n <= 15:
		w.byte1(0x90 | byte(n))
	case n <= math.MaxUint16:
		w.be16(0xdc, uint16(n))
	default:
		w.be32(0xdd, uint32(n))
	}
}

// MapHeader starts a map of n key/value pairs; the caller writes them next.
//
//go:noinline
func (w *Writer) MapHeader(n int) {
	switch {
	case n <= 15:
		w.byte1(0x80 | byte(n))
	case n <= math.MaxUint16:
		w.be16(0xde, uint16(n))
	default:
		w.be32(0xdf, uint32(n))
	}
}

// Raw appends already-encoded MessagePack.
//
//go:noinline
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }
