package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/tailorhq/tailor/internal/browsertest"
	"github.com/tailorhq/tailor/internal/serverproc"
)

// demoShoppers seeds the demo's model for the Chromium rows: enough for a
// published version, few enough to take seconds.
const demoShoppers = 300

// chromiumRows: the first personalized slot cold and warm, the bytes of a
// first visit, and rank 200 through the loader, in Chromium on the demo's
// home page (BenchmarkChromium, in this package's tests, against the
// demo's server started here).
func chromiumRows(ctx context.Context, c *config) []row {
	rows := []row{
		{figure: "first personalized slot, cold", anchor: "target", target: "< 1×"},
		{figure: "first personalized slot, warm", anchor: "target", target: "< 1×"},
		{figure: "first visit, Tailor's bytes", anchor: "rest of the page", target: "—"},
		{figure: "rank 200, Chromium + JS (p50 / p99)", anchor: "wazero p50", target: "—"},
	}
	if why := browsertest.Missing(); why != "" {
		return failAll(rows, why)
	}
	start, cancel := context.WithTimeout(ctx, 4*time.Minute) // a bound for a loaded machine
	demo, err := serverproc.StartDemo(start, serverproc.DemoConfig{Root: c.root, GoCmd: c.goCmd, Shoppers: demoShoppers})
	cancel()
	if err != nil {
		return failAll(rows, err.Error())
	}
	defer demo.Stop()
	base := demo.URL
	cmd := exec.CommandContext(ctx, c.goCmd, "test", "-v", "-run", "^$", "-bench", "^BenchmarkChromium$", "-benchtime", "1x",
		"-count", strconv.Itoa(c.browsers), "./build/cmd/bench")
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), "TAILOR_BENCH_DEMO="+base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return failAll(rows, fmt.Sprintf("BenchmarkChromium: %v: %s", err, tail(out, 500)))
	}
	// Each load's start and the stage table, as BenchmarkChromium logs them.
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "    ") {
			fmt.Fprintln(c.log, "bench: chromium:", strings.TrimSpace(l))
		}
	}
	s, err := parseBench(bytesReader(out))
	if err != nil {
		return failAll(rows, err.Error())
	}
	const name = "BenchmarkChromium"
	get := func(unit string) float64 { v, _ := s.get(name, unit); return v }
	n := s.count(name, "cold-ms")
	if n == 0 {
		return failAll(rows, "no cold-ms in BenchmarkChromium's output: "+string(tail(out, 300)))
	}
	note := fmt.Sprintf("demo home page, loopback, %d fresh Chromiums", n)
	cold, warm := get("cold-ms"), get("warm-ms")
	rows[0] = rows[0].set(ms(cold), "150 ms", cold/150)
	rows[0].note = note
	rows[1] = rows[1].set(ms(warm), "50 ms", warm/50)
	rows[1].note = "median of 3 reloads per Chromium, its first page open 3 s"
	tb, pb := get("tailor-B"), get("page-B")
	rows[2] = rows[2].set(bytesOf(int(tb)), bytesOf(int(pb)), tb/pb)
	rows[2].note = "transferred on the cold load: tailor.js, tailor.wasm, manifest, shards"
	p50, p99 := get("rank200-p50-ms"), get("rank200-p99-ms")
	if wazeroRank[0] > 0 {
		rows[3] = rows[3].set(fmt.Sprintf("%s / %s", ms(p50), ms(p99)), ms(wazeroRank[0]/1000), p50/(wazeroRank[0]/1000))
	} else {
		rows[3].value, rows[3].anchor, rows[3].ratio = fmt.Sprintf("%s / %s", ms(p50), ms(p99)), "wazero: not run", "—"
	}
	rows[3].note = "the demo's model; 300 calls, timer resolution 0.1 ms"
	return rows
}
