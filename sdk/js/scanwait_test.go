//go:build linux

package jstest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// threadTimes is every thread's scheduler times on the machine at one
// moment (/proc/PID/task/TID/schedstat: nanoseconds run on a core and
// waited in a run queue), keyed by "pid/tid".
type threadTimes map[string]threadTime

type threadTime struct {
	run, wait int64
	proc      string // the process's name and, for Chromium, its --type
	comm      string // the thread's name
}

// readThreadTimes reads /proc for every thread's schedstat.
func readThreadTimes() threadTimes {
	out := threadTimes{}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid := filepath.Base(p)
		name := "?"
		if b, err := os.ReadFile(p + "/comm"); err == nil {
			name = strings.TrimSpace(string(b))
		}
		if b, err := os.ReadFile(p + "/cmdline"); err == nil {
			// Chromium's children rewrite their command line as one
			// string: the --type=... word anywhere in it.
			if i := strings.Index(string(b), "--type="); i >= 0 {
				name += " " + strings.FieldsFunc(string(b[i+7:]), func(r rune) bool { return r == ' ' || r == 0 })[0]
			}
		}
		tasks, _ := filepath.Glob(p + "/task/[0-9]*")
		for _, tk := range tasks {
			b, err := os.ReadFile(tk + "/schedstat")
			if err != nil {
				continue
			}
			f := strings.Fields(string(b))
			if len(f) < 2 {
				continue
			}
			run, _ := strconv.ParseInt(f[0], 10, 64)
			wait, _ := strconv.ParseInt(f[1], 10, 64)
			comm := "?"
			if c, err := os.ReadFile(tk + "/comm"); err == nil {
				comm = strings.TrimSpace(string(c))
			}
			out[pid+"/"+filepath.Base(tk)] = threadTime{run, wait, name, comm}
		}
	}
	return out
}

