// Package ingest turns the body of a POST /v1/sync into a validated
// wire.Delta, decoding it with github.com/vmihailenco/msgpack/v5.
//
// msgpack/v5 v5.4.1 sizes allocations from the length prefixes of its
// input (its allocation limit does not apply, upstream issue #401) and has
// no nesting limit: a 5-byte body claiming a 2 GiB bin (c6 80 00 00 00)
// kills the process with an out-of-memory fatal error that recover cannot
// catch, and deep nesting overflows the stack. So Decode uses only the
// library's low-level API (PeekCode, DecodeMapLen, DecodeArrayLen,
// DecodeBytesLen, ReadFull, the number decoders) and checks every length
// against the bytes remaining before reading what it claims, bounds
// nesting by MaxDepth, and refuses NaN and Inf: no input allocates more
// than a small multiple of its own size, itself capped at
// wire.MaxDeltaBytes.
//
// Decode accepts exactly what the guest's own decoder (wire.Unmarshal)
// accepts and yields the same value; the fuzz test holds the two to it.
// Check then applies the server's stricter policy.
//
//	d, err := ingest.Decode(body)
//	if err == nil {
//		err = ingest.Check(&d)
//	}
//	switch {
//	case errors.Is(err, ingest.ErrMalformed): // 400
//	case errors.Is(err, ingest.ErrTooBig): // 413
//	case err != nil: // ErrInvalid, ErrSchema: 422
//	}
//
// # Notes
//
// Decode and Check are safe to call from many goroutines. The returned
// delta does not alias the input.
package ingest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/vmihailenco/msgpack/v5"
)

// Errors of Decode and Check, wrapped with the field that failed.
var (
	ErrMalformed = errors.New("ingest: malformed msgpack")    // truncated, wrong type, bad length, too deep, trailing bytes
	ErrTooBig    = errors.New("ingest: delta too large")      // over wire.MaxDeltaBytes
	ErrSchema    = errors.New("ingest: unknown delta schema") // a schema version the server does not speak
	ErrInvalid   = errors.New("ingest: invalid delta")        // well-formed, but a value out of range, NaN/Inf, too many entries...
)

// MaxDepth bounds how deeply unknown fields may nest, as the guest's
// decoder does (msgp.MaxDepth).
const MaxDepth = msgp.MaxDepth

// maxArmCount bounds each per-arm count of one delta, as the guest does.
const maxArmCount = 1 << 20

var armNames = [...]string{wire.ArmTreatment.String(), wire.ArmHoldout.String(), wire.ArmRules.String()}

// Decode decodes and validates one profile delta: the schema version,
// every size against the wire limits, ids, finite weights within
// ±wire.MaxDeltaWeight, known arms. See the package documentation.
func Decode(b []byte) (wire.Delta, error) {
	var d wire.Delta
	if len(b) > wire.MaxDeltaBytes {
		return d, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooBig, len(b), wire.MaxDeltaBytes)
	}
	br := bytes.NewReader(b)
	// *bytes.Reader is an io.ByteScanner, so the decoder reads it directly
	// without buffering ahead: br.Len() is exactly what remains.
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(br)
	x := &decoder{br: br, dec: dec}
	if err := x.delta(&d); err != nil {
		return wire.Delta{}, err
	}
	if br.Len() != 0 {
		return wire.Delta{}, fmt.Errorf("%w: %d trailing bytes after the delta", ErrMalformed, br.Len())
	}
	return d, nil
}

type decoder struct {
	br      *bytes.Reader
	dec     *msgpack.Decoder
	scratch []byte
}

