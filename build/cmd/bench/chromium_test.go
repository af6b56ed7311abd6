//go:build !wasip1

package main

import (
	"os"
	"testing"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// benchRecorder runs before the page's own scripts: it records when each
// slot was first ranked (the tailor:ranked events).
const benchRecorder = `(() => {
	const t = window.__t = { ranked: [] };
	document.addEventListener("tailor:ranked", (e) => t.ranked.push({ slot: e.detail.slot, at: performance.now() }));
})();`

// pageLoad is what one load of the demo's home page measured.
type pageLoad struct {
	Start, Ranked float64 // the loader's start mark, the first home-recs ranking (ms since navigation)
	Tailor, Page  float64 // bytes transferred: Tailor's (its assets, /v1/), the rest of the page's
}

// BenchmarkChromium measures, in a fresh Chromium per iteration, on the
// demo's home page served by the demo's server at $TAILOR_BENCH_DEMO
// (build/cmd/bench starts one): the first personalized slot (home-recs'
// first tailor:ranked after the loader's "tailor:start" mark) cold, then
// warm (the median of 3 more loads); the bytes the cold load transferred,
// Tailor's and the rest of the page's; and the latency of tailor.rank for
// 200 candidates from JavaScript (boundary, msgpack and promise included;
// 300 calls after 20 of warm-up). Each metric is the median over the
// iterations. It is a measurement: without $TAILOR_BENCH_DEMO it skips.
func BenchmarkChromium(b *testing.B) {
	base := os.Getenv("TAILOR_BENCH_DEMO")
	if base == "" {
		b.Skip("measures the demo's server at $TAILOR_BENCH_DEMO: run go run ./build/cmd/bench -only chromium")
	}
	var cold, warm, tailor, page, p50, p99 []float64
	for range b.N {
		tb := browsertest.New(b, browsertest.WithScripts(benchRecorder))
		tb.StopNetworkLog() // as sdk/js TestSpeed: DevTools' copy of each body costs the page's main thread
		l := loadHome(tb, base)
		cold = append(cold, l.Ranked-l.Start)
		tailor, page = append(tailor, l.Tailor), append(page, l.Page)
		var w []float64
		for range 3 {
			l := loadHome(tb, base)
			w = append(w, l.Ranked-l.Start)
		}
		warm = append(warm, median(w))
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

// loadHome loads the home page and waits for its personalized slot.
func loadHome(tb *browsertest.Tab, base string) pageLoad {
	tb.Open(base + "/")
	tb.Wait(`__t.ranked.some((r) => r.slot == "home-recs")`)
	return browsertest.Eval[pageLoad](tb, `new Promise((r) => setTimeout(r, 300)).then(() => {
		const nav = performance.getEntriesByType("navigation")[0];
		let tailor = 0, page = nav ? nav.transferSize : 0;
		for (const e of performance.getEntriesByType("resource")) {
			if (/^\/(assets\/tailor\.|v1\/)/.test(new URL(e.name).pathname)) tailor += e.transferSize;
			else page += e.transferSize;
		}
		return {
			start: performance.getEntriesByName("tailor:start")[0].startTime,
			ranked: __t.ranked.find((r) => r.slot == "home-recs").at,
			tailor, page,
		};
	})`)
}
