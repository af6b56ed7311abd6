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

func TestLastWait(t *testing.T) {
	tests := []struct {
		name   string
		stages map[string]float64
		want   string
		at     float64
		ok     bool
	}{
		{"none", map[string]float64{"ranked": 90}, "", 0, false},
		{"engine last", map[string]float64{"initialized": 80, "profile": 50, "config response": 40, "shards response": 60, "ranked": 90}, "initialized", 80, true},
		{"shards last", map[string]float64{"initialized": 80, "profile": 50, "shards response": 85.5}, "shards response", 85.5, true},
		{"no stored profile read", map[string]float64{"initialized": 30, "config response": 45}, "config response", 45, true},
	}
	for _, tt := range tests {
		s := Start{Stages: tt.stages}
		got, at, ok := s.LastWait()
		if got != tt.want || at != tt.at || ok != tt.ok {
			t.Errorf("%s: LastWait = %q, %v, %v; want %q, %v, %v", tt.name, got, at, ok, tt.want, tt.at, tt.ok)
		}
		if line := s.String(); ok != strings.Contains(line, "last waited for: "+tt.want) {
			t.Errorf("%s: String %q names the last wait: %v, want %v", tt.name, line, !ok, ok)
		}
	}
}