func (x *decoder) delta(d *wire.Delta) error {
	n, err := x.mapLen(at("delta"), 16)
	if err != nil {
		return err
	}
	schema := uint64(0)
	for i := 0; i < n; i++ {
		key, err := x.bytes(at("delta key"), -1)
		if err != nil {
			return err
		}
		switch string(key) {
		case "schema":
			schema, err = x.uint(at("schema"), math.MaxUint64)
		case "site":
			d.Site, err = x.string(at("site"), wire.MaxIDLen)
		case "model":
			var v uint64
			v, err = x.uint(at("model"), math.MaxUint32)
			d.Model = uint32(v)
		case "id":
			var id []byte
			if id, err = x.bytes(at("id"), -1); err == nil && len(id) != len(d.ID) {
				err = fmt.Errorf("%w: id of %d bytes, want %d", ErrInvalid, len(id), len(d.ID))
			}
			copy(d.ID[:], id)
		case "pairs":
			d.Pairs, err = x.pairs()
		case "items":
			d.Items, err = x.items()
		case "arms":
			d.Arms, err = x.arms()
		case "eps":
			if d.Epsilon, err = x.float32(at("eps")); err == nil && d.Epsilon < 0 {
				err = fmt.Errorf("%w: eps %v is negative", ErrInvalid, d.Epsilon)
			}
		default:
			err = x.skip(at("delta."+printable(key)), 0)
		}
		if err != nil {
			return err
		}
	}
	if schema != wire.DeltaSchema {
		return fmt.Errorf("%w: schema %d, the server speaks %d", ErrSchema, schema, wire.DeltaSchema)
	}
	return nil
}

