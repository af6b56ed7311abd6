//go:build !wasip1

package browsertest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// StartRecorder records, in every document of a tab that runs it before
// the page's own scripts (WithScripts(StartRecorder)), what ReadStart
// reads: each slot's first tailor:ranked event, the frame after it (the
// slot painted), and the main thread's long tasks (over 50 ms).
const StartRecorder = `(() => {
	const r = window.__start = { ranked: {}, painted: {}, longTasks: [] };
	document.addEventListener("tailor:ranked", (e) => {
		const s = e.detail.slot;
		if (s in r.ranked) return;
		r.ranked[s] = performance.now();
		requestAnimationFrame(() => (r.painted[s] = performance.now()));
	});
	try {
		new PerformanceObserver((l) => l.getEntries().forEach((e) => r.longTasks.push({ start: e.startTime, duration: e.duration })))
			.observe({ type: "longtask", buffered: true });
	} catch {}
})();`

// StartStages are the stages of the loader's start, in the order it
// usually reaches them, as ReadStart names them: its requests (resource
// timing: request sent, first byte of the headers, last byte), the page's
// DOMContentLoaded (dom) and first contentful paint (first paint: when
// negative, the page showed its slots before the loader could hide them),
// the loader's performance marks (tailor:NAME,
// sdk/js/src/state.js mark: the stored profile read, tailor.wasm compiled
// and instantiated, its _initialize done, the shards applied), the first
// ranking of any slot (first ranked), the slot's first ranking (ranked)
// and the frame after it (painted).
var StartStages = []string{
	"wasm request", "wasm headers", "wasm response", "manifest request", "manifest response",
	"config response", "shards response", "dom", "first paint",
	"profile", "compiled", "initialized", "shards", "first ranked", "ranked", "painted",
}

// Prerequisites are the stages the loader's first ranking waits for: the
// engine started, the stored profile read, the configuration and the
// shards arrived (session 8, RATIONALE.md: which came last moves with the
// page and the machine's load, so each load says it; see LastWait).
var Prerequisites = []string{"initialized", "profile", "config response", "shards response"}

// Start is one page load's start of the loader, read by ReadStart.
type Start struct {
	At        float64            // the tailor:start mark, ms after navigation start
	Script    float64            // tailor.js's last byte, ms after navigation start
	Stages    map[string]float64 // StartStages, ms after tailor:start; missing when not reached
	Shards    int                // shard requests
	Tailor    float64            // bytes transferred for Tailor (tailor*.js/.wasm, /v1/)
	Page      float64            // bytes transferred for the rest (the document included)
	LongTasks []LongTask
}

// LongTask is a main-thread task over 50 ms (ms after navigation start).
type LongTask struct{ Start, Duration float64 }

