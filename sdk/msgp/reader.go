package msgp

import "math"

// Reader decodes MessagePack from a byte slice. Errors are sticky: after the
// first, every call returns a zero value (headers return 0, so loops end)
// and Err reports that first error.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records err unless an error is already recorded; decoders use it to
// reject values that are well-formed MessagePack but invalid for them.
//
//go:noinline
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Remaining returns the number of unread bytes.
func (r *Reader) Remaining() int { return len(r.b) - r.off }

// Offset returns the number of bytes read so far.
func (r *Reader) Offset() int { return r.off }

// Finish returns Err, or ErrTrailing if bytes remain unread.
//
//go:noinline
func (r *Reader) Finish() error {
	if r.err == nil && r.off != len(r.b) {
		r.err = ErrTrailing
	}
	return r.err
}

//go:noinline
func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = ErrShort
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

//go:noinline
func (r *Reader) tag() (byte, bool) {
	p := r.take(1)
	if p == nil {
		return 0, false
	}
	return p[0], true
}

//go:noinline
func (r *Reader) peek() (byte, bool) {
	if r.err != nil || r.off >= len(r.b) {
		return 0, false
	}
	return r.b[r.off], true
}

//go:noinline
func (r *Reader) uintN(n int) uint64 {
	p := r.take(n)
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v
}

// IsNil reports whether the next value is nil, and consumes it if so.
//
//go:noinline
func (r *Reader) IsNil() bool {
	if t, ok := r.peek(); ok && t == 0xc0 {
		r.off++
		return true
	}
	return false
}

// Bool reads a boolean.
//
//go:noinline
func (r *Reader) Bool() bool {
	t, ok := r.tag()
	switch {
	case !ok:
	case t == 0xc3:
		return true
	case t == 0xc2:
	default:
		r.Fail(ErrType)
	}
	return false
}

// number reads any integer; neg reports a negative value held in v as two's
// complement.
//
//go:noinline
func (r *Reader) number() (v uint64, neg, ok bool) {
	t, ok := r.tag()
	if !ok {
		return 0, false, false
	}
	switch {
	case t <= 0x7f:
		return uint64(t), false, true
	case t >= 0xe0:
		return uint64(int64(int8(t))), true, true
	case t >= 0xcc && t <= 0xcf:
		return r.uintN(1 << (t - 0xcc)), false, r.err == nil
	case t >= 0xd0 && t <= 0xd3:
		n := 1 << (t - 0xd0)
		u := r.uintN(n)
		shift := uint(64 - 8*n)
		s := int64(u<<shift) >> shift
		return uint64(s), s < 0, r.err == nil
	}
	r.Fail(ErrType)
	return 0, false, false
}

// Uint reads a non-negative integer of any width.
//
//go:noinline
func (r *Reader) Uint() uint64 {
	v, neg, ok := r.number()
	if ok && neg {
		r.Fail(ErrRange)
		return 0
	}
	return v
}

// UintMax reads a non-negative integer no larger than max.
//
//go:noinline
func (r *Reader) UintMax(max uint64) uint64 {
	v := r.Uint()
	if v > max {
		r.Fail(ErrRange)
		return 0
	}
	return v
}

// Int reads a signed integer of any width.
//
//go:noinline
func (r *Reader) Int() int64 {
	v, neg, ok := r.number()
	if ok && !neg && v > math.MaxInt64 {
		r.Fail(ErrRange)
		return 0
	}
	return int64(v)
}

