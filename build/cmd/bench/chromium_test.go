//go:build !wasip1

package main

import (
	"os"
	"testing"
	"time"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// dwell is how long the cold page stays open before the warm loads: a
// visitor reads a first page for seconds, and V8 writes its code cache of
// tailor.wasm only once no function has tiered up for 2 s
// (wasm_caching_timeout_ms). A reload 300 ms after the first ranking, as
// this benchmark did until session 6, measured a returning visitor
// without that cache: warm 106 ms at rest, against 50-60 with it.
const dwell = 3 * time.Second

// BenchmarkChromium measures, in a fresh Chromium per iteration, on the
// demo's home page served by the demo's server at $TAILOR_BENCH_DEMO
// (build/cmd/bench starts one): the first personalized slot (home-recs'
// first tailor:ranked after the loader's "tailor:start" mark) cold, then,
// after the cold page stayed open for dwell, warm (the median of 3
// reloads); the bytes the cold load transferred, Tailor's and the rest of
// the page's; and the latency of tailor.rank for 200 candidates from
// JavaScript (boundary, msgpack and promise included; 300 calls after 20
// of warm-up). Each metric is the median over the iterations. It logs
// each load's start (browsertest.ReadStart), per Chromium the median
// stages of the loader's start, and tailor.wasm's stages in the trace of
// one more warm load (browsertest.Trace.WasmStages). It is a measurement: without
// $TAILOR_BENCH_DEMO it skips.
//
// DevTools' network tracking is off in the tab, as in sdk/js TestSpeed
// (browsertest.StopNetworkLog): with it on, Chromium copies each response
// body for DevTools on the page's main thread, which no visitor's browser
// does.
func BenchmarkChromium(b *testing.B) {
	base := os.Getenv("TAILOR_BENCH_DEMO")
	if base == "" {
		b.Skip("measures the demo's server at $TAILOR_BENCH_DEMO: run go run ./build/cmd/bench -only chromium")
	}
	var cold, warm, tailor, page, p50, p99 []float64
	for range b.N {
		tb := browsertest.New(b, browsertest.WithScripts(browsertest.StartRecorder))
		tb.StopNetworkLog()
		c := loadHome(tb, base)
		b.Logf("cold: %s", c)
		cold = append(cold, c.Stages["ranked"])
		time.Sleep(dwell)
		// The cold load's bytes once its lazy images had time to arrive.
		c = browsertest.ReadStart(tb, "home-recs")
		tailor, page = append(tailor, c.Tailor), append(page, c.Page)
		var ws []browsertest.Start
		var w []float64
		for i := range 3 {
			l := loadHome(tb, base)
			b.Logf("warm %d: %s", i+1, l)
			ws, w = append(ws, l), append(w, l.Stages["ranked"])
		}
		for _, l := range browsertest.StageTable([]string{"cold", "warm"}, []browsertest.Start{c}, ws) {
			b.Log(l)
		}
		warm = append(warm, median(w))
		// One more warm load, traced (not in the medians: tracing slows
		// the browser): where tailor.wasm's start waited, and whether V8
		// found the compiled module.
		var l browsertest.Start
		tr := tb.Trace(browsertest.WasmTraceCategories, func() { l = loadHome(tb, base) })
		if line, ok := tr.WasmStages(); ok {
			b.Logf("traced warm (ms after tailor:start): ranked +%.1f; %s", l.Stages["ranked"], line)
		}
		r := browsertest.MeasureRank(tb, "", 200, 20, 300)
		p50, p99 = append(p50, r.P50), append(p99, r.P99)
		tb.NoErrors()
		tb.Close()
	}
	b.ReportMetric(median(cold), "cold-ms")
	b.ReportMetric(median(warm), "warm-ms")
	b.ReportMetric(median(tailor), "tailor-B")
	b.ReportMetric(median(page), "page-B")
	b.ReportMetric(median(p50), "rank200-p50-ms")
	b.ReportMetric(median(p99), "rank200-p99-ms")
}

// loadHome loads the home page and reads the loader's start up to the
// frame that paints the personalized slot, home-recs.
func loadHome(tb *browsertest.Tab, base string) browsertest.Start {
	tb.Open(base + "/")
	return browsertest.ReadStart(tb, "home-recs")
}