func (x *decoder) pairs() ([]wire.Pair, error) {
	n, err := x.arrayLen(at("pairs"), wire.MaxDeltaPairs)
	if err != nil {
		return nil, err
	}
	ps := make([]wire.Pair, n)
	for j := range ps {
		f := field{name: "pairs", i: j}
		if err := x.tuple(f, 3); err != nil {
			return nil, err
		}
		p := &ps[j]
		if p.From, err = x.id(f.elem("from")); err != nil {
			return nil, err
		}
		if p.To, err = x.id(f.elem("to")); err != nil {
			return nil, err
		}
		if p.W, err = x.weight(f.elem("w")); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

func (x *decoder) items() ([]wire.Count, error) {
	n, err := x.arrayLen(at("items"), wire.MaxDeltaItems)
	if err != nil {
		return nil, err
	}
	cs := make([]wire.Count, n)
	for j := range cs {
		f := field{name: "items", i: j}
		if err := x.tuple(f, 2); err != nil {
			return nil, err
		}
		c := &cs[j]
		if c.ID, err = x.id(f.elem("id")); err != nil {
			return nil, err
		}
		if c.N, err = x.weight(f.elem("n")); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

func (x *decoder) arms() ([]wire.ArmCount, error) {
	n, err := x.arrayLen(at("arms"), wire.MaxArms)
	if err != nil {
		return nil, err
	}
	as := make([]wire.ArmCount, n)
	for j := range as {
		f := field{name: "arms", i: j}
		if err := x.tuple(f, 4); err != nil {
			return nil, err
		}
		name, err := x.string(f.elem("arm"), wire.MaxIDLen)
		if err != nil {
			return nil, err
		}
		arm := -1
		for k, a := range armNames {
			if a == name {
				arm = k
			}
		}
		if arm < 0 {
			return nil, fmt.Errorf("%w: %s: %q is not treatment, holdout or rules", ErrInvalid, f.elem("arm"), name)
		}
		a := &as[j]
		a.Arm = wire.Arm(arm)
		for _, c := range []*uint32{&a.Impressions, &a.Clicks, &a.Conversions} {
			v, err := x.uint(f.elem("count"), maxArmCount)
			if err != nil {
				return nil, err
			}
			*c = uint32(v)
		}
	}
	return as, nil
}

// field names the value being decoded, formatted only for an error.
type field struct {
	name string
	i    int    // index within name's array, or -1
	sub  string // element of the record at i
}

func at(name string) field { return field{name: name, i: -1} }

func (f field) String() string {
	switch {
	case f.i < 0:
		return f.name
	case f.sub == "":
		return fmt.Sprintf("%s[%d]", f.name, f.i)
	}
	return fmt.Sprintf("%s[%d].%s", f.name, f.i, f.sub)
}

func (f field) elem(sub string) field { f.sub = sub; return f }

// peek returns the next value's type code.
func (x *decoder) peek(f field) (byte, error) {
	c, err := x.dec.PeekCode()
	if err != nil {
		return 0, x.short(f)
	}
	return c, nil
}

func (x *decoder) short(f field) error {
	return fmt.Errorf("%w: %s: unexpected end of input", ErrMalformed, f)
}

func typeError(f field, want string, c byte) error {
	return fmt.Errorf("%w: %s: want %s, got type code %#02x", ErrMalformed, f, want, c)
}

func isInt(c byte) bool   { return c <= 0x7f || c >= 0xe0 || c >= 0xcc && c <= 0xd3 }
func isMap(c byte) bool   { return c >= 0x80 && c <= 0x8f || c == 0xde || c == 0xdf }
func isArray(c byte) bool { return c >= 0x90 && c <= 0x9f || c == 0xdc || c == 0xdd }
func isBytes(c byte) bool {
	return c >= 0xa0 && c <= 0xbf || c >= 0xd9 && c <= 0xdb || c >= 0xc4 && c <= 0xc6
}

// mapLen reads a map header; its count must fit the bytes remaining (each
// pair takes two at least) and be at most max (max < 0: no limit).
func (x *decoder) mapLen(f field, limit int) (int, error) {
	c, err := x.peek(f)
	if err != nil {
		return 0, err
	}
	if !isMap(c) {
		return 0, typeError(f, "a map", c)
	}
	n, err := x.dec.DecodeMapLen()
	if err != nil {
		return 0, x.short(f)
	}
	if n > x.br.Len()/2 {
		return 0, fmt.Errorf("%w: %s: a map of %d pairs in %d remaining bytes", ErrMalformed, f, n, x.br.Len())
	}
	if limit >= 0 && n > limit {
		return 0, fmt.Errorf("%w: %s: %d entries, the limit is %d", ErrInvalid, f, n, limit)
	}
	return n, nil
}

// arrayLen reads an array header checked like mapLen's (each element
// takes a byte at least).
func (x *decoder) arrayLen(f field, limit int) (int, error) {
	c, err := x.peek(f)
	if err != nil {
		return 0, err
	}
	if !isArray(c) {
		return 0, typeError(f, "an array", c)
	}
	n, err := x.dec.DecodeArrayLen()
	if err != nil {
		return 0, x.short(f)
	}
	if n > x.br.Len() {
		return 0, fmt.Errorf("%w: %s: an array of %d elements in %d remaining bytes", ErrMalformed, f, n, x.br.Len())
	}
	if limit >= 0 && n > limit {
		return 0, fmt.Errorf("%w: %s: %d entries, the limit is %d", ErrInvalid, f, n, limit)
	}
	return n, nil
}

// tuple reads the header of a fixed-layout record of n elements.
func (x *decoder) tuple(f field, n int) error {
	got, err := x.arrayLen(f, -1)
	if err == nil && got != n {
		err = fmt.Errorf("%w: %s: a record of %d elements, want %d", ErrMalformed, f, got, n)
	}
	return err
}

// bytes reads a str or bin value of at most max bytes (max < 0: no limit
// but the input's) into a scratch buffer valid until the next call.
func (x *decoder) bytes(f field, limit int) ([]byte, error) {
	c, err := x.peek(f)
	if err != nil {
		return nil, err
	}
	if !isBytes(c) {
		return nil, typeError(f, "a string", c)
	}
	n, err := x.dec.DecodeBytesLen()
	if err != nil {
		return nil, x.short(f)
	}
	if n > x.br.Len() {
		return nil, fmt.Errorf("%w: %s: a string of %d bytes in %d remaining bytes", ErrMalformed, f, n, x.br.Len())
	}
	if limit >= 0 && n > limit {
		return nil, fmt.Errorf("%w: %s: %d bytes, the limit is %d", ErrInvalid, f, n, limit)
	}
	if cap(x.scratch) < n {
		x.scratch = make([]byte, max(n, 64))
	}
	b := x.scratch[:n]
	if err := x.dec.ReadFull(b); err != nil {
		return nil, x.short(f)
	}
	return b, nil
}

func (x *decoder) string(f field, limit int) (string, error) {
	b, err := x.bytes(f, limit)
	return string(b), err
}

// id reads a non-empty id.
func (x *decoder) id(f field) (string, error) {
	s, err := x.string(f, wire.MaxIDLen)
	if err == nil && s == "" {
		err = fmt.Errorf("%w: %s: empty id", ErrInvalid, f)
	}
	return s, err
}

// number reads an integer of any width; neg reports a negative value,
// held in v as two's complement.
func (x *decoder) number(f field) (v uint64, neg bool, err error) {
	c, err := x.peek(f)
	if err != nil {
		return 0, false, err
	}
	switch {
	case c <= 0x7f || c >= 0xcc && c <= 0xcf:
		v, err = x.dec.DecodeUint64()
	case c >= 0xe0 || c >= 0xd0 && c <= 0xd3:
		var i int64
		i, err = x.dec.DecodeInt64()
		v, neg = uint64(i), i < 0
	default:
		return 0, false, typeError(f, "an integer", c)
	}
	if err != nil {
		return 0, false, x.short(f)
	}
	return v, neg, nil
}

// uint reads a non-negative integer of at most max.
func (x *decoder) uint(f field, limit uint64) (uint64, error) {
	v, neg, err := x.number(f)
	switch {
	case err != nil:
		return 0, err
	case neg:
		return 0, fmt.Errorf("%w: %s: %d is negative", ErrInvalid, f, int64(v))
	case v > limit:
		return 0, fmt.Errorf("%w: %s: %d exceeds %d", ErrInvalid, f, v, limit)
	}
	return v, nil
}

// float32 reads a float32, float64 or integer that is finite and fits a
// float32.
func (x *decoder) float32(f field) (float32, error) {
	c, err := x.peek(f)
	if err != nil {
		return 0, err
	}
	var v float64
	switch c {
	case 0xca:
		var v32 float32
		v32, err = x.dec.DecodeFloat32()
		v = float64(v32)
	case 0xcb:
		v, err = x.dec.DecodeFloat64()
	default:
		if !isInt(c) {
			return 0, typeError(f, "a number", c)
		}
		u, neg, err := x.number(f)
		if err != nil {
			return 0, err
		}
		if neg {
			v = float64(int64(u))
		} else {
			v = float64(u)
		}
	}
	if err != nil {
		return 0, x.short(f)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: %s: %v is not finite", ErrInvalid, f, v)
	}
	if v > math.MaxFloat32 || v < -math.MaxFloat32 {
		return 0, fmt.Errorf("%w: %s: %v does not fit a float32", ErrInvalid, f, v)
	}
	return float32(v), nil
}

// weight reads a finite weight within ±wire.MaxDeltaWeight.
func (x *decoder) weight(f field) (float32, error) {
	w, err := x.float32(f)
	if err == nil && (w > wire.MaxDeltaWeight || w < -wire.MaxDeltaWeight) {
		err = fmt.Errorf("%w: %s: %v is beyond ±%d", ErrInvalid, f, w, wire.MaxDeltaWeight)
	}
	return w, err
}

// skip reads and discards one value of a field the server does not know,
// descending at most MaxDepth levels; ext types and the reserved code are
// refused, as the guest refuses them.
func (x *decoder) skip(f field, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("%w: %s: nested deeper than %d levels", ErrMalformed, f, MaxDepth)
	}
	c, err := x.peek(f)
	if err != nil {
		return err
	}
	switch {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3 || c >= 0xca && c <= 0xd3:
		// Scalars of fixed size: Skip reads at most 9 bytes.
		if err := x.dec.Skip(); err != nil {
			return x.short(f)
		}
	case isBytes(c):
		if _, err := x.bytes(f, -1); err != nil {
			return err
		}
	case isArray(c):
		n, err := x.arrayLen(f, -1)
		for i := 0; i < n && err == nil; i++ {
			err = x.skip(f, depth+1)
		}
		return err
	case isMap(c):
		n, err := x.mapLen(f, -1)
		for i := 0; i < 2*n && err == nil; i++ {
			err = x.skip(f, depth+1)
		}
		return err
	default:
		return typeError(f, "a value Tailor writes (no ext types)", c)
	}
	return nil
}

// printable returns a field name fit for an error message.
func printable(b []byte) string {
	if len(b) > 32 {
		b = b[:32]
	}
	if !utf8.Valid(b) {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%q", b)[1 : len(fmt.Sprintf("%q", b))-1]
}

// Check applies the server's policy beyond the wire format, for what an
// honest device never sends and the aggregate must not take:
//   - ids must be valid UTF-8 without control characters;
//   - a pair may not lead from an item to itself;
//   - a pair or an item may appear only once per delta (so that clipping
//     each entry bounds the delta);
//   - weights may be negative only in a delta with local noise (Epsilon
//     > 0), where noise makes them so.
func Check(d *wire.Delta) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if err := checkID("site", d.Site); err != nil {
		return err
	}
	for i, p := range d.Pairs {
		if err := checkID("pairs", p.From); err != nil {
			return err
		}
		if err := checkID("pairs", p.To); err != nil {
			return err
		}
		switch {
		case p.From == p.To:
			return bad("pairs[%d]: %q leads to itself", i, p.From)
		case p.W < 0 && d.Epsilon == 0:
			return bad("pairs[%d]: negative weight %v without local noise", i, p.W)
		}
	}
	// Repeats, found by sorting rather than with maps: a delta is checked
	// on every sync.
	pairs := make([]int, len(d.Pairs))
	for i := range pairs {
		pairs[i] = i
	}
	slices.SortFunc(pairs, func(a, b int) int {
		pa, pb := &d.Pairs[a], &d.Pairs[b]
		return cmp.Or(strings.Compare(pa.From, pb.From), strings.Compare(pa.To, pb.To))
	})
	for k := 1; k < len(pairs); k++ {
		if a, b := &d.Pairs[pairs[k-1]], &d.Pairs[pairs[k]]; a.From == b.From && a.To == b.To {
			return bad("pairs[%d]: %q → %q appears twice", pairs[k], b.From, b.To)
		}
	}
	for i, c := range d.Items {
		if err := checkID("items", c.ID); err != nil {
			return err
		}
		if c.N < 0 && d.Epsilon == 0 {
			return bad("items[%d]: negative count %v without local noise", i, c.N)
		}
	}
	items := make([]int, len(d.Items))
	for i := range items {
		items[i] = i
	}
	slices.SortFunc(items, func(a, b int) int { return strings.Compare(d.Items[a].ID, d.Items[b].ID) })
	for k := 1; k < len(items); k++ {
		if d.Items[items[k-1]].ID == d.Items[items[k]].ID {
			return bad("items[%d]: %q appears twice", items[k], d.Items[items[k]].ID)
		}
	}
	var arms [len(armNames)]bool
	for i, a := range d.Arms {
		if arms[a.Arm] {
			return bad("arms[%d]: arm %s appears twice", i, a.Arm)
		}
		arms[a.Arm] = true
	}
	return nil
}

func checkID(field, id string) error {
	ascii := true
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: %s: id %q holds a control character", ErrInvalid, field, id)
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if !ascii && !utf8.ValidString(id) {
		return fmt.Errorf("%w: %s: id %q is not UTF-8", ErrInvalid, field, id)
	}
	return nil
}
