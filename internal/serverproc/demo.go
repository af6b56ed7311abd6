package serverproc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DemoConfig says how StartDemo runs the demo.
type DemoConfig struct {
	Root     string   // the repository: the demo is built from it and serves its dist/
	GoCmd    string   // the go command ("go" if empty)
	Shoppers int      // --seed-demo: the simulated shoppers its first model is learned from
	Args     []string // more flags, after the ones StartDemo sets
}

// Demo is the demo's server (demo-site/cmd/tailor-demo) running on a free
// loopback port with a store of its own.
type Demo struct {
	*Process
	URL string // http://127.0.0.1:PORT
	dir string // the binary and the store; removed by Stop
}

// StartDemo builds tailor-demo and runs it on a free loopback port with
// a fresh store in a temporary directory, seeded from c.Shoppers
// simulated shoppers, and returns once /readyz answers 200 and the demo
// site's model has a version (>= 1). The seeded model stays the model for
// the whole run (--publish-interval 1h). The environment is the parent's
// without TAILOR_* variables: the flags decide, not a developer's
// settings. If ctx ends first, or the demo exits, StartDemo stops it and
// returns an error with its last log lines.
func StartDemo(ctx context.Context, c DemoConfig) (*Demo, error) {
	dir, err := os.MkdirTemp("", "tailor-demo-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "tailor-demo")
	if err := Build(ctx, c.GoCmd, c.Root, "./demo-site/cmd/tailor-demo", bin); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	args := append([]string{"--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"),
		"--dist", filepath.Join(c.Root, "dist"), "--seed-demo", strconv.Itoa(c.Shoppers),
		"--publish-interval", "1h", "--log-format", "json"}, c.Args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TAILOR_") {
			env = append(env, kv)
		}
	}
	p, err := Start(bin, args, env)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	d := &Demo{Process: p, dir: dir}
	if err := d.await(ctx); err != nil {
		logs := p.Tail(50)
		d.Stop()
		return nil, fmt.Errorf("tailor-demo: %w; its last log lines:\n%s", err, logs)
	}
	return d, nil
}

// await waits for the demo to serve ("serving" is logged once the seeded
// model is in) and for its model's first version.
func (d *Demo) await(ctx context.Context) error {
	r, err := d.Await(ctx, "serving")
	if err != nil {
		return err
	}
	d.URL = "http://" + r.Addr
	for {
		if d.modelVersion(ctx) >= 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no seeded model (version >= 1) served: %w", ctx.Err())
		case <-d.Done():
			return fmt.Errorf("%w (%v) before serving a seeded model", ErrExited, d.Wait())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// modelVersion is the demo site's current model version, 0 until the
// server is ready and has one.
func (d *Demo) modelVersion(ctx context.Context) uint32 {
	var m struct{ Version uint32 }
	if GetJSON(ctx, d.URL+"/readyz", nil) != nil || GetJSON(ctx, d.URL+"/v1/model?site=demo", &m) != nil {
		return 0
	}
	return m.Version
}

// GetJSON GETs url and decodes its JSON body into v (if not nil); a
// status other than 200 is an error.
func GetJSON(ctx context.Context, url string, v any) error {
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
	if v == nil {
		return nil
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// Stop stops the demo (SIGTERM, killed after 10 s) and removes its
// directory; it returns how the process exited.
func (d *Demo) Stop() error {
	err := d.Process.Stop(10 * time.Second)
	os.RemoveAll(d.dir)
	return err
}
