package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sample returns a central, a federated and three LDP results.
func sample() []Result {
	base := func(method, mode string, hr20 float64) Result {
		return Result{
			Method: method, Mode: mode,
			Ks: []int{5, 10, 20}, HR: []float64{hr20 / 2, hr20 * 0.8, hr20}, MRR: []float64{0.1, 0.12, 0.13},
			HRCI: []float64{0.01, 0.01, 0.012}, MRRCI: []float64{0.005, 0.005, 0.006},
			Coverage: 0.5, Diversity: 0.25, DiversityKind: "distinct-share@20",
			Sessions: 10, Predictions: 30, FitTime: 1500 * time.Millisecond, EvalTime: 250 * time.Millisecond,
		}
	}
	out := []Result{base("V-SKNN", ModeCentral, 0.6), base("tailor", ModeFederated, 0.62)}
	out[0].Notes = "k 1000"
	out[1].BytesSynced, out[1].ModelBytes = Float(1234567), Float(2048)
	out[1].ModelFirstPage, out[1].ModelLaterPage = Float(1500), Float(274)
	out[1].Default = true
	for _, e := range []float64{8, 1, 4} {
		r := base("tailor", ModeLDP, 0.4+e/20)
		r.Epsilon = Float(e)
		r.BytesSynced = Float(1000)
		out = append(out, r)
	}
	return out
}

func TestJSONRoundTrip(t *testing.T) {
	in := sample()
	var b bytes.Buffer
	if err := WriteJSON(&b, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

func TestJSONShape(t *testing.T) {
	b, err := json.Marshal(sample()[1])
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, `{"method":"tailor","mode":"federated","default":true,"HR@5":0.31,`) {
		t.Errorf("keys out of order: %s", s)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"HR@20", "MRR@20", "HR@5", "MRR@10", "HR@20_ci95", "coverage@20", "diversity",
		"diversity_kind", "bytes_synced_per_device", "model_bytes_per_device", "run_time_s", "predictions"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing %q in %s", k, s)
		}
	}
	if _, ok := m["epsilon"]; ok {
		t.Error("epsilon written for a run without one")
	}
	central, _ := json.Marshal(sample()[0])
	if strings.Contains(string(central), "bytes") || strings.Contains(string(central), "default") {
		t.Errorf("byte fields or a default mark written for a central baseline: %s", central)
	}
}

func TestReadJSONErrors(t *testing.T) {
	for _, in := range []string{`{`, `[{"HR@x": 1}]`, `[{"HR@20": "high"}]`, `[{"coverage@20": []}]`} {
		if _, err := ReadJSON(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	meta := Meta{Title: "Test run", Lines: []string{"Train: x."}}
	if err := WriteMarkdown(&b, meta, sample()); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		"# Test run\n",
		"- Train: x.\n",
		"| method | mode | HR@5 | HR@10 | HR@20 | MRR@5 | MRR@10 | MRR@20 | coverage@20 | diversity | bytes synced / device | model bytes / device | run time |\n",
		"| V-SKNN | central | 0.3000 | 0.4800 | 0.6000 ±0.0120 | 0.1000 | 0.1200 | 0.1300 ±0.0060 | 0.5000 | 0.2500 |  |  | 1.75 s |\n",
		"| tailor | federated (default) | 0.3100 | 0.4960 | 0.6200 ±0.0120 | 0.1000 | 0.1200 | 0.1300 ±0.0060 | 0.5000 | 0.2500 | 1,234,567 | 2,048 (first 1,500, later 274) | 1.75 s |\n",
		"| tailor | ldp ε=4 |",
		"- V-SKNN (central): k 1000\n",
		"- (default): what a site gets",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
}

func TestHTML(t *testing.T) {
	var b bytes.Buffer
	rs := sample()
	rs[0].Method = `<script>alert(1)</script>`
	if err := WriteHTML(&b, Meta{Title: "T & U"}, rs); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Contains(s, "<script>") {
		t.Error("method name not escaped")
	}
	if n := strings.Count(s, "<svg"); n != 2 {
		t.Errorf("%d plots, want 2 (bars and epsilon)", n)
	}
	for _, bad := range []string{"http://", "https://", "src="} {
		if strings.Contains(strings.ReplaceAll(s, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("external reference %q in a self-contained page", bad)
		}
	}
	if !strings.Contains(s, "T &amp; U") || !strings.Contains(s, "ε (log scale)") {
		t.Error("title or epsilon axis missing")
	}
	// Without LDP results, the epsilon figure says so instead.
	b.Reset()
	if err := WriteHTML(&b, Meta{}, rs[:2]); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "<svg") != 1 || !strings.Contains(b.String(), "no LDP results") {
		t.Error("no-LDP page wrong")
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "nested")
	if err := Write(dir, Meta{Title: "x"}, sample()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{MarkdownFile, JSONFile, HTMLFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d files in %s, want 3 (temporary files left?)", len(entries), dir)
	}
}

func TestNiceCeil(t *testing.T) {
	tests := []struct{ in, want float64 }{{0, 0.01}, {0.63, 1}, {0.19, 0.2}, {0.41, 0.5}, {0.05, 0.05}, {3, 5}}
	for _, tc := range tests {
		if got := niceCeil(tc.in); abs(got-tc.want) > 1e-12 {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
