package api_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/api"
)

// setsCookie is a handler that tries to set a cookie.
var setsCookie = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: "c", Value: "v", Path: "/"})
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "ok")
})

// TestConsoleCookies: the console's answers may set cookies, nothing else
// may, the pages included.
func TestConsoleCookies(t *testing.T) {
	s := newStack(t, stackConfig{opts: []api.Option{api.WithConsole(setsCookie), api.WithPages(setsCookie)}})
	for _, tc := range []struct {
		path   string
		cookie bool
	}{
		{"/console", true},
		{"/console/site/demo", true},
		{"/consoles", false},
		{"/", false},
		{"/shop", false},
		{"/v1/model?site=" + siteKey, false},
	} {
		res, err := s.c.Get(s.url + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Set-Cookie") != ""; got != tc.cookie {
			t.Errorf("GET %s: cookie set %v, want %v", tc.path, got, tc.cookie)
		}
	}
}

// TestPin: a pinned version is what GET /v1/model serves devices, with the
// current manifest's short max-age; ?version= still serves any version;
// a pin newer than the newest version is ignored.
func TestPin(t *testing.T) {
	var pin atomic.Int64
	pin.Store(-1)
	s := newStack(t, stackConfig{opts: []api.Option{api.WithPin(func(key string) (uint32, bool) {
		p := pin.Load()
		return uint32(p), key == siteKey && p >= 0
	})}})
	for range 2 {
		d := newDelta()
		if res := s.sync(t, wire.Marshal(&d)); res.code != http.StatusAccepted {
			t.Fatalf("sync: %d %s", res.code, res.body)
		}
		s.flush(t)
	}
	version := func(path string) (uint32, string) {
		t.Helper()
		res := s.do(t, http.MethodGet, path, nil)
		var m api.Manifest
		res.json(t, &m)
		return m.Version, res.header.Get("Cache-Control")
	}
	model := "/v1/model?site=" + siteKey
	if v, _ := version(model); v != 2 {
		t.Fatalf("unpinned: version %d, want 2", v)
	}
	pin.Store(1)
	if v, cc := version(model); v != 1 || !strings.Contains(cc, "max-age=30") {
		t.Errorf("pinned at 1: version %d (Cache-Control %q), want 1 with the current manifest's max-age", v, cc)
	}
	if v, cc := version(model + "&version=2"); v != 2 || !strings.Contains(cc, "immutable") {
		t.Errorf("pinned, ?version=2: version %d (%q), want 2, immutable", v, cc)
	}
	pin.Store(7)
	if v, _ := version(model); v != 2 {
		t.Errorf("pinned beyond the newest: version %d, want 2", v)
	}
}

// TestSyncCounts: a site's syncs by reason, for deltas that named it.
func TestSyncCounts(t *testing.T) {
	s := newStack(t, stackConfig{})
	d := newDelta()
	s.sync(t, wire.Marshal(&d))
	s.sync(t, wire.Marshal(&d))
	bad := newDelta()
	bad.Pairs[0].W = -1
	if res := s.sync(t, wire.Marshal(&bad)); res.code != http.StatusUnprocessableEntity {
		t.Fatalf("negative weight: %d", res.code)
	}
	other := newDelta()
	other.Site = "nobody"
	s.sync(t, wire.Marshal(&other))
	got := s.srv.SyncCounts(siteKey)
	if len(got) != 3 || got["accepted"] != 1 || got["duplicate"] != 1 || got["negative_weight"] != 1 {
		t.Errorf("SyncCounts = %v, want accepted 1, duplicate 1, negative_weight 1", got)
	}
	if got := s.srv.SyncCounts("nobody"); len(got) != 0 {
		t.Errorf("an unknown site has counts: %v", got)
	}
}

// TestSyncHours: a site's syncs by hour, the current one last.
func TestSyncHours(t *testing.T) {
	s := newStack(t, stackConfig{})
	d := newDelta()
	s.sync(t, wire.Marshal(&d))
	bad := newDelta()
	bad.Pairs[0].W = -1
	s.sync(t, wire.Marshal(&bad))
	hours := s.srv.SyncHours(siteKey)
	if len(hours) != api.SyncHoursKept {
		t.Fatalf("%d hours, want %d", len(hours), api.SyncHoursKept)
	}
	var accepted, refused uint64
	for i, h := range hours {
		accepted, refused = accepted+h.Accepted, refused+h.Refused
		if i > 0 && h.Hour.Sub(hours[i-1].Hour) != time.Hour {
			t.Fatalf("hour %d is %v after %v", i, h.Hour, hours[i-1].Hour)
		}
	}
	// The two syncs fall in the last hour, or in the one before if the
	// hour turned in between.
	if last := hours[len(hours)-1]; accepted != 1 || refused != 1 || last.Hour.After(time.Now()) || time.Since(last.Hour) > time.Hour {
		t.Errorf("hours %+v: want 1 accepted and 1 refused, the last hour now", hours)
	}
}
