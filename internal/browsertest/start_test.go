//go:build !wasip1

package browsertest

import (
	"strings"
	"testing"
)

func TestMedianStage(t *testing.T) {
	loads := func(vs ...float64) []Start {
		var ls []Start
		for _, v := range vs {
			ls = append(ls, Start{Stages: map[string]float64{"ranked": v}})
		}
		return append(ls, Start{Stages: map[string]float64{}}) // a load that never ranked
	}
	tests := []struct {
		name  string
		loads []Start
		want  float64
		ok    bool
	}{
		{"none", loads(), 0, false},
		{"one", loads(7), 7, true},
		{"odd", loads(30, 10, 20), 20, true},
		{"even", loads(40, 10, 20, 30), 25, true},
	}
	for _, tt := range tests {
		if got, ok := MedianStage(tt.loads, "ranked"); got != tt.want || ok != tt.ok {
			t.Errorf("%s: MedianStage = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStageTable(t *testing.T) {
	cold := []Start{{Stages: map[string]float64{"ranked": 120, "painted": 130}}}
	warm := []Start{{Stages: map[string]float64{"ranked": 40}}, {Stages: map[string]float64{"ranked": 60}}}
	lines := StageTable([]string{"cold", "warm"}, cold, warm)
	if len(lines) != 1+len(StartStages) {
		t.Fatalf("%d lines, want a heading and one a stage:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, want := range []string{"ranked                 120.0      50.0", "painted                130.0         -", "dom                        -         -"} {
		if !strings.Contains(strings.Join(lines, "\n"), want) {
			t.Errorf("no line %q in\n%s", want, strings.Join(lines, "\n"))
		}
	}
}
