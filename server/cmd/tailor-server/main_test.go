package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailorhq/tailor/internal/serverproc"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/api"
)

// process is the server binary running in a test.
type process struct {
	*serverproc.Process
	url string
}

// testSite is the site of testdata/sites.json, which the servers the
// tests start serve.
const testSite = "shop"

// testSites returns the path of testdata/sites.json.
func testSites(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", "sites.json"))
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// build compiles the server into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tailor-server")
	if err := serverproc.Build(context.Background(), "go", ".", ".", bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// testAdminToken is the admin token of the servers the tests start.
const testAdminToken = "admin-token-of-the-command-tests-0000000"

// start runs the binary on a free loopback port and waits until /readyz
// answers 200. Its clients sync from one address as fast as they can, and
// read every delta in the stats at once: no rate limit, no batching.
func start(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	sp, err := serverproc.Start(bin, append([]string{"--addr", "127.0.0.1:0", "--log-format", "json", "--dist", "", "--sites", testSites(t),
		"--sync-rate", "0", "--stats-min-deltas", "1", "--stats-delay", "0"}, args...),
		append(os.Environ(), "TAILOR_ADMIN_TOKEN="+testAdminToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sp.Kill()
		if t.Failed() {
			t.Logf("server logs:\n%s", sp.Logs())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := sp.Await(ctx, "serving")
	if err != nil {
		t.Fatalf("the server did not start: %v\n%s", err, sp.Logs())
	}
	p := &process{Process: sp, url: "http://" + r.Addr}
	for deadline := time.Now().Add(10 * time.Second); ; {
		res, err := http.Get(p.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// crashDelta is delta n: it names its own item, so that the published
// weights show whether it was folded.
func crashDelta(n int) []byte {
	item := fmt.Sprintf("crash-%05d", n)
	d := wire.Delta{Site: testSite, Pairs: []wire.Pair{{From: item, To: "anchor", W: 1}}, Items: []wire.Count{{ID: item, N: 1}},
		Arms: []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 1}}}
	copy(d.ID[:], fmt.Sprintf("crash-%010d", n))
	return wire.Marshal(&d)
}

// post syncs body and returns the status code and the sync's status:
// "duplicate" (SyncStatusHeader), or "accepted" for a 202 without it.
func post(c *http.Client, url string, body []byte) (int, string, error) {
	res, err := c.Post(url+"/v1/sync", "application/msgpack", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	status := res.Header.Get(api.SyncStatusHeader)
	if res.StatusCode == http.StatusAccepted && status == "" {
		status = "accepted"
	}
	return res.StatusCode, status, nil
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func getBytes(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return b
}

// TestCrash runs the server binary, streams syncs into it from several
// clients while it publishes versions, kills it with SIGKILL, and restarts
// it on the same data directory: every delta that got 202 must be stored
// (a retry answers "duplicate") and in the aggregate (its item is in the
// published weights, its impression in the uplift report, counted once),
// and every version published before the crash must be intact. Then a
// SIGTERM must stop it cleanly.
func TestCrash(t *testing.T) {
	bin := build(t)
	data := t.TempDir()
	args := []string{"--data", data, "--publish-every", "100", "--publish-interval", "50ms", "--min-cohort", "1", "--shards", "2"}
	p := start(t, bin, args...)

	var next atomic.Int64
	var mu sync.Mutex
	var acked []int
	versions := map[uint32]api.Manifest{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := int(next.Add(1))
				code, _, err := post(c, p.url, crashDelta(n))
				if err != nil {
					return // the server is gone
				}
				if code == http.StatusAccepted {
					mu.Lock()
					acked = append(acked, n)
					mu.Unlock()
				}
			}
		})
	}
	// Watch versions being published while the syncs stream in.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var m api.Manifest
		getJSON(t, p.url+"/v1/model?site=shop", &m)
		versions[m.Version] = m
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 1500 && len(versions) >= 4 || time.Now().After(deadline) {
			break
		}
	}
	p.Kill()
	close(stop)
	wg.Wait()
	t.Logf("killed with SIGKILL after %d syncs were acknowledged and %d were sent; %d versions seen", len(acked), next.Load(), len(versions))
	if len(acked) == 0 || len(versions) < 2 {
		t.Fatalf("too little happened before the kill: %d acks, %d versions", len(acked), len(versions))
	}

	p = start(t, bin, args...)
	c := &http.Client{Timeout: 5 * time.Second}
	for _, n := range acked {
		code, status, err := post(c, p.url, crashDelta(n))
		if err != nil || code != http.StatusAccepted || status != "duplicate" {
			t.Fatalf("acknowledged delta %d after the restart: %d %q %v (want 202 duplicate: it was lost)", n, code, status, err)
		}
	}
	// The aggregate holds them all: wait for a version covering every
	// stored delta, then look for each acknowledged delta's item.
	var m api.Manifest
	var st api.Stats
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		getJSON(t, p.url+"/v1/model?site=shop", &m)
		getJSON(t, p.url+"/v1/stats?site=shop", &st)
		if m.Deltas >= uint64(len(acked)) && st.Total.Arms["treatment"].Impressions == m.Deltas {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: version %d has %d deltas, %d impressions counted; %d were acknowledged",
				m.Version, m.Deltas, st.Total.Arms["treatment"].Impressions, len(acked))
		}
	}
	items := weights(t, p, m)
	for _, n := range acked {
		if _, ok := items[fmt.Sprintf("crash-%05d", n)]; !ok {
			t.Fatalf("acknowledged delta %d is not in version %d's weights", n, m.Version)
		}
	}
	t.Logf("after the restart: version %d built from %d stored deltas, all %d acknowledged among them, each counted once",
		m.Version, m.Deltas, len(acked))
	// Versions published before the crash are intact.
	for n, before := range versions {
		var after api.Manifest
		getJSON(t, fmt.Sprintf("%s/v1/model?site=shop&version=%d", p.url, n), &after)
		if after.Deltas != before.Deltas || after.Config != before.Config || len(after.Shards) != len(before.Shards) {
			t.Fatalf("version %d changed: %+v, was %+v", n, after, before)
		}
		for i, sh := range after.Shards {
			sum := sha256.Sum256(getBytes(t, p.url+sh.URL))
			if sh != before.Shards[i] || api.ShardName(hex.EncodeToString(sum[:])) != sh.Hash {
				t.Fatalf("version %d shard %d changed", n, i)
			}
		}
	}

	// A graceful stop.
	if err := p.Stop(15 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Logs())
	}
	if len(p.Records("stopped")) != 1 {
		t.Errorf("no clean stop in the logs:\n%s", p.Logs())
	}
}
