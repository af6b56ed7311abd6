// Command bench prints every figure Tailor promises, measured in one run,
// side by side in one table with the anchor each is judged against
// (`make bench`; up to about 10 minutes, not part of `make test`):
//
//   - tailor.wasm brotli against an empty Go reactor built the same way;
//   - tailor.js brotli against its 8 KB budget, and with the scanner's
//     chunk (a shop page without markup) against issue 13's 10 KB;
//   - rank 200 p50/p99 in wazero, and in Chromium through the loader (JS
//     boundary, msgpack and promise included) against wazero's;
//   - the first personalized slot cold and warm in Chromium against the
//     targets (150 ms, 50 ms), and the bytes a first visit downloads
//     against the page's own;
//   - the model bytes per page view in Chromium on the demo selling
//     40,000 synthetic products, against issue 12's targets;
//   - durable sync ingest against a bare net/http handler reading the
//     same bodies (server/api BenchmarkSyncThroughput);
//   - the model manifest and a shard against http.FileServer;
//   - the replay's run time on a small sample against V-SKNN's.
//
// Each figure is the median of several counts (-count); a ratio is the
// ratio of the medians, as benchstat reports them, except sync ingest's:
// each count measures both sides in alternating rounds, and the row's
// ratio is the median of the counts' own ratios.
//
//	go run ./build/cmd/bench -count 5
//
// The Chromium rows need Chromium ($CHROMIUM or /usr/bin/chromium) and
// run the demo's server (dist/tailor-demo with a small seeded model); the
// size rows need brotli; the replay row needs ../shared/datasets. What
// cannot run says why in its row.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tailorhq/tailor/internal/cli"
)

func main() { cli.Main("bench", run) }

// config is what the flags set.
type config struct {
	root     string // the repository
	goCmd    string
	count    int    // counts of the Go benchmarks
	browsers int    // fresh Chromiums (cold loads), each with 3 warm loads
	datasets string // ../shared/datasets
	sample   int    // replay evaluation sessions
	only     string // comma-separated steps to run (default all)
	log      io.Writer
}

// A step measures some rows. It returns its rows even when it fails
// (each says why), so the table is always whole.
type step struct {
	name string
	run  func(ctx context.Context, c *config) []row
}

var steps = []step{
	{"size", sizeRows},
	{"wazero", wazeroRows},
	{"chromium", chromiumRows},
	{"large", largeRows},
	{"sync", syncRows},
	{"serve", serveRows},
	{"replay", replayRows},
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := config{goCmd: "go", log: stderr}
	if g := getenv("GO"); g != "" {
		c.goCmd = g
	}
	fs.StringVar(&c.root, "root", ".", "the repository's `dir`")
	fs.IntVar(&c.count, "count", 5, "`counts` of each Go benchmark (the figure is their median)")
	fs.IntVar(&c.browsers, "browsers", 3, "fresh Chromiums, each `N` loads cold then 3 warm and ranks")
	fs.StringVar(&c.datasets, "datasets", "../shared/datasets", "the shared datasets' `dir`, for the replay row")
	fs.IntVar(&c.sample, "sample", 1000, "replay evaluation `sessions`")
	fs.StringVar(&c.only, "only", "", "comma-separated `steps` to run: "+stepNames()+" (default all)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.count < 1 || c.browsers < 1 || c.sample < 1 {
		return errors.New("-count, -browsers and -sample must be at least 1")
	}
	root, err := filepath.Abs(c.root)
	if err != nil {
		return err
	}
	c.root = root
	if !filepath.IsAbs(c.datasets) {
		c.datasets = filepath.Join(root, c.datasets)
	}
	want := map[string]bool{}
	for _, s := range strings.Split(c.only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !strings.Contains(","+stepNames()+",", ","+s+",") {
				return fmt.Errorf("-only: no step %q (%s)", s, stepNames())
			}
			want[s] = true
		}
	}
	start := time.Now()
	var rows []row
	for _, s := range steps {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		t := time.Now()
		fmt.Fprintf(stderr, "bench: %s...\n", s.name)
		rows = append(rows, s.run(ctx, &c)...)
		fmt.Fprintf(stderr, "bench: %s took %.0f s\n", s.name, time.Since(t).Seconds())
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	writeTable(stdout, rows)
	fmt.Fprintf(stdout, "\n%d Go benchmark counts, %d fresh Chromiums; %s; %.0f s in all.\n",
		c.count, c.browsers, machine(), time.Since(start).Seconds())
	return nil
}

