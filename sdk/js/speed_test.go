//go:build !wasip1

package jstest

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/internal/browsertest"
	"github.com/tailorhq/tailor/sdk/wire"
)

// speedRecorder runs before the page's scripts in TestSpeed: it records
// the frame after the first ranking of the recs slot (the slot painted).
const speedRecorder = `document.addEventListener("tailor:ranked", function (e) {
  if (e.detail.slot === "recs" && !__t.painted) { __t.painted = -1; requestAnimationFrame(function () { __t.painted = performance.now(); }); }
});`

// speedStages are the stages of the start, in the order it reaches them:
// the loader's requests (resource timing: request sent, headers, last
// byte), the page's DOMContentLoaded (dom), the loader's performance marks
// (tailor:NAME, state.js mark: the stored profile read, tailor.wasm
// compiled and instantiated, its _initialize done, the shards applied), the
// recs slot's first tailor:ranked event (ranked) and the frame after it
// (painted).
var speedStages = []string{
	"wasm request", "wasm headers", "wasm response", "manifest request", "manifest response",
	"config response", "shards response", "dom",
	"profile", "compiled", "initialized", "shards", "ranked", "painted",
}

// speedLoad is one page load: each stage in ms after tailor:start, and
// the long tasks seen.
type speedLoad struct {
	Stages    map[string]float64
	Script    float64 // tailor.js's responseEnd, ms after navigation start
	LongTasks []struct{ Start, Duration float64 }
}

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
	measure := func(tb *tab) speedLoad {
		tb.Open(srv.URL + "/store")
		tb.ready()
		tb.Wait(`__t.ranked.some(r => r.slot == 'recs') && __t.painted > 0`)
		tb.Click(`#recs [data-tailor-item="w1"]`)
		tb.Wait(`__t.ranked.filter(r => r.slot == 'recs').length > 1`)
		return eval[speedLoad](tb, `new Promise(r => setTimeout(r, 100)).then(() => {
			const start = performance.getEntriesByName('tailor:start')[0].startTime;
			const stages = {};
			for (const m of performance.getEntriesByType('mark'))
				if (m.name.startsWith('tailor:') && m.name != 'tailor:start') stages[m.name.slice(7)] = m.startTime - start;
			const res = (re, name) => {
				const es = performance.getEntriesByType('resource').filter(e => re.test(new URL(e.name).pathname));
				if (!es.length) return;
				stages[name + ' request'] = Math.min(...es.map(e => e.startTime)) - start;
				stages[name + ' headers'] = Math.min(...es.map(e => e.responseStart)) - start;
				stages[name + ' response'] = Math.max(...es.map(e => e.responseEnd)) - start;
			};
			res(/\.wasm$/, 'wasm');
			res(/^\/v1\/model$/, 'manifest');
			res(/^\/v1\/config\//, 'config');
			res(/^\/v1\/shards\//, 'shards');
			stages.dom = performance.getEntriesByType('navigation')[0].domContentLoadedEventStart - start;
			stages.ranked = __t.ranked.find(r => r.slot == 'recs').at - start;
			stages.painted = __t.painted - start;
			return {
				stages,
				script: performance.getEntriesByName(location.origin + '/tailor.js')[0].responseEnd,
				longTasks: __t.longtasks,
			};
		})`)
	}
	var cold, used, warm []speedLoad
	var tb *tab
	for i := range 2 * colds {
		if tb != nil {
			tb.NoErrors()
			tb.Close()
		}
		tb = newTab(t, speedRecorder)
		tb.StopNetworkLog()
		if i < colds {
			cold = append(cold, measure(tb))
			t.Logf("cold %d: tailor.js arrived %.0f ms after navigation start; %s", i+1, cold[i].Script, longTasks(cold[i]))
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
		t.Logf("cold, browser in use %d: tailor.js arrived %.0f ms after navigation start; %s", i+1-colds, used[i-colds].Script, longTasks(used[i-colds]))
	}
	// A returning visitor's last page stayed open for more than a moment:
	// V8 writes its code cache of tailor.wasm once no function has tiered
	// up for 2 s (wasm_caching_timeout_ms), which a reload 100 ms after the
	// first ranking would never give it.
	time.Sleep(3 * time.Second)
	for i := range warms {
		warm = append(warm, measure(tb))
		t.Logf("warm %d: tailor.js arrived %.0f ms after navigation start; %s", i+1, warm[i].Script, longTasks(warm[i]))
	}
	t.Logf("ms after tailor:start, median of %d cold loads (fresh Chromiums), %d cold in a browser in use and %d warm (reloads), load average %s:", colds, colds, warms, loadAverage())
	t.Logf("%-18s %8s %8s %8s", "stage", "cold", "in use", "warm")
	for _, s := range speedStages {
		t.Logf("%-18s %8s %8s %8s", s, medianStage(cold, s), medianStage(used, s), medianStage(warm, s))
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
func medianStage(loads []speedLoad, stage string) string {
	var xs []float64
	for _, l := range loads {
		if v, ok := l.Stages[stage]; ok {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return "-"
	}
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + m) / 2
	}
	return fmt.Sprintf("%.1f", m)
}

// longTasks describes a load's long tasks (over 50 ms).
func longTasks(l speedLoad) string {
	if len(l.LongTasks) == 0 {
		return "no long task (> 50 ms)"
	}
	var s []string
	for _, lt := range l.LongTasks {
		s = append(s, fmt.Sprintf("%.0f ms at %.0f ms", lt.Duration, lt.Start))
	}
	return "long tasks " + strings.Join(s, ", ")
}
