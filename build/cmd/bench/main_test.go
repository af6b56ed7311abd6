package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseBench(t *testing.T) {
	out := `goos: linux
BenchmarkSyncThroughput/clients=32-2   	   24000	    701380 ns/op	   1.91 MB/s	      3880 bare-req/s	         0.5822 ratio	      2259 syncs/s
BenchmarkSyncThroughput/clients=32-2   	   24000	    715956 ns/op	   1.87 MB/s	      4485 bare-req/s	         0.4527 ratio	      2030 syncs/s
BenchmarkSyncThroughput/clients=32-2   	   24000	    700000 ns/op	   1.87 MB/s	      4000 bare-req/s	         0.5 ratio	      2100 syncs/s
BenchmarkRank200   	    1000	   5000 ns/op	  5740 p50-µs
--- BENCH: BenchmarkChromium
    chromium_test.go:42: a log line 1 2
PASS
ok  	github.com/tailorhq/tailor/server/api	49.147s
`
	s, err := parseBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, unit string
		want       float64
		n          int
	}{
		{"BenchmarkSyncThroughput/clients=32", "syncs/s", 2100, 3},
		{"BenchmarkSyncThroughput/clients=32", "bare-req/s", 4000, 3},
		{"BenchmarkSyncThroughput/clients=32", "ns/op", 701380, 3},
		{"BenchmarkRank200", "p50-µs", 5740, 1},
		{"BenchmarkChromium", "cold-ms", 0, 0},
	} {
		got, ok := s.get(tc.name, tc.unit)
		if got != tc.want || ok != (tc.n > 0) || s.count(tc.name, tc.unit) != tc.n {
			t.Errorf("%s %s = %v, %v (%d values); want %v (%d)", tc.name, tc.unit, got, ok, s.count(tc.name, tc.unit), tc.want, tc.n)
		}
	}
	if _, err := parseBench(strings.NewReader("BenchmarkX-2 10 1x2 ns/op\n")); err == nil {
		t.Error("a value that is not a number was accepted")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := append([]float64(nil), tc.in...)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("median changed its input: %v", in)
			}
		}
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, []row{
		row{figure: "sync", anchor: "bare handler", target: "≥ 0.5×"}.set(rate(2259.4), rate(3880)+" req/s", 2259.4/3880),
		row{figure: "size", anchor: "empty"}.fail("brotli not installed\nmore"),
	})
	got := b.String()
	for _, want := range []string{"2,259", "bare handler 3,880 req/s", "0.58×", "not measured", "brotli not installed"} {
		if !strings.Contains(got, want) {
			t.Errorf("the table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "more") {
		t.Errorf("a failure's second line is in the table:\n%s", got)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestRunFlags(t *testing.T) {
	for _, args := range [][]string{{"-only", "nope"}, {"-count", "0"}, {"extra"}} {
		var out, errs bytes.Buffer
		if err := run(context.Background(), args, func(string) string { return "" }, &out, &errs); err == nil {
			t.Errorf("run %q succeeded", args)
		}
	}
}
