package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// write creates a file in dir.
func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// yoochoose writes n sessions a→b→c (and some c→a) in YOOCHOOSE format,
// starting at t0 seconds.
func yoochoose(t *testing.T, dir, name string, n int, t0 float64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("SessionId\tItemId\tTime\n")
	for i := range n {
		ts := t0 + float64(i)*600
		if i%3 == 0 {
			b.WriteString(strings.Join([]string{itoa(i), "c", ftoa(ts)}, "\t") + "\n")
			b.WriteString(strings.Join([]string{itoa(i), "a", ftoa(ts + 5)}, "\t") + "\n")
			continue
		}
		for j, it := range []string{"a", "b", "c"} {
			b.WriteString(strings.Join([]string{itoa(i), it, ftoa(ts + float64(j)*30)}, "\t") + "\n")
		}
	}
	return write(t, dir, name, b.String())
}

func itoa(i int) string     { return strconv.Itoa(i) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// runCmd runs the command and returns stdout, stderr and the error.
func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut, false)
	return out.String(), errOut.String(), err
}

func TestRunTrainEval(t *testing.T) {
	dir := t.TempDir()
	train := yoochoose(t, dir, "train.txt", 60, 1396300000)
	ev := yoochoose(t, dir, "eval.txt", 12, 1396400000)
	out := filepath.Join(dir, "out")
	stdout, stderr, err := runCmd(t, "-train", train, "-eval", ev, "-out", out, "-workers", "2", "-methods", "pop,sr,vsknn", "-progress")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "| SR | central |") || !strings.Contains(stdout, "| V-SKNN | central |") {
		t.Errorf("table missing rows:\n%s", stdout)
	}
	if !strings.Contains(stderr, "\r[1/3] pop") || !strings.Contains(stderr, "wrote ") {
		t.Errorf("no progress bar or summary on stderr:\n%q", stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var results []map[string]any
	if err := json.Unmarshal(b, &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 || results[1]["method"] != "SR" || results[1]["HR@20"].(float64) < 0.6 {
		t.Errorf("results.json: %s", b)
	}
	for _, f := range []string{"results.md", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestNotesAndProfile: -note lines reach the report's header, in order,
// and -cpuprofile writes a profile.
func TestNotesAndProfile(t *testing.T) {
	dir := t.TempDir()
	train := yoochoose(t, dir, "train.txt", 30, 1396300000)
	ev := yoochoose(t, dir, "eval.txt", 6, 1396400000)
	prof := filepath.Join(dir, "cpu.prof")
	notes := []string{"Published (test half, GPU): SR-GNN HR@20 70.57, MRR@20 30.94.", "Second note."}
	stdout, stderr, err := runCmd(t, "-train", train, "-eval", ev, "-out", filepath.Join(dir, "out"), "-methods", "pop",
		"-note", notes[0], "-note", notes[1], "-cpuprofile", prof)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	i, j := strings.Index(stdout, notes[0]), strings.Index(stdout, notes[1])
	if i < 0 || j < i {
		t.Errorf("notes missing or out of order in the report:\n%s", stdout)
	}
	if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
		t.Errorf("cpu profile: %v", err)
	}
}

func TestRunSplitDaysWithCategories(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("session_id;user_id;item_id;timeframe;eventdate\n")
	for i := range 40 {
		date := "2016-05-0" + string(rune('1'+i/5)) // 8 dates, 5 sessions each
		for j, it := range []string{"1", "2", "3"} {
			b.WriteString(strings.Join([]string{itoa(i), "NA", it, itoa(j * 1000), date}, ";") + "\n")
		}
	}
	views := write(t, dir, "views.csv", b.String())
	cats := write(t, dir, "cats.csv", "itemId;categoryId\n1;10\n2;10\n3;11\n")
	stdout, stderr, err := runCmd(t, "-train", views, "-split-days", "2", "-categories", cats, "-out", filepath.Join(dir, "o"), "-methods", "segment,sr")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{
		"at or after 2016-05-07 (the last 2 days)",
		"Evaluated: 10 sessions, 20 predictions",
		"category of the item just viewed",
		"diversity (category-ild@20)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("missing %q in\n%s", want, stdout)
		}
	}
	if strings.Contains(stderr, "\r") {
		t.Error("progress bar drawn without a terminal or -progress")
	}
}

func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	train := yoochoose(t, dir, "train.txt", 10, 1396300000)
	bad := write(t, dir, "bad.txt", "SessionId\tItemId\tTime\n1\ta\t1\n1\tb\tlater\n")
	digi := write(t, dir, "digi.csv", "session_id;user_id;item_id;timeframe;eventdate\n1;NA;a;0;2016-01-01\n1;NA;b;5;2016-01-01\n")
	unseen := write(t, dir, "unseen.txt", "SessionId\tItemId\tTime\n1\tx\t1\n1\ty\t2\n")
	tests := []struct {
		name  string
		args  []string
		usage bool   // exit status 2
		want  string // in the message
	}{
		{"no train", []string{"-eval", train}, true, "-train is required"},
		{"no eval, no split", []string{"-train", train}, true, "-split-days"},
		{"both eval and split", []string{"-train", train, "-eval", train, "-split-days", "1"}, true, "only without -eval"},
		{"bad k", []string{"-train", train, "-eval", train, "-k", "5,x"}, true, "-k"},
		{"zero workers", []string{"-train", train, "-eval", train, "-workers", "0"}, true, "-workers"},
		{"negative sample", []string{"-train", train, "-eval", train, "-sample", "-1"}, true, "-sample"},
		{"limit and sample", []string{"-train", train, "-eval", train, "-limit", "5", "-sample", "5"}, true, "not both"},
		{"unknown method", []string{"-train", train, "-eval", train, "-methods", "pop,gru4rec"}, true, "gru4rec"},
		{"unknown flag", []string{"-train", train, "-frobnicate"}, true, "frobnicate"},
		{"stray argument", []string{"-train", train, "-eval", train, "extra"}, true, "extra"},
		{"missing file", []string{"-train", filepath.Join(dir, "nope.txt"), "-eval", train}, false, "nope.txt"},
		{"malformed row", []string{"-train", train, "-eval", bad}, false, "bad.txt:3"},
		{"formats differ", []string{"-train", train, "-eval", digi}, false, "yoochoose but -eval is diginetica"},
		{"nothing to evaluate", []string{"-train", train, "-eval", unseen}, false, "no evaluation session left"},
		{"bad categories", []string{"-train", train, "-eval", train, "-categories", bad}, false, "bad.txt:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "-out", filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-")))
			_, _, err := runCmd(t, args...)
			if err == nil {
				t.Fatal("no error")
			}
			var ue *usageError
			if errors.As(err, &ue) != tc.usage {
				t.Errorf("usage error = %v, want %v (%v)", !tc.usage, tc.usage, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	_, stderr, err := runCmd(t, "-help")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, f := range []string{"-train", "-eval", "-categories", "-out", "-methods", "-k", "-workers", "-seed", "-limit", "-sample", "-split-days", "-min-item-support", "-progress", "vsknn"} {
		if !strings.Contains(stderr, f) {
			t.Errorf("help does not mention %s", f)
		}
	}
}

// TestRealSplit runs the command on the real yoochoose files with a small
// -limit; it skips when the public data is absent.
func TestRealSplit(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "datasets", "yoochoose-100k")
	if d := os.Getenv("TAILOR_DATASETS"); d != "" {
		dir = filepath.Join(d, "yoochoose-100k")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("skipping: public datasets not found at %s", dir)
	}
	stdout, stderr, err := runCmd(t, "-train", filepath.Join(dir, "train_tr.txt"), "-eval", filepath.Join(dir, "train_valid.txt"),
		"-limit", "50", "-methods", "pop,vsknn", "-out", t.TempDir())
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "limited to the first 50 of") {
		t.Errorf("output:\n%s", stdout)
	}
}

// TestSample evaluates an even sample of the evaluation sessions.
func TestSample(t *testing.T) {
	dir := t.TempDir()
	train := yoochoose(t, dir, "train.txt", 60, 1396300000)
	ev := yoochoose(t, dir, "eval.txt", 12, 1396400000)
	stdout, stderr, err := runCmd(t, "-train", train, "-eval", ev, "-sample", "4", "-methods", "pop", "-out", filepath.Join(dir, "o"))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "Evaluated: 4 sessions") || !strings.Contains(stdout, "a sample of 4 of 12 spread evenly") {
		t.Errorf("output:\n%s", stdout)
	}
}
