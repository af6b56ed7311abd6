package tailor

import (
	"strings"
	"testing"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/report"
	"github.com/tailorhq/tailor/server/aggregate"
)

// TestModes checks what each registered mode tells the report without
// running it: exactly one row is the shipped default, at the server's own
// defaults (k included, never a number of the replay's), and the k = 1
// reference says it is not shipped.
func TestModes(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		mode    string
		def     bool
		cohort  int
		noise   string
		epsilon float64 // 0: none
	}{
		{NameFederated, "Tailor", report.ModeFederated, true, aggregate.DefaultParams.MinCohort, aggregate.NoiseNone, 0},
		{NameFederatedK1, "Tailor (k=1, not shipped)", report.ModeFederated, false, 1, aggregate.NoiseNone, 0},
		{NameLocal, "Tailor", report.ModeLocal, false, aggregate.DefaultParams.MinCohort, aggregate.NoiseNone, 0},
		{NameLDP(4), "Tailor", report.ModeLDP, false, aggregate.DefaultParams.MinCohort, aggregate.NoiseNone, 4},
		{NameCentralDP(1), "Tailor", report.ModeCentralDP, false, aggregate.DefaultParams.MinCohort, aggregate.NoiseGaussian, 1},
	}
	defaults := 0
	for _, name := range replay.Names() {
		if !strings.HasPrefix(name, "tailor-") {
			continue
		}
		f, _ := replay.Lookup(name)
		m, err := f(replay.Config{Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var r report.Result
		m.(replay.Annotator).Annotate(&r)
		if r.Default {
			defaults++
		}
		p := m.(*Method).params
		if err := p.Validate(); err != nil {
			t.Errorf("%s: server parameters: %v", name, err)
		}
		for _, tc := range tests {
			if tc.name != name {
				continue
			}
			eps := 0.0
			if r.Epsilon != nil {
				eps = *r.Epsilon
			}
			if m.Name() != tc.method || r.Mode != tc.mode || r.Default != tc.def || eps != tc.epsilon {
				t.Errorf("%s: %q mode %q default %v ε %v; want %q %q %v %v", name, m.Name(), r.Mode, r.Default, eps, tc.method, tc.mode, tc.def, tc.epsilon)
			}
			if p.MinCohort != tc.cohort || p.Noise != tc.noise {
				t.Errorf("%s: server k=%d noise %q, want k=%d noise %q", name, p.MinCohort, p.Noise, tc.cohort, tc.noise)
			}
		}
	}
	if defaults != 1 {
		t.Errorf("%d modes marked default, want exactly 1", defaults)
	}
	// Apart from k and noise, every mode runs the server's defaults.
	p := ServerParams()
	p.MinCohort, p.Noise = aggregate.DefaultParams.MinCohort, aggregate.DefaultParams.Noise
	if p != aggregate.DefaultParams {
		t.Errorf("ServerParams %+v differ from aggregate.DefaultParams %+v", p, aggregate.DefaultParams)
	}
}
