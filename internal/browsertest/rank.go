//go:build !wasip1

package browsertest

import (
	"fmt"
	"strconv"
)

// RankLatency is the latency of tailor.rank from JavaScript over many
// calls, in ms (the browser's timer resolution is 0.1 ms).
type RankLatency struct {
	Calls                    int
	Mean, P50, P95, P99, Max float64
}

// String is how the tests log it.
func (l RankLatency) String() string {
	return fmt.Sprintf("mean %.3f ms, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms over %d calls (timer resolution 0.1 ms)",
		l.Mean, l.P50, l.P95, l.P99, l.Max, l.Calls)
}

// MeasureRank times tailor.rank on the page in tb, through the loader's
// API (the JS boundary, msgpack and the promise included): n candidates,
// those of the page's [data-tailor-item] elements under the CSS selector
// within (once each, in page order), then made-up ones up to n; warm-up
// calls first, then calls (at least 1) timed ones. The shop pages of the sdk/js and
// demo tests and build/cmd/bench's BenchmarkChromium measure with it.
func MeasureRank(tb *Tab, within string, n, warmup, calls int) RankLatency {
	tb.t.Helper()
	if n < 0 || warmup < 0 || calls < 1 {
		tb.t.Fatalf("MeasureRank(%d candidates, %d warm-up calls, %d calls)", n, warmup, calls)
	}
	return Eval[RankLatency](tb, `(async (within, n, warmup, calls) => {
	const items = [], ids = new Set();
	for (const e of document.querySelectorAll((within ? within + " " : "") + "[data-tailor-item]")) {
		const d = e.dataset;
		if (ids.has(d.tailorItem) || items.length == n) continue;
		ids.add(d.tailorItem);
		items.push({ id: d.tailorItem, category: d.tailorCategory, tags: d.tailorTags, price: +d.tailorPrice || 0 });
	}
	while (items.length < n) items.push({ id: "bench-" + items.length, category: "other", tags: "a,b", price: 10 });
	for (let i = 0; i < warmup; i++) await tailor.rank(items, { slot: "bench" });
	const ts = [];
	for (let i = 0; i < calls; i++) {
		const t0 = performance.now();
		await tailor.rank(items, { slot: "bench" });
		ts.push(performance.now() - t0);
	}
	ts.sort((a, b) => a - b);
	const at = (q) => ts[Math.min(ts.length - 1, Math.floor(q * ts.length))];
	return { calls, mean: ts.reduce((a, b) => a + b, 0) / ts.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: ts[ts.length - 1] };
})(`+strconv.Quote(within)+`, `+strconv.Itoa(n)+`, `+strconv.Itoa(warmup)+`, `+strconv.Itoa(calls)+`)`)
}
