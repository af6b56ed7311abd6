package browserget_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/tailorhq/tailor/internal/browserget"
)

func TestGet(t *testing.T) {
	body := []byte(strings.Repeat("tailor model shard ", 200))
	var br, gz bytes.Buffer
	bw := brotli.NewWriter(&br)
	bw.Write(body)
	bw.Close()
	gw := gzip.NewWriter(&gz)
	gw.Write(body)
	gw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Accept-Encoding"); got != browserget.AcceptEncoding {
			t.Errorf("Accept-Encoding %q, want %q", got, browserget.AcceptEncoding)
		}
		switch r.URL.Path {
		case "/br":
			w.Header().Set("Content-Encoding", "br")
			w.Write(br.Bytes())
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz.Bytes())
		case "/plain":
			w.Write(body)
		case "/zstd":
			w.Header().Set("Content-Encoding", "zstd")
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := srv.Client() // sets Accept-Encoding itself: Go's transport does not decode
	tests := []struct {
		path    string
		served  int
		wantErr bool
	}{
		{"/br", br.Len(), false},
		{"/gzip", gz.Len(), false},
		{"/plain", len(body), false},
		{"/zstd", 0, true},
		{"/missing", 0, true},
	}
	for _, tt := range tests {
		got, served, err := browserget.Get(context.Background(), c, srv.URL+tt.path)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tt.path)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		if !bytes.Equal(got, body) || served != tt.served {
			t.Errorf("%s: %d bytes served %d, want %d served %d", tt.path, len(got), served, len(body), tt.served)
		}
	}
}
