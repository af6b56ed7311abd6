package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/internal/syncbuf"
	"github.com/tailorhq/tailor/sdk/wire"
)

// running is the demo's server run in-process (by run, as the command runs).
type running struct {
	base, token    string // from the stats line: the server's URL and the demo site's owner token
	stdout, stderr *syncbuf.Buffer
}

// startDemo runs the command with args in-process until the test ends,
// and waits up to wait for the line that tells on stdout how to read the
// demo store's stats (printed once it serves, after any seeding). The test
// fails if run returns an error, logging stderr.
func startDemo(t *testing.T, wait time.Duration, args ...string) *running {
	t.Helper()
	d := &running{stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(string) string { return "" }, d.stdout, d.stderr) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("stderr:\n%s", d.stderr.String())
		}
	})
	line := regexp.MustCompile(`curl -H 'Authorization: Bearer ([A-Za-z0-9_-]{43})' '(http://[^/]+)/v1/stats\?site=demo'`)
	var m []string
	for deadline := time.Now().Add(wait); m == nil; time.Sleep(10 * time.Millisecond) {
		m = line.FindStringSubmatch(d.stdout.String())
		if time.Now().After(deadline) {
			t.Fatalf("no stats line on stdout: %q", d.stdout.String())
		}
	}
	d.token, d.base = m[1], m[2]
	return d
}

// TestDemoSurface runs the demo server in-process: it prints, once, how to
// read the demo store's stats with an owner token new at each start; the
// stats answer 401 without it and the metrics without the admin token; a
// client over the sync rate gets 429.
func TestDemoSurface(t *testing.T) {
	d := startDemo(t, 30*time.Second, "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"), "--dist", "",
		"--sync-rate", "0.001", "--sync-burst", "2", "--stats-min-deltas", "1", "--stats-delay", "0")
	token, base := d.token, d.base
	if strings.Contains(d.stderr.String(), token) {
		t.Error("the owner token is in the logs")
	}
	get := func(path, bearer string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range []struct {
		path, bearer string
		code         int
	}{
		{"/v1/stats?site=demo", "", 401},
		{"/v1/stats?site=demo", demosite.Key, 401},
		{"/v1/stats?site=demo", token, 200},
		{"/metrics", "", 401},
		{"/metrics", token, 401}, // the owner's token is not the admin's; none is configured
	} {
		if code := get(tc.path, tc.bearer); code != tc.code {
			t.Errorf("GET %s with %q: %d, want %d", tc.path, tc.bearer, code, tc.code)
		}
	}
	codes := []int{}
	for i := range 3 {
		d := wire.Delta{Site: demosite.Key, Items: []wire.Count{{ID: "gown-1", N: 1}}}
		copy(d.ID[:], fmt.Sprintf("surface-%08d", i))
		res, err := http.Post(base+"/v1/sync", "application/msgpack", strings.NewReader(string(wire.Marshal(&d))))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		codes = append(codes, res.StatusCode)
	}
	if fmt.Sprint(codes) != "[202 202 429]" {
		t.Errorf("three syncs with a burst of 2: %v", codes)
	}
}
