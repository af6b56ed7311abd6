//go:build !wasip1

// Package e2e runs the acceptance scenarios of the design (DESIGN.md,
// "Acceptance scenarios" 1-7) in Debian's Chromium, driven with chromedp,
// against the real server, built as tailor-demo, serving the demo store with a
// model seeded from simulated shoppers: what `make demo` runs. Each test
// acts as a visitor would (opens pages, clicks, scrolls, waits) and reads
// what the page shows. Without Chromium every test skips, saying so.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/internal/browsertest"
	"github.com/tailorhq/tailor/internal/modroot"
	"github.com/tailorhq/tailor/internal/serverproc"
)

// env is what every test shares: the running server and where its files are.
var env struct {
	root   string // the repository
	base   string // the server's URL, http://127.0.0.1:PORT
	skip   string // why the browser tests cannot run
	demo   *serverproc.Demo
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
	if err := startServer(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	code := m.Run()
	if err := env.demo.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stopping the server:", err)
		code = 1
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "server log (last lines):\n%s", env.demo.Tail(200))
	}
	return code
}

// startServer builds what `make demo` runs (tailor.wasm, tailor.js, the
// hashed assets, the demo's server) and starts it on a free loopback
// port with an empty store, seeded from 3,000 simulated shoppers
// (serverproc.StartDemo). It returns once the seeded model is published.
func startServer() (err error) {
	if env.root, err = modroot.Dir(); err != nil {
		return err
	}
	env.shots = filepath.Join(env.root, "dist", "screenshots")
	if err := serverproc.MakeDist(context.Background(), env.root); err != nil {
		return err
	}
	// A bound for a busy machine, not a speed test: the seeding takes
	// ~45 s on 2 shared cores under load (20,000 deltas).
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The seeded model stays the model for the whole run: no test's syncs
	// change what another test's visitor is shown.
	env.demo, err = serverproc.StartDemo(ctx, serverproc.DemoConfig{Root: env.root, Shoppers: 3000,
		Args: []string{"--admin-token", consoleAdminToken}}) // the console's test signs in with it
	if err != nil {
		return err
	}
	env.base = env.demo.URL
	var assets map[string]struct{ URL string }
	if err := serverproc.GetJSON(ctx, env.base+"/v1/assets", &assets); err != nil {
		return err
	}
	env.wasm, env.script = assets["tailor.wasm"].URL, assets["tailor.js"].URL
	if !strings.HasPrefix(env.wasm, "/assets/") || !strings.HasPrefix(env.script, "/assets/") {
		return fmt.Errorf("GET /v1/assets: %+v: want tailor.js and tailor.wasm under /assets/", assets)
	}
	return nil
}
