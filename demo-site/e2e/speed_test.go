//go:build !wasip1

package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// longTask is a PerformanceObserver "longtask" entry (over 50 ms).
type longTask struct{ Start, Duration float64 }

// longFrame is a "long-animation-frame" entry (over 50 ms) with the
// scripts that ran in it.
type longFrame struct {
	Start, Duration, Blocking float64
	Scripts                   []struct {
		Src, Invoker string
		Duration     float64
	}
}

// pageLoad is what one load of the home page measured.
type pageLoad struct {
	Start, Ranked, Script float64 // ms since navigation start
	WasmBytes             float64 // transferred for tailor.wasm (0: from the cache)
	LongTasks             []longTask
	Frames                []longFrame
}

// TestSpeed measures, and reports without asserting (go test -v), on the
// demo store's home page served by the real server (no proxy):
//   - the time from the loader's start (its performance mark
//     "tailor:start") to the first personalized slot (home-recs' first
//     tailor:ranked event), with a cold HTTP cache and then warm;
//   - main-thread long tasks (over 50 ms) while the page loads, against
//     the same page with tailor.js not served: those only Tailor's page
//     has are Tailor's (the store runs no other script of weight);
//   - the latency of tailor.rank for a 20-item slot from JavaScript,
//     boundary, msgpack and promise included.
func TestSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement")
	}
	tb := newTab(t, direct())
	measure := func() pageLoad {
		tb.visit("/", "home-recs")
		return eval[pageLoad](tb, `new Promise(r => setTimeout(r, 300)).then(() => {
			const res = performance.getEntriesByType("resource");
			const wasm = res.find(e => e.name.endsWith(".wasm"));
			return {
				start: performance.getEntriesByName("tailor:start")[0].startTime,
				ranked: __t.ranked.find(r => r.slot == "home-recs").at,
				script: res.find(e => /\/assets\/tailor\.[0-9a-f]+\.js$/.test(e.name)).responseEnd,
				wasmBytes: wasm ? wasm.transferSize : -1,
				longTasks: __t.longtasks,
				frames: __t.frames,
			};
		})`)
	}
	report := func(name string, l pageLoad) {
		t.Logf("%s: first personalized slot %.1f ms after the loader started (at %.1f ms; tailor.js arrived at %.1f ms; tailor.wasm transferred %.0f bytes)",
			name, l.Ranked-l.Start, l.Ranked, l.Script, l.WasmBytes)
		t.Logf("%s: %s", name, describe(l.LongTasks))
		for _, f := range l.Frames {
			for _, s := range f.Scripts {
				if strings.Contains(s.Src, "/assets/tailor.") {
					t.Logf("%s: a long animation frame of %.0f ms at %.0f ms ran Tailor's %s for %.0f ms", name, f.Duration, f.Start, s.Invoker, s.Duration)
				}
			}
		}
	}
	report("cold", measure())
	for i := 1; i <= 3; i++ {
		report(fmt.Sprintf("warm %d", i), measure())
	}

	// The same page without Tailor: the long tasks of the page itself.
	bare := newTab(t, newFront(t, frontOptions{NoLoader: true}))
	for i := 0; i < 2; i++ {
		bare.Open(bare.front.URL + "/")
		bare.Wait(`document.readyState == "complete"`)
		lt := eval[[]longTask](bare, `new Promise(r => setTimeout(r, 300)).then(() => __t.longtasks)`)
		t.Logf("without Tailor (%s cache): %s", map[bool]string{true: "cold", false: "warm"}[i == 0], describe(lt))
	}
	// The observer works here: a task of the page busy for 80 ms is a long task.
	lt := eval[[]longTask](bare, `new Promise(r => setTimeout(() => { const t0 = performance.now(); while (performance.now() - t0 < 80); setTimeout(r, 200); })).then(() => __t.longtasks)`)
	if len(lt) == 0 {
		t.Log("this Chromium reports no long tasks: the figures above say nothing")
	} else {
		t.Logf("check: an 80 ms busy loop shows as %s", describe(lt))
	}

	l := browsertest.MeasureRank(tb.Tab, `[data-tailor-slot="home-recs"]`, 20, 0, 300)
	t.Logf("tailor.rank of 20 items from JavaScript: %s", l)
	tb.checkRequests(true)
	tb.NoErrors()
}

// describe summarizes long tasks.
func describe(lts []longTask) string {
	if len(lts) == 0 {
		return "no long task (> 50 ms)"
	}
	var s []string
	for _, lt := range lts {
		s = append(s, fmt.Sprintf("%.0f ms at %.0f ms", lt.Duration, lt.Start))
	}
	return fmt.Sprintf("%d long task(s): %s", len(lts), strings.Join(s, ", "))
}