// ReadStart waits until slot was ranked and painted in the page tb shows
// (recorded by StartRecorder), then reads how the loader started. Its
// transfer sizes count what came over the network: 0 for a response
// from the HTTP cache.
func ReadStart(tb *Tab, slot string) Start {
	tb.t.Helper()
	q := strconv.Quote(slot)
	tb.Wait(`window.__start && __start.painted[` + q + `] > 0`)
	return Eval[Start](tb, `(() => {
	const slot = `+q+`;
	const start = performance.getEntriesByName("tailor:start")[0].startTime;
	const stages = {};
	for (const m of performance.getEntriesByType("mark"))
		if (m.name.startsWith("tailor:") && m.name != "tailor:start") stages[m.name.slice(7)] = m.startTime - start;
	const nav = performance.getEntriesByType("navigation")[0];
	const rs = performance.getEntriesByType("resource");
	const res = (re, name) => {
		const es = rs.filter((e) => re.test(new URL(e.name).pathname));
		if (!es.length) return es;
		stages[name + " request"] = Math.min(...es.map((e) => e.startTime)) - start;
		stages[name + " headers"] = Math.min(...es.map((e) => e.responseStart)) - start;
		stages[name + " response"] = Math.max(...es.map((e) => e.responseEnd)) - start;
		return es;
	};
	const js = res(/(^|\/)tailor(\.[0-9a-f]+)?\.js$/, "tailor.js");
	res(/\.wasm$/, "wasm");
	res(/^\/v1\/model$/, "manifest");
	res(/^\/v1\/config\//, "config");
	const shards = res(/^\/v1\/shards\//, "shards");
	stages.dom = nav.domContentLoadedEventStart - start;
	const fcp = performance.getEntriesByName("first-contentful-paint")[0];
	if (fcp) stages["first paint"] = fcp.startTime - start;
	stages["first ranked"] = Math.min(...Object.values(__start.ranked)) - start;
	stages.ranked = __start.ranked[slot] - start;
	stages.painted = __start.painted[slot] - start;
	let tailor = 0, page = nav.transferSize;
	for (const e of rs) {
		if (/^\/(assets\/tailor|tailor|v1\/)/.test(new URL(e.name).pathname)) tailor += e.transferSize;
		else page += e.transferSize;
	}
	return {
		at: start, script: js.length ? js[0].responseEnd : 0, stages, shards: shards.length,
		tailor, page, longTasks: __start.longTasks,
	};
})()`)
}

// MedianStage returns the median of a stage over loads; ok is false when
// no load reached it.
func MedianStage(loads []Start, stage string) (m float64, ok bool) {
	var xs []float64
	for _, l := range loads {
		if v, ok := l.Stages[stage]; ok {
			xs = append(xs, v)
		}
	}
	return median(xs)
}

// median returns the median of xs; ok is false when xs is empty.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + m) / 2
	}
	return m, true
}

// StageTable formats the median of each of StartStages over each group of
// loads, one column a group under its heading, as lines to log.
//
//	for _, l := range browsertest.StageTable([]string{"cold", "warm"}, cold, warm) {
//		t.Log(l)
//	}
func StageTable(headings []string, groups ...[]Start) []string {
	row := func(name string, cells []string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%-18s", name)
		for _, c := range cells {
			fmt.Fprintf(&b, " %9s", c)
		}
		return b.String()
	}
	lines := []string{row("stage (ms)", headings)}
	for _, s := range StartStages {
		cells := make([]string, len(groups))
		for i, g := range groups {
			cells[i] = "-"
			if m, ok := MedianStage(g, s); ok {
				cells[i] = fmt.Sprintf("%.1f", m)
			}
		}
		lines = append(lines, row(s, cells))
	}
	return lines
}

// LastWait returns which of Prerequisites the load reached last, and
// when (ms after tailor:start); ok is false when it reached none.
func (s Start) LastWait() (stage string, at float64, ok bool) {
	for _, p := range Prerequisites {
		if v, in := s.Stages[p]; in && (!ok || v > at) {
			stage, at, ok = p, v, true
		}
	}
	return stage, at, ok
}

// String describes one load on a line: when the loader started (after
// navigation start), the page's first paint, the slot ranked and painted
// (after the start), the shards requested and the long tasks.
func (s Start) String() string {
	lt := "no long task"
	if len(s.LongTasks) > 0 {
		var xs []string
		for _, t := range s.LongTasks {
			xs = append(xs, fmt.Sprintf("%.0f ms at %.0f", t.Duration, t.Start))
		}
		lt = "long tasks " + strings.Join(xs, ", ")
	}
	last := ""
	if p, at, ok := s.LastWait(); ok {
		last = fmt.Sprintf(" (last waited for: %s +%.1f)", p, at)
	}
	return fmt.Sprintf("tailor.js at %.0f ms, tailor:start at %.0f ms, first paint %+.0f; ranked +%.1f%s (%.0f ms after navigation), painted +%.1f ms; %d shard requests; %s",
		s.Script, s.At, s.Stages["first paint"], s.Stages["ranked"], last, s.At+s.Stages["ranked"], s.Stages["painted"], s.Shards, lt)
}
