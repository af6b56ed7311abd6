package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// demoShoppers seeds the demo's model for the Chromium rows: enough for a
// published version, few enough to take seconds.
const demoShoppers = 300

// chromiumRows: the first personalized slot cold and warm, the bytes of a
// first visit, and rank 200 through the loader, in Chromium on the demo's
// home page (BenchmarkChromium, in this package's tests, against the
// demo's server started here).
func chromiumRows(ctx context.Context, c *config) []row {
	rows := []row{
		{figure: "first personalized slot, cold", anchor: "target", target: "< 1×"},
		{figure: "first personalized slot, warm", anchor: "target", target: "< 1×"},
		{figure: "first visit, Tailor's bytes", anchor: "rest of the page", target: "—"},
		{figure: "rank 200, Chromium + JS (p50 / p99)", anchor: "wazero p50", target: "—"},
	}
	failAll := func(why string) []row {
		for i := range rows {
			rows[i] = rows[i].fail(why)
		}
		return rows
	}
	if why := browsertest.Missing(); why != "" {
		return failAll(why)
	}
	base, stop, err := startDemo(ctx, c)
	if stop != nil {
		defer stop()
	}
	if err != nil {
		return failAll(err.Error())
	}
	cmd := exec.CommandContext(ctx, c.goCmd, "test", "-run", "^$", "-bench", "^BenchmarkChromium$", "-benchtime", "1x",
		"-count", strconv.Itoa(c.browsers), "./build/cmd/bench")
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), "TAILOR_BENCH_DEMO="+base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return failAll(fmt.Sprintf("BenchmarkChromium: %v: %s", err, tail(out, 500)))
	}
	s, err := parseBench(bytesReader(out))
	if err != nil {
		return failAll(err.Error())
	}
	const name = "BenchmarkChromium"
	get := func(unit string) float64 { v, _ := s.get(name, unit); return v }
	n := s.count(name, "cold-ms")
	if n == 0 {
		return failAll("no cold-ms in BenchmarkChromium's output: " + string(tail(out, 300)))
	}
	note := fmt.Sprintf("demo home page, loopback, %d fresh Chromiums", n)
	cold, warm := get("cold-ms"), get("warm-ms")
	rows[0] = rows[0].set(ms(cold), "150 ms", cold/150)
	rows[0].note = note
	rows[1] = rows[1].set(ms(warm), "50 ms", warm/50)
	rows[1].note = "median of 3 reloads per Chromium"
	tb, pb := get("tailor-B"), get("page-B")
	rows[2] = rows[2].set(bytesOf(int(tb)), bytesOf(int(pb)), tb/pb)
	rows[2].note = "transferred on the cold load: tailor.js, tailor.wasm, manifest, shards"
	p50, p99 := get("rank200-p50-ms"), get("rank200-p99-ms")
	if wazeroRank[0] > 0 {
		rows[3] = rows[3].set(fmt.Sprintf("%s / %s", ms(p50), ms(p99)), ms(wazeroRank[0]/1000), p50/(wazeroRank[0]/1000))
	} else {
		rows[3].value, rows[3].anchor, rows[3].ratio = fmt.Sprintf("%s / %s", ms(p50), ms(p99)), "wazero: not run", "—"
	}
	rows[3].note = "the demo's model; 300 calls, timer resolution 0.1 ms"
	return rows
}

// startDemo builds and starts the demo's server on a free loopback port
// with a fresh store seeded from demoShoppers, and returns its URL once it
// serves a model. stop shuts it down.
func startDemo(ctx context.Context, c *config) (base string, stop func(), err error) {
	tmp, err := os.MkdirTemp("", "tailor-bench-demo-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(tmp, "tailor-demo")
	build := exec.CommandContext(ctx, c.goCmd, "build", "-o", bin, "./demo-site/cmd/tailor-demo")
	build.Dir = c.root
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("build tailor-demo: %v %s", err, out)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--data", filepath.Join(tmp, "data"),
		"--dist", filepath.Join(c.root, "dist"), "--seed-demo", strconv.Itoa(demoShoppers),
		"--publish-interval", "1h", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(tmp)
		return "", nil, err
	}
	exited := make(chan error, 1)
	serving := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "serving" {
				select {
				case serving <- rec.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		exited <- cmd.Wait()
	}()
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		os.RemoveAll(tmp)
	}
	deadline := time.After(4 * time.Minute) // a bound for a loaded machine
	select {
	case addr := <-serving:
		base = "http://" + addr
	case err := <-exited:
		exited <- err
		return "", stop, fmt.Errorf("tailor-demo exited: %v", err)
	case <-deadline:
		return "", stop, errors.New("tailor-demo did not serve within 4 minutes")
	case <-ctx.Done():
		return "", stop, ctx.Err()
	}
	for {
		var m struct{ Version uint32 }
		if getJSON(ctx, base+"/v1/model?site=demo", &m) == nil && m.Version >= 1 {
			return base, stop, nil
		}
		select {
		case <-deadline:
			return "", stop, errors.New("tailor-demo served no seeded model within 4 minutes")
		case <-ctx.Done():
			return "", stop, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}
