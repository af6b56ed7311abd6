package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/internal/stacktest"
	"github.com/tailorhq/tailor/server/site"
)

// TestConsole: the server mounts the console, and its levers act on what
// the server does: a version pinned there is what GET /v1/model serves.
func TestConsole(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sites := WithSites(func(addr *net.TCPAddr, configured string) (*site.Set, error) {
		return site.NewSet(site.Site{Key: "test", Origins: []string{"http://" + addr.String()}, Privacy: wire.PrivacyFederated})
	})
	getenv := func(k string) string { return map[string]string{"TAILOR_ADMIN_TOKEN": testAdminToken}[k] }
	args := []string{"--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"), "--dist", "", "--min-cohort", "1"}
	s, wait := start(t, ctx, args, getenv, sites)
	defer func() {
		cancel()
		wait()
	}()
	base := "http://" + s.Addr.String()
	d := wire.Delta{Site: "test", ID: [16]byte{1}, Items: []wire.Count{{ID: "a", N: 1}}}
	req, _ := http.NewRequest(http.MethodPost, "/v1/sync", bytes.NewReader(wire.Marshal(&d)))
	rec := httptest.NewRecorder()
	s.Local.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("sync: %d", rec.Code)
	}
	if err := s.Aggregator.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	c := stacktest.NewBrowser()
	if res, _ := stacktest.Submit(t, c, base+"/console", base+"/console/signin", url.Values{"token": {testAdminToken}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in with the admin token: %d", res.StatusCode)
	}
	levers := base + "/console/sites/test/levers"
	res, _ := stacktest.Submit(t, c, levers, levers+"/pin", url.Values{"version": {"0"}})
	if done, _ := res.Location(); res.StatusCode != http.StatusSeeOther || done == nil || done.Query().Get("done") != "pin" {
		t.Fatalf("pin v0: %d to %v", res.StatusCode, done)
	}
	res, err := http.Get(base + "/v1/model?site=test")
	if err != nil {
		t.Fatal(err)
	}
	var m api.Manifest
	json.NewDecoder(res.Body).Decode(&m)
	res.Body.Close()
	if cur, _ := s.Aggregator.Current("test"); cur.Number != 1 || m.Version != 0 {
		t.Errorf("pinned at v0 with v%d published: /v1/model serves v%d", cur.Number, m.Version)
	}
}
