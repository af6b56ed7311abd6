package wire_test

import (
	"reflect"
	"testing"

	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// TestDeltaReports checks both report formats: an OLH report (Bit 0)
// round-trips as [kind, seed, bucket], a Hadamard report of an older guest
// as [kind, row, col, bit], and each format's ranges are enforced.
func TestDeltaReports(t *testing.T) {
	olh := wire.Report{Kind: wire.ReportPair, Row: wire.LDPSeeds - 1, Col: wire.LDPMaxBuckets - 1}
	had := wire.Report{Kind: wire.ReportItem, Row: wire.LDPRows - 1, Col: wire.LDPCols - 1, Bit: -1}
	for _, rs := range [][]wire.Report{{olh}, {had, had}} {
		d := wire.Delta{Site: "s", Epsilon: 4, Reports: rs}
		var got wire.Delta
		if err := wire.Unmarshal(wire.Marshal(&d), &got, "delta"); err != nil || !reflect.DeepEqual(got.Reports, rs) {
			t.Errorf("%+v: round trip %+v, %v", rs, got.Reports, err)
		}
	}
	// Hand-made reports: [fields...] within a delta.
	enc := func(fields ...int64) []byte {
		w := msgp.NewWriter(64)
		w.MapHeader(3)
		w.String("schema")
		w.Uint(wire.DeltaSchema)
		w.String("eps")
		w.Float32(4)
		w.String("reports")
		w.ArrayHeader(1)
		w.ArrayHeader(len(fields))
		for _, f := range fields {
			w.Int(f)
		}
		return w.Bytes()
	}
	for _, tc := range []struct {
		name   string
		fields []int64
		ok     bool
	}{
		{"olh", []int64{1, wire.LDPSeeds - 1, wire.LDPMaxBuckets - 1}, true},
		{"olh seed", []int64{0, wire.LDPSeeds, 0}, false},
		{"olh bucket", []int64{0, 0, wire.LDPMaxBuckets}, false},
		{"hadamard", []int64{0, wire.LDPRows - 1, wire.LDPCols - 1, 1}, true},
		{"hadamard row", []int64{0, wire.LDPRows, 0, 1}, false},
		{"hadamard bit", []int64{0, 0, 0, 0}, false},
		{"two fields", []int64{0, 0}, false},
		{"five fields", []int64{0, 0, 0, 1, 1}, false},
		{"kind", []int64{2, 0, 0}, false},
	} {
		err := wire.Unmarshal(enc(tc.fields...), new(wire.Delta), "delta")
		if (err == nil) != tc.ok {
			t.Errorf("%s %v: err %v, want ok %v", tc.name, tc.fields, err, tc.ok)
		}
	}
}