func stepNames() string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.name
	}
	return strings.Join(names, ",")
}

// machine describes where the figures were measured.
func machine() string {
	load := "load unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			load = "load average " + f[0] + " at the end"
		}
	}
	return fmt.Sprintf("%d CPUs, %s", numCPU(), load)
}

// brotliSize returns the size of path compressed by `brotli -q 11`.
func brotliSize(ctx context.Context, path string) (int, error) {
	out, err := exec.CommandContext(ctx, "brotli", "-q", "11", "-c", path).Output()
	if err != nil {
		return 0, fmt.Errorf("brotli %s: %w", filepath.Base(path), err)
	}
	return len(out), nil
}

// sizeRows: tailor.wasm against an empty reactor built with the same
// flags, tailor.js against its budget, and what a shop page without
// Tailor's markup downloads (the core and the scanner's chunk) against
// issue 13's 10 KB, all brotli.
func sizeRows(ctx context.Context, c *config) []row {
	wasmRow := row{figure: "tailor.wasm, brotli", anchor: "empty Go reactor", target: "≤ 1.155×"}
	jsRow := row{figure: "tailor.js, brotli", anchor: "budget", target: "≤ 1×"}
	shopRow := row{figure: "loader, shop page without markup", anchor: "target", target: "< 1×",
		note: "tailor.js and the scanner's chunk tailor-extra.js, brotli each (issue 13)"}
	all := []row{wasmRow, jsRow, shopRow}
	if _, err := exec.LookPath("brotli"); err != nil {
		return failAll(all, "brotli not installed")
	}
	rows := make([]row, 0, len(all))
	tmp, err := os.MkdirTemp("", "tailor-bench-")
	if err != nil {
		return failAll(all, err.Error())
	}
	defer os.RemoveAll(tmp)
	empty := filepath.Join(tmp, "empty.wasm")
	build := exec.CommandContext(ctx, c.goCmd, "build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared",
		"-ldflags=-s -w -buildid=", "-o", empty, "./build/empty")
	build.Dir = c.root
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		rows = append(rows, wasmRow.fail(fmt.Sprintf("build the empty reactor: %v %s", err, out)))
	} else {
		t, err1 := brotliSize(ctx, filepath.Join(c.root, "dist", "tailor.wasm"))
		e, err2 := brotliSize(ctx, empty)
		if err := errors.Join(err1, err2); err != nil {
			rows = append(rows, wasmRow.fail(err.Error()))
		} else {
			rows = append(rows, wasmRow.set(bytesOf(t), bytesOf(e), float64(t)/float64(e)))
		}
	}
	core, err1 := brotliSize(ctx, filepath.Join(c.root, "dist", "tailor.js"))
	if err1 != nil {
		rows = append(rows, jsRow.fail(err1.Error()))
	} else {
		rows = append(rows, jsRow.set(bytesOf(core), bytesOf(8192), float64(core)/8192))
	}
	chunk, err2 := brotliSize(ctx, filepath.Join(c.root, "dist", "tailor-extra.js"))
	if err := errors.Join(err1, err2); err != nil {
		rows = append(rows, shopRow.fail(err.Error()))
	} else {
		n := core + chunk
		rows = append(rows, shopRow.set(bytesOf(n), bytesOf(10240), float64(n)/10240))
	}
	return rows
}

