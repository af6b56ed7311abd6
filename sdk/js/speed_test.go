//go:build !wasip1

package jstest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/internal/browsertest"
	"github.com/tailorhq/tailor/sdk/wire"
)

// TestSpeed measures, and reports without asserting (run with -v):
//   - the time from the loader's start (the performance mark
//     "tailor:start") to the first personalized slot (its first
//     tailor:ranked event) and to the frame that paints it, with a cold
//     HTTP cache (the median of fresh Chromiums, and of fresh Chromiums
//     where another site used IndexedDB first) and warm (the median of
//     reloads in the last one), broken down by the loader's marks and the
//     timing of its requests;
//   - main-thread long tasks (over 50 ms) while the page loads and
//     re-ranks: the test page runs no other script of weight, so they are
//     Tailor's;
//   - tailor.wasm's start in a Chromium trace of one more warm load
//     (browsertest.Trace.WasmStages: its streaming, V8's cache hit,
//     instantiation);
//   - the latency of tailor.rank for a 20-item slot from JavaScript,
//     boundary, msgpack and promise included.
//
// DevTools' network tracking is off in the measured tabs
// (browsertest.StopNetworkLog): with it on, Chromium copies every response
// body for DevTools on the page's main thread, tailor.wasm's 2 MB
// included, which no visitor's browser does. The machine's load average
// is logged beside the figures: on 2 shared cores they move with it.
func TestSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement")
	}
	const colds, warms = 3, 5
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	// measure loads the store page up to the frame that paints the recs
	// slot, then re-ranks it with a click: the long tasks are both's.
	measure := func(tb *tab) browsertest.Start {
		tb.Open(srv.URL + "/store")
		tb.ready()
		browsertest.ReadStart(tb.Tab, "recs")
		tb.Click(`#recs [data-tailor-item="w1"]`)
		tb.Wait(`__t.ranked.filter(r => r.slot == 'recs').length > 1`)
		return browsertest.ReadStart(tb.Tab, "recs")
	}
	var cold, used, warm []browsertest.Start
	var tb *tab
	for i := range 2 * colds {
		if tb != nil {
			tb.NoErrors()
			tb.Close()
		}
		tb = newTab(t, browsertest.StartRecorder)
		tb.StopNetworkLog()
		if i < colds {
			cold = append(cold, measure(tb))
			t.Logf("cold %d: %s", i+1, cold[i])
			continue
		}
		// A new visitor's browser is seldom new: another site used its
		// IndexedDB before. In a fresh profile the first
		// indexedDB.databases() took 64-115 ms at load 24-26, the next
		// one on another site 30-149 ms (mostly 30-43), either one under
		// 1 ms the second time. localhost is another site than 127.0.0.1:
		// the store's HTTP cache, code cache and IndexedDB stay cold.
		tb.Open(strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/blank")
		eval[bool](tb, `indexedDB.databases().then(() => true)`)
		used = append(used, measure(tb))
		t.Logf("cold, browser in use %d: %s", i+1-colds, used[i-colds])
	}
	// A returning visitor's last page stayed open for more than a moment:
	// V8 writes its code cache of tailor.wasm once no function has tiered
	// up for 2 s (wasm_caching_timeout_ms), which a reload 100 ms after the
	// first ranking would never give it.
	time.Sleep(3 * time.Second)
	for i := range warms {
		warm = append(warm, measure(tb))
		t.Logf("warm %d: %s", i+1, warm[i])
	}
	// One more warm load, traced (not in the medians: tracing slows the
	// browser): where tailor.wasm's start waited, and whether V8 found
	// the compiled module (its code cache).
	var traced browsertest.Start
	tr := tb.Trace(browsertest.WasmTraceCategories, func() { traced = measure(tb) })
	if line, ok := tr.WasmStages(); ok {
		t.Logf("traced warm (ms after tailor:start): ranked +%.1f; %s", traced.Stages["ranked"], line)
	}
	t.Logf("ms after tailor:start, median of %d cold loads (fresh Chromiums), %d cold in a browser in use and %d warm (reloads), load average %s:", colds, colds, warms, loadAverage())
	for _, l := range browsertest.StageTable([]string{"cold", "in use", "warm"}, cold, used, warm) {
		t.Log(l)
	}
	// The lead reads these lines.
	t.Logf("cold: first personalized slot %s ms after the loader started (painted %s ms)", medianStage(cold, "ranked"), medianStage(cold, "painted"))
	t.Logf("cold, browser in use: first personalized slot %s ms after the loader started (painted %s ms)", medianStage(used, "ranked"), medianStage(used, "painted"))
	t.Logf("warm: first personalized slot %s ms after the loader started (painted %s ms)", medianStage(warm, "ranked"), medianStage(warm, "painted"))

	l := browsertest.MeasureRank(tb.Tab, "#recs", 20, 0, 300)
	t.Logf("tailor.rank of 20 items from JavaScript: %s", l)
	tb.NoErrors()
}

// loadAverage returns the machine's load average over the last minute,
// "unknown" where /proc/loadavg is missing.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// medianStage returns the median of a stage over loads, "-" when no load
// reached it.
func medianStage(loads []browsertest.Start, stage string) string {
	if m, ok := browsertest.MedianStage(loads, stage); ok {
		return fmt.Sprintf("%.1f", m)
	}
	return "-"
}
