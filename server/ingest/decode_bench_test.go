package ingest_test

import (
	"fmt"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/ingest"
)

func honest() []byte {
	d := wire.Delta{Site: "demo", Arms: []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 35, Clicks: 3}}}
	for i := 0; i < 8; i++ {
		d.Items = append(d.Items, wire.Count{ID: fmt.Sprintf("evening-gowns-%d", i), N: 1})
		for j := i + 1; j < 8; j++ {
			d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprintf("evening-gowns-%d", i), To: fmt.Sprintf("evening-gowns-%d", j), W: 1})
		}
	}
	return wire.Marshal(&d)
}

// BenchmarkDecode measures Decode, Check and Canonical on an honest
// 8-click delta.
func BenchmarkDecode(b *testing.B) {
	body := honest()
	b.Run("ingest", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ingest.Decode(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		d, _ := ingest.Decode(body)
		b.ReportAllocs()
		for b.Loop() {
			if err := ingest.Check(&d, ingest.Policy{Privacy: wire.PrivacyFederated}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("canonical", func(b *testing.B) {
		d, _ := ingest.Decode(body)
		b.ReportAllocs()
		for b.Loop() {
			ingest.Canonical(&d)
		}
	})
}