// TestScanFirstWait explains a page's first scan's wall time against its
// CPU time. The page's thread calls the test server synchronously (a sync
// XMLHttpRequest: the thread blocked) three times, marks c and a just
// before the scan and b just after it, and the server reads every
// thread's scheduler times (/proc/*/task/*/schedstat) at each; the scan's
// thread (the trace's ids for it are the kernel's) gives what it ran and
// what it waited for a core in a → b, less a mark's own cost (c → a, with
// nothing between). A trace of the same scans gives what ran inside the
// scan's task on its thread (style, layout, collections) and on
// Chromium's other threads in the scan's window. Skipped unless
// TAILOR_SCAN_WAIT names the shop pages (comma-separated, as
// TAILOR_SCAN_AB_PAGES, or "all"); TAILOR_SCAN_AB_ROUNDS sets the rounds
// (3). A page whose scripts keep its thread from the calls is left out.
func TestScanFirstWait(t *testing.T) {
	if os.Getenv("TAILOR_SCAN_WAIT") == "" {
		t.Skip("skipped: TAILOR_SCAN_WAIT names no pages")
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("TAILOR_SCAN_AB_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	var (
		mu    sync.Mutex
		marks = map[string]threadTimes{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/mark":
			tt := readThreadTimes()
			mu.Lock()
			marks[r.URL.Query().Get("k")] = tt
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		case strings.HasPrefix(r.URL.Path, "/ab/b.js"):
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, r, filepath.Join("src", "scan.js"))
		default:
			serveShopPage(w, r)
		}
	}))
	defer srv.Close()
	// The page's own scripts may replace setTimeout and XMLHttpRequest.
	tb := newTab(t, "window.__tailorTimer = setTimeout.bind(window); window.__tailorXHR = XMLHttpRequest")
	offline(tb)
	pages := shopPaths(os.Getenv("TAILOR_SCAN_WAIT"))
	type res struct {
		page       string
		n          int
		wall       float64
		run, wait  float64 // the main thread's, ms
		others     map[string]float64
		otherTotal float64
		task       string
		c, a, b    threadTimes // the marks before, at the start and at the end
	}
	var rs []res
	n := 0
	cats := []string{"devtools.timeline", "toplevel", "disabled-by-default-v8.compile", "loading"}
	trace := tb.Trace(cats, func() {
		for r := 0; r < rounds; r++ {
			for _, p := range pages {
				n++
				task := "tailorScan" + strconv.Itoa(n)
				url := srv.URL + p + "?n=" + strconv.Itoa(n)
				openParsed(tb, url)
				k := strconv.Itoa(n)
				ms := eval[float64](tb, `(async () => {
					const m = await import(location.origin + '/ab/b.js?`+k+`')
					const mark = (k) => { const x = new __tailorXHR(); x.open('GET', location.origin + '/mark?k=' + k, false); x.send() }
					let ms
					let err = ''
					await new Promise((done) => __tailorTimer(({ `+task+`: () => { try {
						mark('c`+k+`')
						mark('a`+k+`')
						const t = performance.now()
						m.scan(document)
						ms = performance.now() - t
						mark('b`+k+`')
					} catch (e) { err = String(e) } finally { done() } } }).`+task+`, 0))
					return err ? -1 : ms
				})()`)
				if ms < 0 {
					t.Logf("%s: the page's thread could not call the test server", p)
					continue
				}
				mu.Lock()
				c, a, b := marks["c"+k], marks["a"+k], marks["b"+k]
				mu.Unlock()
				rs = append(rs, res{page: filepath.Base(p), n: n, wall: ms, task: task, c: c, a: a, b: b})
			}
		}
	})
	// What ran inside each scan's task on its thread.
	calls := map[string]browsertest.TraceEvent{}
	for _, e := range trace {
		if data, _ := e.Args["data"].(map[string]any); e.Name == "FunctionCall" && data != nil {
			if f, _ := data["functionName"].(string); strings.HasPrefix(f, "tailorScan") {
				calls[f] = e
			}
		}
	}
	inside := map[string]map[string][3]float64{} // task → event name → n, wall, cpu
	for _, e := range trace {
		if e.Ph != "X" || e.Name == "FunctionCall" {
			continue
		}
		for f, c := range calls {
			if e.PID == c.PID && e.TID == c.TID && e.TS >= c.TS && e.TS < c.TS+c.Dur {
				m := inside[f]
				if m == nil {
					m = map[string][3]float64{}
					inside[f] = m
				}
				v := m[e.Name]
				m[e.Name] = [3]float64{v[0] + 1, v[1] + e.Dur/1000, v[2] + e.TDur/1000}
			}
		}
	}
	// The page's main thread is the scan's (the trace gives Chromium's
	// process and thread ids, as /proc does).
	tracedMain := 0
	for i := range rs {
		x := &rs[i]
		x.others = map[string]float64{}
		c, a, b := x.c, x.a, x.b
		main := fmt.Sprintf("%d/%d", calls[x.task].PID, calls[x.task].TID)
		if _, ok := b[main]; ok {
			tracedMain++
		} else {
			// Else the renderer's thread that ran most.
			var most int64 = -1
			for id, e := range b {
				if s, ok := a[id]; ok && strings.Contains(e.proc, "renderer") && e.run-s.run > most {
					most, main = e.run-s.run, id
				}
			}
		}
		for id, e := range b {
			s, ok := a[id]
			if !ok || e.run == s.run && e.wait == s.wait {
				continue
			}
			d := float64(e.run-s.run) / 1e6
			if id == main {
				// Between marks c and a the thread did nothing but the
				// two calls: what it ran and waited then is a mark's
				// cost, taken off the scan's window.
				cs, ca := c[id], a[id]
				x.run = float64(e.run-s.run-(ca.run-cs.run)) / 1e6
				x.wait = float64(e.wait-s.wait-(ca.wait-cs.wait)) / 1e6
				continue
			}
			x.others[e.proc+": "+e.comm] += d
			x.otherTotal += d
		}
	}
	t.Logf("the scan's thread found by the trace's ids in %d of %d scans", tracedMain, len(rs))
	// Thread and process names, and each scan's own window inside its
	// task: from the end of the first mark's load to the start of the
	// second's.
	names := map[[2]int]string{}
	procs := map[int]string{}
	for _, e := range trace {
		if e.Ph == "M" {
			if nm, _ := e.Args["name"].(string); e.Name == "thread_name" {
				names[[2]int{e.PID, e.TID}] = nm
			} else if e.Name == "process_name" {
				procs[e.PID] = nm
			}
		}
	}
	window := map[string][2]float64{}
	for f, c := range calls {
		var loads []browsertest.TraceEvent
		for _, e := range trace {
			if e.Name == "URLLoader::loadSynchronously" && e.PID == c.PID && e.TID == c.TID && e.TS >= c.TS && e.TS < c.TS+c.Dur {
				loads = append(loads, e)
			}
		}
		sort.Slice(loads, func(i, j int) bool { return loads[i].TS < loads[j].TS })
		if len(loads) == 3 {
			window[f] = [2]float64{loads[1].TS + loads[1].Dur, loads[2].TS}
		}
	}
	busy := map[string]map[string]float64{} // task → thread → CPU ms in its window
	for _, e := range trace {
		if e.Ph != "X" || (e.Name != "ThreadControllerImpl::RunTask" && e.Name != "ThreadPool_RunTask") {
			continue
		}
		for f, w := range window {
			lo, hi := max(e.TS, w[0]), min(e.TS+e.Dur, w[1])
			if hi <= lo || e.Dur <= 0 || (e.PID == calls[f].PID && e.TID == calls[f].TID) {
				continue
			}
			m := busy[f]
			if m == nil {
				m = map[string]float64{}
				busy[f] = m
			}
			m[procs[e.PID]+"/"+names[[2]int{e.PID, e.TID}]] += e.TDur / 1000 * (hi - lo) / e.Dur
		}
	}
	// What the renderer's worker threads ran in each window (events
	// nested in their tasks, by name).
	work := map[string]map[string]float64{}
	for _, e := range trace {
		if e.Ph != "X" || e.Name == "ThreadPool_RunTask" || !strings.HasPrefix(names[[2]int{e.PID, e.TID}], "ThreadPool") {
			continue
		}
		for f, w := range window {
			lo, hi := max(e.TS, w[0]), min(e.TS+e.Dur, w[1])
			if hi <= lo || e.Dur <= 0 || e.PID != calls[f].PID {
				continue
			}
			m := work[f]
			if m == nil {
				m = map[string]float64{}
				work[f] = m
			}
			m[e.Name] += e.TDur / 1000 * (hi - lo) / e.Dur
		}
	}
	// Over all scans: medians and sums of the main thread's wall, run
	// and run-queue time, and the CPU of what ran beside it.
	var walls, runs, waits []float64
	var sw, sr, sq, maglev, chrome float64
	for _, x := range rs {
		walls, runs, waits = append(walls, x.wall), append(runs, x.run), append(waits, x.wait)
		sw, sr, sq = sw+x.wall, sr+x.run, sq+x.wait
		for k, v := range work[x.task] {
			if k == "V8.MaglevTask" {
				maglev += v
			}
		}
		for _, v := range busy[x.task] {
			chrome += v
		}
	}
	if len(rs) == 0 {
		t.Fatal("no scan measured")
	}
	byThread := map[string]float64{}
	windows := 0.0
	for f, m := range busy {
		windows += (window[f][1] - window[f][0]) / 1000
		for k, v := range m {
			byThread[k] += v
		}
	}
	t.Logf("%d scans (load %s): the scan's thread: medians wall %.1f, ran %.1f, waited for a core %.1f ms; sums wall %.0f, ran %.0f, waited %.0f ms; in the scans' windows (%.0f ms) Chromium's other threads ran %.0f ms (V8's Maglev tasks %.0f): %s",
		len(rs), loadavg(), pct(walls, 50), pct(runs, 50), pct(waits, 50), sw, sr, sq, windows, chrome, maglev, top(byThread, 6))
	for _, x := range rs {
		c := calls[x.task]
		t.Logf("%-36s #%d scan wall %5.1f ms | its thread ran %5.1f, waited for a core %5.1f, rest %5.1f | task dur %5.1f tdur %5.1f | all other threads between the marks ran %5.1f: %s",
			x.page, x.n, x.wall, x.run, x.wait, x.wall-x.run-x.wait, c.Dur/1000, c.TDur/1000, x.otherTotal, top(x.others, 6))
		var bs []string
		tot := 0.0
		for k, v := range busy[x.task] {
			tot += v
			if v >= 0.3 {
				bs = append(bs, k+" "+strconv.FormatFloat(v, 'f', 1, 64))
			}
		}
		sort.Strings(bs)
		w := window[x.task]
		var ws []string
		for k, v := range work[x.task] {
			if v >= 0.3 {
				ws = append(ws, k+" "+strconv.FormatFloat(v, 'f', 1, 64))
			}
		}
		sort.Strings(ws)
		t.Logf("    the scan's window %.1f ms: Chromium's other threads' tasks ran %.1f ms in it: %s; the renderer's workers: %s", (w[1]-w[0])/1000, tot, strings.Join(bs, "; "), strings.Join(ws, "; "))
		var in []string
		for k, v := range inside[x.task] {
			if v[1] >= 0.2 {
				in = append(in, k+" ×"+strconv.Itoa(int(v[0]))+" "+strconv.FormatFloat(v[1], 'f', 1, 64)+"/"+strconv.FormatFloat(v[2], 'f', 1, 64))
			}
		}
		sort.Strings(in)
		t.Logf("    inside the task (wall/CPU ms, ≥ 0.2): %s", strings.Join(in, "; "))
	}
}

// loadavg is /proc/loadavg's first three figures.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// top returns m's n largest entries as "key figure; ...".
func top(m map[string]float64, n int) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return m[ks[i]] > m[ks[j]] })
	var out []string
	for _, k := range ks[:min(n, len(ks))] {
		out = append(out, k+" "+strconv.FormatFloat(m[k], 'f', 1, 64))
	}
	return strings.Join(out, "; ")
}
