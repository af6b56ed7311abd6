//go:build !wasip1

// Package e2e runs the acceptance scenarios of the design (DESIGN.md,
// "Acceptance scenarios" 1-7) in Debian's Chromium, driven with chromedp,
// against the real server, built as tailor-demo, serving the demo store with a
// model seeded from simulated shoppers: what `make demo` runs. Each test
// acts as a visitor would (opens pages, clicks, scrolls, waits) and reads
// what the page shows. Without Chromium every test skips, saying so.
package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// env is what every test shares: the running server and where its files are.
var env struct {
	root   string // the repository
	base   string // the server's URL, http://127.0.0.1:PORT
	skip   string // why the browser tests cannot run
	logs   *logTail
	shots  string // dist/screenshots
	wasm   string // the path of tailor.wasm under /assets/
	script string // the path of tailor.js under /assets/
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if env.skip = browsertest.Missing(); env.skip != "" {
		fmt.Fprintln(os.Stderr, "e2e:", env.skip)
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "tailor-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	stop, err := startServer(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		if env.logs != nil {
			fmt.Fprintf(os.Stderr, "server log:\n%s", env.logs)
		}
		if stop != nil {
			stop()
		}
		return 1
	}
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stopping the server:", err)
		code = 1
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "server log (last lines):\n%s", env.logs)
	}
	return code
}

// repoRoot finds the repository: the nearest directory up with go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = up
	}
}

// startServer builds what `make demo` runs (tailor.wasm, tailor.js, the
// hashed assets, the demo's server) and starts it on a free loopback
// port with an empty store in tmp, seeded from 3,000 simulated shoppers.
// It returns once the seeded model is published; stop shuts the server
// down gracefully.
func startServer(tmp string) (stop func() error, err error) {
	if env.root, err = repoRoot(); err != nil {
		return nil, err
	}
	env.shots = filepath.Join(env.root, "dist", "screenshots")
	mk := exec.Command("make", "-s", "wasm", "loader", "assets")
	mk.Dir = env.root
	if out, err := mk.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("make -s wasm loader assets: %w\n%s", err, out)
	}
	bin := filepath.Join(tmp, "tailor-demo")
	build := exec.Command("go", "build", "-o", bin, "./demo-site/cmd/tailor-demo")
	build.Dir = env.root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./demo-site/cmd/tailor-demo: %w\n%s", err, out)
	}
	cmd := exec.Command(bin,
		"--addr", "127.0.0.1:0",
		"--data", filepath.Join(tmp, "data"),
		"--dist", filepath.Join(env.root, "dist"),
		"--seed-demo", "3000",
		"--admin-token", consoleAdminToken, // the console's test signs in with it
		// The seeded model stays the model for the whole run: no test's
		// syncs change what another test's visitor is shown.
		"--publish-interval", "1h",
		"--log-format", "json")
	for _, kv := range os.Environ() { // the flags above, not a developer's TAILOR_* settings
		if !strings.HasPrefix(kv, "TAILOR_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	env.logs = &logTail{}
	var addr string // set once, before listening closes
	listening, seeded := make(chan struct{}), make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var listened, served sync.Once
		for sc.Scan() {
			line := sc.Text()
			env.logs.add(line)
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			switch rec.Msg {
			case "listening":
				listened.Do(func() { addr = rec.Addr; close(listening) })
			case "serving": // logged once the demo model is seeded
				served.Do(func() { close(seeded) })
			}
		}
		io.Copy(io.Discard, stderr)
		exited <- cmd.Wait()
	}()
	stop = func() error {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			return errors.New("the server did not stop within 10 s of SIGTERM: killed")
		}
	}
	// A bound for a busy machine, not a speed test: the seeding takes
	// ~45 s on 2 shared cores under load (20,000 deltas).
	deadline := time.After(4 * time.Minute)
	// await waits for done, unless the server exits or the deadline passes first.
	await := func(done <-chan struct{}, what string) error {
		select {
		case <-done:
			return nil
		case err := <-exited:
			exited <- err
			return fmt.Errorf("the server exited: %v", err)
		case <-deadline:
			return fmt.Errorf("%s within 4 minutes", what)
		}
	}
	if err := await(listening, "the server did not listen"); err != nil {
		return stop, err
	}
	env.base = "http://" + addr
	if err := await(seeded, "the demo model was not seeded"); err != nil {
		return stop, err
	}
	for {
		if ready, version := serverState(); ready && version >= 1 {
			break
		}
		select {
		case <-deadline:
			return stop, errors.New("the server was not ready with a seeded model (version >= 1) within 4 minutes")
		case <-time.After(100 * time.Millisecond):
		}
	}
	var assets map[string]struct{ URL string }
	if err := getJSON(env.base+"/v1/assets", &assets); err != nil {
		return stop, err
	}
	env.wasm, env.script = assets["tailor.wasm"].URL, assets["tailor.js"].URL
	if !strings.HasPrefix(env.wasm, "/assets/") || !strings.HasPrefix(env.script, "/assets/") {
		return stop, fmt.Errorf("GET /v1/assets: %+v: want tailor.js and tailor.wasm under /assets/", assets)
	}
	return stop, nil
}

// serverState reports whether /readyz says ready and the demo model's version.
func serverState() (ready bool, version uint32) {
	res, err := http.Get(env.base + "/readyz")
	if err != nil {
		return false, 0
	}
	res.Body.Close()
	var m struct{ Version uint32 }
	if res.StatusCode != http.StatusOK || getJSON(env.base+"/v1/model?site=demo", &m) != nil {
		return false, 0
	}
	return true, m.Version
}

func getJSON(url string, v any) error {
	res, err := http.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// logTail keeps the server's last log lines, for a failure's report.
type logTail struct {
	mu    sync.Mutex
	lines []string
}

func (l *logTail) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lines = append(l.lines, s); len(l.lines) > 200 {
		l.lines = l.lines[len(l.lines)-200:]
	}
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n") + "\n"
}
