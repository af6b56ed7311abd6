package tailor_test

import (
	"testing"

	"github.com/tailorhq/tailor/build/replay/tailor"
)

// TestWorkersSameFigures replays the same split with one worker and with
// two, for the modes that run devices in training (federated, LDP) and
// the one that runs only evaluation devices (local): every figure must be
// the same, whatever devices ran on which goroutine and which pooled
// memory each guest got (memory.go).
func TestWorkersSameFigures(t *testing.T) {
	useWasm(t)
	split, cats := smallSplit(500, 80, 3)
	methods := []string{tailor.NameFederated, tailor.NameLDP(4), tailor.NameLocal}
	one, two := replaySplit(t, split, cats, 7, 1, methods...), replaySplit(t, split, cats, 7, 2, methods...)
	for i, a := range one {
		b := two[i]
		t.Logf("%s %s: HR %v MRR %v synced %v model %v", a.Method, a.Mode, a.HR, a.MRR, deref(a.BytesSynced), deref(a.ModelBytes))
		if len(a.HR) != len(b.HR) {
			t.Fatalf("%s: %d cut-offs with 1 worker, %d with 2", methods[i], len(a.HR), len(b.HR))
		}
		for k := range a.HR {
			if a.HR[k] != b.HR[k] || a.MRR[k] != b.MRR[k] {
				t.Errorf("%s @%d: HR %v MRR %v with 1 worker, %v %v with 2", methods[i], a.Ks[k], a.HR[k], a.MRR[k], b.HR[k], b.MRR[k])
			}
		}
		if a.Coverage != b.Coverage || a.Diversity != b.Diversity {
			t.Errorf("%s: coverage %v diversity %v with 1 worker, %v %v with 2", methods[i], a.Coverage, a.Diversity, b.Coverage, b.Diversity)
		}
		if deref(a.BytesSynced) != deref(b.BytesSynced) || deref(a.ModelLaterPage) != deref(b.ModelLaterPage) {
			t.Errorf("%s: synced %v, later pages %v B with 1 worker; %v, %v with 2", methods[i],
				deref(a.BytesSynced), deref(a.ModelLaterPage), deref(b.BytesSynced), deref(b.ModelLaterPage))
		}
		// The first page's bytes include the manifest, whose creation
		// time is the replay's server's clock, not the wall clock's.
		if deref(a.ModelFirstPage) != deref(b.ModelFirstPage) {
			t.Errorf("%s: first page %v B with 1 worker, %v with 2", methods[i], deref(a.ModelFirstPage), deref(b.ModelFirstPage))
		}
	}
}

func deref(f *float64) float64 {
	if f == nil {
		return -1
	}
	return *f
}