// Float reads a float32, float64 or integer as float64, rejecting NaN and
// Inf: no wire value of Tailor's may be non-finite.
//
//go:noinline
func (r *Reader) Float() float64 {
	t, ok := r.peek()
	if !ok {
		r.take(1)
		return 0
	}
	var f float64
	switch t {
	case 0xca:
		r.off++
		f = float64(math.Float32frombits(uint32(r.uintN(4))))
	case 0xcb:
		r.off++
		f = math.Float64frombits(r.uintN(8))
	default:
		v, neg, _ := r.number()
		if neg {
			return float64(int64(v))
		}
		return float64(v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		r.Fail(ErrNotFinite)
		return 0
	}
	return f
}

// Float32 reads a finite float that fits a float32.
//
//go:noinline
func (r *Reader) Float32() float32 {
	f := r.Float()
	if f > math.MaxFloat32 || f < -math.MaxFloat32 {
		r.Fail(ErrRange)
		return 0
	}
	return float32(f)
}

//go:noinline
func (r *Reader) strLen(t byte) (int, bool) {
	switch {
	case t >= 0xa0 && t <= 0xbf:
		return int(t & 0x1f), true
	case t == 0xd9:
		return int(r.uintN(1)), true
	case t == 0xda:
		return int(r.uintN(2)), true
	case t == 0xdb:
		return int(r.uintN(4)), true
	}
	return 0, false
}

//go:noinline
func (r *Reader) binLen(t byte) (int, bool) {
	switch t {
	case 0xc4:
		return int(r.uintN(1)), true
	case 0xc5:
		return int(r.uintN(2)), true
	case 0xc6:
		return int(r.uintN(4)), true
	}
	return 0, false
}

// String reads a str (or bin) value. Its length is checked against the
// remaining input before any allocation.
//
//go:noinline
func (r *Reader) String() string { return string(r.BytesView()) }

// StringMax reads a string of at most max bytes.
//
//go:noinline
func (r *Reader) StringMax(max int) string {
	p := r.BytesView()
	if len(p) > max {
		r.Fail(ErrTooLong)
		return ""
	}
	return string(p)
}

// BytesView reads a bin (or str) value and returns a view into the input,
// valid as long as the input is.
//
//go:noinline
func (r *Reader) BytesView() []byte {
	t, ok := r.tag()
	if !ok {
		return nil
	}
	n, ok := r.strLen(t)
	if !ok {
		n, ok = r.binLen(t)
	}
	if !ok {
		r.Fail(ErrType)
		return nil
	}
	return r.take(n)
}

// ArrayHeader reads an array header. The count is checked against the
// remaining input (every element takes at least one byte), so a caller may
// allocate by it.
//
//go:noinline
func (r *Reader) ArrayHeader() int { return r.header(0x90, 0xdc, 1) }

// ArrayMax reads an array header of at most max elements.
//
//go:noinline
func (r *Reader) ArrayMax(max int) int { return r.limit(r.ArrayHeader(), max) }

// MapHeader reads a map header, with its count checked like ArrayHeader's
// (every pair takes at least two bytes).
//
//go:noinline
func (r *Reader) MapHeader() int { return r.header(0x80, 0xde, 2) }

// header reads an array or map header: a fix form (tags fix to fix+15) or a
// 16- or 32-bit count (tags wide and wide+1), checked by count. Arrays and
// maps differ only in these tags and in minBytes.
//
//go:noinline
func (r *Reader) header(fix, wide byte, minBytes int) int {
	t, ok := r.tag()
	if !ok {
		return 0
	}
	var n int
	switch {
	case t&0xf0 == fix:
		n = int(t & 0x0f)
	case t == wide:
		n = int(r.uintN(2))
	case t == wide+1:
		n = int(r.uintN(4))
	default:
		r.Fail(ErrType)
		return 0
	}
	return r.count(n, minBytes)
}

// MapMax reads a map header of at most max pairs.
//
//go:noinline
func (r *Reader) MapMax(max int) int { return r.limit(r.MapHeader(), max) }

//go:noinline
func (r *Reader) count(n, minBytes int) int {
	if r.err != nil {
		return 0
	}
	// n < 0: a 32-bit count of 2^31 or more where int is 32 bits.
	if n < 0 || n > (len(r.b)-r.off)/minBytes {
		r.err = ErrShort
		return 0
	}
	return n
}

//go:noinline
func (r *Reader) limit(n, max int) int {
	if n > max {
		r.Fail(ErrTooLong)
		return 0
	}
	return n
}

// Skip reads and discards one value of any type, descending at most
// MaxDepth levels.
//
//go:noinline
func (r *Reader) Skip() { r.skip(0) }

//go:noinline
func (r *Reader) skip(depth int) {
	if depth > MaxDepth {
		r.Fail(ErrDepth)
		return
	}
	t, ok := r.peek()
	if !ok {
		r.take(1)
		return
	}
	switch {
	case t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3:
		r.off++
	case t >= 0xcc && t <= 0xd3:
		r.number()
	case t == 0xca:
		r.take(5)
	case t == 0xcb:
		r.take(9)
	case (t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb) || (t >= 0xc4 && t <= 0xc6):
		r.BytesView()
	case (t >= 0x90 && t <= 0x9f) || t == 0xdc || t == 0xdd:
		n := r.ArrayHeader()
		for i := 0; i < n && r.err == nil; i++ {
			r.skip(depth + 1)
		}
	case (t >= 0x80 && t <= 0x8f) || t == 0xde || t == 0xdf:
		n := r.MapHeader()
		for i := 0; i < 2*n && r.err == nil; i++ {
			r.skip(depth + 1)
		}
	default:
		r.Fail(ErrType) // ext types and the reserved 0xc1: Tailor never writes them
	}
}

// Tuple reads an array header that must count exactly n elements, as
// fixed-layout records use.
//
//go:noinline
func (r *Reader) Tuple(n int) {
	if r.ArrayHeader() != n {
		r.Fail(ErrType)
	}
}

// ID reads a non-empty string of at most max bytes.
//
//go:noinline
func (r *Reader) ID(max int) string {
	s := r.StringMax(max)
	if s == "" {
		r.Fail(ErrRange)
	}
	return s
}
