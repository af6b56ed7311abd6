//go:build !wasip1

package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// front is a reverse proxy in front of the server through which a
// visitor's browser reaches the store: it records every request that
// arrives from the page (the server's side of what the page sent, beacons
// sent while a page unloads included, which DevTools does not always
// report), and can change answers as a CDN or a site's own headers would.
// The page's origin is the proxy's; the proxy presents the server's own
// origin to the server, which the demo site allows, so syncs are
// accepted as they would be without it.
type front struct {
	URL string

	mu  sync.Mutex
	log []served
}

// served is one request the front passed on (or answered itself).
type served struct {
	Method, Path, Query string
	Status              int
}

func (s served) String() string {
	u := s.Path
	if s.Query != "" {
		u += "?" + s.Query
	}
	return s.Method + " " + u
}

// frontOptions change what the browser gets.
type frontOptions struct {
	CSP        string          // a Content-Security-Policy header on the store's pages
	WasmStatus int             // answer tailor.wasm with this status (and no body)
	NoLoader   bool            // answer tailor.js with 404: the store without Tailor
	HoldLoader <-chan struct{} // answer tailor.js only once this is closed: a late loader
}

func newFront(t *testing.T, opts frontOptions) *front {
	t.Helper()
	if env.skip != "" {
		t.Skip(env.skip)
	}
	target, err := url.Parse(env.base)
	if err != nil {
		t.Fatal(err)
	}
	f := &front{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			if pr.In.Header.Get("Origin") != "" {
				pr.Out.Header.Set("Origin", env.base)
			}
		},
		ModifyResponse: func(res *http.Response) error {
			if opts.CSP != "" && strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				res.Header.Set("Content-Security-Policy", opts.CSP)
			}
			return nil
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			f.mu.Lock()
			f.log = append(f.log, served{r.Method, r.URL.Path, r.URL.RawQuery, rec.status})
			f.mu.Unlock()
		}()
		if opts.WasmStatus != 0 && strings.HasPrefix(r.URL.Path, "/assets/") && strings.HasSuffix(r.URL.Path, ".wasm") {
			http.Error(rec, "broken on purpose", opts.WasmStatus)
			return
		}
		if opts.NoLoader && r.URL.Path == env.script {
			http.NotFound(rec, r)
			return
		}
		if opts.HoldLoader != nil && r.URL.Path == env.script {
			select {
			case <-opts.HoldLoader:
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(rec, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// direct is no front: the browser reaches the server itself (for the
// speed figures, without the proxy's hop). It records nothing.
func direct() *front { return &front{URL: env.base} }

// requests returns what the front served so far.
func (f *front) requests() []served {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]served(nil), f.log...)
}

// syncs returns the profile deltas the page posted, with their statuses.
func (f *front) syncs() []served {
	var out []served
	for _, r := range f.requests() {
		if r.Path == "/v1/sync" {
			out = append(out, r)
		}
	}
	return out
}

// statusRecorder records the status of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