// wazeroRows: rank 200 candidates through the ABI in wazero.
func wazeroRows(ctx context.Context, c *config) []row {
	r := row{figure: "rank 200, wazero (p50 / p99)", anchor: "—", ratio: "—", target: "—"}
	s, err := goBench(ctx, c.root, c.goCmd, "./wasm/harness", "^BenchmarkRank200$", c.count, "")
	if err != nil {
		return []row{r.fail(err.Error())}
	}
	p50, ok1 := s.get("BenchmarkRank200", "p50-µs")
	p99, ok2 := s.get("BenchmarkRank200", "p99-µs")
	if !ok1 || !ok2 {
		return []row{r.fail("no p50-µs/p99-µs in BenchmarkRank200's output")}
	}
	wazeroRank = [2]float64{p50, p99}
	r.value = fmt.Sprintf("%s / %s", ms(p50/1000), ms(p99/1000))
	r.note = "2,000-item model, n=" + strconv.Itoa(s.count("BenchmarkRank200", "p50-µs"))
	return []row{r}
}

// wazeroRank is wazeroRows' p50 and p99 in µs (0 until it ran): the
// anchor of Chromium's.
var wazeroRank [2]float64

// syncRows: durable syncs against a bare handler reading the same bodies,
// alternating in the same run.
func syncRows(ctx context.Context, c *config) []row {
	var rows []row
	for _, clients := range []int{32, 128} {
		name := fmt.Sprintf("BenchmarkSyncThroughput/clients=%d", clients)
		r := row{figure: fmt.Sprintf("sync ingest, %d clients (syncs/s)", clients), anchor: "bare net/http handler", target: "≥ 0.5×"}
		s, err := goBench(ctx, c.root, c.goCmd, "./server/api", "^BenchmarkSyncThroughput$/^clients="+strconv.Itoa(clients)+"$", c.count, "12000x")
		if err != nil {
			rows = append(rows, r.fail(err.Error()))
			continue
		}
		syncs, ok1 := s.get(name, "syncs/s")
		bare, ok2 := s.get(name, "bare-req/s")
		p99, ok3 := s.get(name, "p99-ms")
		ratio, ok4 := s.get(name, "ratio")
		if !ok1 || !ok2 || !ok3 || !ok4 {
			rows = append(rows, r.fail("no syncs/s, bare-req/s, ratio or p99-ms in the benchmark's output"))
			continue
		}
		// Each count alternates syncs and bare requests in rounds: its own
		// ratio pairs them under the same load, so the row's ratio is the
		// median of those, not the ratio of the two medians.
		r = r.set(rate(syncs), rate(bare)+" req/s", ratio)
		r.note = fmt.Sprintf("a device's delta (server/internal/synctest), p99 %s, each fsynced before its 202, n=%d", ms(p99), s.count(name, "syncs/s"))
		// The CPU each request costs (client and server in one process)
		// moves much less with the machine's load than the rates do.
		if cs, ok := s.get(name, "cpu-µs/sync"); ok {
			if cb, ok := s.get(name, "cpu-µs/bare"); ok {
				r.note += fmt.Sprintf("; CPU %.0f µs per sync, %.0f per bare request", cs, cb)
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// serveRows: the manifest and the largest shard against http.FileServer
// serving that shard's bytes from a file.
func serveRows(ctx context.Context, c *config) []row {
	rm := row{figure: "GET /v1/model manifest (req/s)", anchor: "http.FileServer", target: "—"}
	rs := row{figure: "GET /v1/shards/… (req/s)", anchor: "http.FileServer", target: "—"}
	s, err := goBench(ctx, c.root, c.goCmd, "./server/api", "^BenchmarkServe$", c.count, "")
	if err != nil {
		return []row{rm.fail(err.Error()), rs.fail(err.Error())}
	}
	fsrv, ok := s.get("BenchmarkServe/fileserver", "req/s")
	var rows []row
	for _, x := range []struct {
		r    row
		name string
	}{{rm, "BenchmarkServe/manifest"}, {rs, "BenchmarkServe/shard"}} {
		v, ok2 := s.get(x.name, "req/s")
		if !ok || !ok2 {
			rows = append(rows, x.r.fail("no req/s in BenchmarkServe's output"))
			continue
		}
		r := x.r.set(rate(v), rate(fsrv)+" req/s", v/fsrv)
		r.note = fmt.Sprintf("8 clients, gzip off, n=%d", s.count(x.name, "req/s"))
		rows = append(rows, r)
	}
	return rows
}
