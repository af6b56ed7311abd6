package ingest_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/vmihailenco/msgpack/v5"
)

// oracle decodes a delta with github.com/vmihailenco/msgpack/v5, the
// decoder the design names for the server, independently of sdk/msgp and
// wire: the tests hold Decode to it. It is given only bytes Decode
// accepted, whose lengths are therefore within the input (msgpack/v5
// allocates what a length prefix claims, upstream issue #401), and reads
// the fields the way the delta schema defines them: map keys str or bin,
// ids str or bin, weights any number converted to float32, unknown fields
// skipped, the last of a repeated key winning.
func oracle(b []byte) (wire.Delta, error) {
	var d wire.Delta
	br := bytes.NewReader(b)
	dec := msgpack.NewDecoder(br)
	dec.UseLooseInterfaceDecoding(true) // int64, uint64, float64, string: at every depth
	n, err := dec.DecodeMapLen()
	if err != nil {
		return d, err
	}
	for i := 0; i < n; i++ {
		key, err := dec.DecodeString()
		if err != nil {
			return d, err
		}
		switch key {
		case "schema":
			var v uint64
			if v, err = dec.DecodeUint64(); err == nil && v != wire.DeltaSchema && v != 1 {
				err = fmt.Errorf("schema %d", v)
			}
		case "site":
			d.Site, err = dec.DecodeString()
		case "model":
			var v uint64
			v, err = dec.DecodeUint64()
			d.Model = uint32(v)
		case "id":
			var id []byte
			if id, err = dec.DecodeBytes(); err == nil {
				copy(d.ID[:], id)
			}
		case "pairs":
			var rs [][]any
			rs, err = records(dec, 3)
			d.Pairs = make([]wire.Pair, len(rs))
			for i, v := range rs {
				d.Pairs[i] = wire.Pair{From: str(v[0]), To: str(v[1]), W: float32(num(v[2]))}
			}
		case "items":
			var rs [][]any
			rs, err = records(dec, 2)
			d.Items = make([]wire.Count, len(rs))
			for i, v := range rs {
				d.Items[i] = wire.Count{ID: str(v[0]), N: float32(num(v[1]))}
			}
		case "arms":
			var rs [][]any
			rs, err = records(dec, 5, 4) // schema 1: no exposure mark
			d.Arms = make([]wire.ArmCount, len(rs))
			for i, v := range rs {
				var exposed bool
				if len(v) == 5 {
					exposed, _ = v[4].(bool)
				}
				a := wire.ArmCount{Impressions: uint32(num(v[1])), Clicks: uint32(num(v[2])), Conversions: uint32(num(v[3])), Exposed: exposed}
				for k := wire.ArmTreatment; k <= wire.ArmRules; k++ {
					if k.String() == str(v[0]) {
						a.Arm = k
					}
				}
				d.Arms[i] = a
			}
		case "reports":
			var rs [][]any
			rs, err = records(dec, 3, 4) // OLH, or an older guest's Hadamard report
			d.Reports = make([]wire.Report, len(rs))
			for i, v := range rs {
				d.Reports[i] = wire.Report{Kind: wire.ReportKind(num(v[0])), Row: uint16(num(v[1])), Col: uint16(num(v[2]))}
				if len(v) == 4 {
					d.Reports[i].Bit = int8(num(v[3]))
				}
			}
		case "eps":
			var v any
			v, err = dec.DecodeInterfaceLoose()
			d.Epsilon = float32(num(v))
		default:
			err = dec.Skip()
		}
		if err != nil {
			return d, fmt.Errorf("%s: %w", key, err)
		}
	}
	if br.Len() != 0 {
		return d, errors.New("trailing bytes")
	}
	return d, nil
}

// records reads an array of fixed-length records.
func records(dec *msgpack.Decoder, sizes ...int) ([][]any, error) {
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	out := make([][]any, 0, max(n, 0))
	for i := 0; i < n; i++ {
		v, err := dec.DecodeInterfaceLoose()
		if err != nil {
			return nil, err
		}
		rec, ok := v.([]any)
		if !ok || !slices.Contains(sizes, len(rec)) {
			return nil, fmt.Errorf("record %d: %v", i, v)
		}
		out = append(out, rec)
	}
	return out, nil
}

// str converts what loose interface decoding returns for a str or bin.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// num converts what loose interface decoding returns for a number, as wire
// reads one: integers exactly, then to the field's width.
func num(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}
