//go:build !wasip1

package jstest

import (
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
)

// TestSpeed measures, and reports without asserting (run with -v):
//   - the time from the loader's start (the performance mark
//     "tailor:start") to the first personalized slot (its first
//     tailor:ranked event), with a cold HTTP cache and then warm;
//   - main-thread long tasks (over 50 ms) while the page loads and
//     re-ranks: the test page runs no other script of weight, so they are
//     Tailor's;
//   - the latency of tailor.rank for a 20-item slot from JavaScript,
//     boundary, msgpack and promise included.
func TestSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement")
	}
	srv := newServer(t, site{Privacy: wire.PrivacyFederated})
	tb := newTab(t)
	type load struct {
		Start, Ranked, Script float64
		LongTasks             []struct{ Start, Duration float64 }
	}
	measure := func() load {
		tb.Open(srv.URL + "/store")
		tb.ready()
		tb.Wait(`__t.ranked.some(r => r.slot == 'recs')`)
		tb.Click(`#recs [data-tailor-item="w1"]`)
		tb.Wait(`__t.ranked.filter(r => r.slot == 'recs').length > 1`)
		return eval[load](tb, `new Promise(r => setTimeout(r, 100)).then(() => ({
			start: performance.getEntriesByName('tailor:start')[0].startTime,
			script: performance.getEntriesByName(location.origin + '/tailor.js')[0].responseEnd,
			ranked: __t.ranked.find(r => r.slot == 'recs').at,
			longTasks: __t.longtasks,
		}))`)
	}
	report := func(name string, l load) {
		t.Logf("%s: first personalized slot %.1f ms after the loader started (%.1f ms after navigation start; tailor.js arrived at %.1f ms)",
			name, l.Ranked-l.Start, l.Ranked, l.Script)
		for _, lt := range l.LongTasks {
			t.Logf("%s: long task of %.0f ms at %.0f ms", name, lt.Duration, lt.Start)
		}
		if len(l.LongTasks) == 0 {
			t.Logf("%s: no long task (> 50 ms)", name)
		}
	}
	report("cold", measure())
	for i := 1; i <= 3; i++ {
		report("warm "+string(rune('0'+i)), measure())
	}

	type latency struct{ Mean, P50, P95, Max float64 }
	l := eval[latency](tb, `(async () => {
		const items = [...document.querySelectorAll('#recs [data-tailor-item]')].map(e => ({
			id: e.dataset.tailorItem, category: e.dataset.tailorCategory, tags: e.dataset.tailorTags, price: +e.dataset.tailorPrice }));
		while (items.length < 20) items.push({ id: 'x' + items.length, category: 'other', tags: 'a,b', price: 10 });
		const ts = [];
		for (let i = 0; i < 300; i++) {
			const t0 = performance.now();
			await tailor.rank(items, { slot: 'bench' });
			ts.push(performance.now() - t0);
		}
		const sum = ts.reduce((a, b) => a + b, 0);
		ts.sort((a, b) => a - b);
		return { mean: sum / ts.length, p50: ts[150], p95: ts[285], max: ts[299] };
	})()`)
	t.Logf("tailor.rank of 20 items from JavaScript: mean %.3f ms, p50 %.2f ms, p95 %.2f ms, max %.2f ms (timer resolution 0.1 ms)", l.Mean, l.P50, l.P95, l.Max)
	tb.NoErrors()
}
