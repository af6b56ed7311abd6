package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/server/store"
)

func enc(d wire.Delta) []byte { return wire.Marshal(&d) }

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// nestedDelta is a delta with an unknown field nested depth levels deep.
func nestedDelta(depth int) []byte {
	w := msgp.NewWriter(depth + 64)
	w.MapHeader(2)
	w.String("schema")
	w.Uint(wire.DeltaSchema)
	w.String("x")
	for i := 0; i < depth; i++ {
		w.ArrayHeader(1)
	}
	w.Uint(1)
	return w.Bytes()
}

// zeros is an endless body: n bytes of zeros, produced as read.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), z.n))
	clear(p[:n])
	z.n -= int64(n)
	return n, nil
}

// TestSyncBadInput sends every kind of bad sync to a real server: each
// gets its documented status and reason with a message, nothing is
// stored, and the server keeps serving.
func TestSyncBadInput(t *testing.T) {
	s := newStack(t, stackConfig{opts: []api.Option{api.WithMaxModelLag(1)}})
	// Publish versions 1 and 2, so that version 0 is stale (lag 1).
	for range 2 {
		if r := s.sync(t, enc(newDelta())); r.code != http.StatusAccepted {
			t.Fatalf("good sync: %d %s", r.code, r.body)
		}
		s.flush(t)
	}
	recorded := newDelta()
	recorded.Model = 2
	if r := s.sync(t, enc(recorded)); r.code != http.StatusAccepted {
		t.Fatalf("good sync: %d %s", r.code, r.body)
	}
	with := func(modify func(d *wire.Delta)) []byte {
		d := newDelta()
		d.Model = 2
		modify(&d)
		return enc(d)
	}
	tooMany := func(d *wire.Delta) {
		d.Pairs = nil
		for i := 0; i <= wire.MaxDeltaPairs; i++ {
			d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("a", i), To: "b", W: 1})
		}
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		header []string
		code   int
		reason string
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n"), nil, 400, "malformed"},
		{"empty", nil, nil, 400, "malformed"},
		{"json", []byte(`{"schema":1,"site":"demo"}`), nil, 400, "malformed"},
		{"truncated", enc(newDelta())[:50], nil, 400, "malformed"},
		{"trailing bytes", append(enc(newDelta()), 0x00), nil, 400, "malformed"},
		{"bin32 claiming 2 GiB", unhex("c6 80 00 00 00"), nil, 400, "malformed"},
		{"str32 claiming 2 GiB", unhex("db 80 00 00 00"), nil, 400, "malformed"},
		{"array32 claiming 4G", unhex("dd ff ff ff ff"), nil, 400, "malformed"},
		{"site claiming 2 GiB", append(unhex("82 a6 73 63 68 65 6d 61 01 a4 73 69 74 65"), unhex("c6 80 00 00 00")...), nil, 400, "malformed"},
		{"deep nesting", nestedDelta(10000), nil, 400, "malformed"},
		{"NaN weight", with(func(d *wire.Delta) { d.Pairs[0].W = float32(math.NaN()) }), nil, 422, "invalid"},
		{"Inf count", with(func(d *wire.Delta) { d.Items[0].N = float32(math.Inf(1)) }), nil, 422, "invalid"},
		{"weight out of range", with(func(d *wire.Delta) { d.Pairs[0].W = 1e6 }), nil, 422, "invalid"},
		{"negative weight", with(func(d *wire.Delta) { d.Pairs[0].W = -1 }), nil, 422, "negative_weight"},
		{"empty delta", with(func(d *wire.Delta) { d.Pairs, d.Items, d.Arms = nil, nil, nil }), nil, 422, "empty"},
		{"eps on a federated site", with(func(d *wire.Delta) { d.Epsilon = 1 }), nil, 422, "noise_claimed"},
		{"reports on a federated site", with(func(d *wire.Delta) { d.Reports = []wire.Report{{Bit: 1}} }), nil, 422, "noise_claimed"},
		{"every weight at the maximum", with(func(d *wire.Delta) {
			d.Pairs[0].W, d.Items[0].N, d.Items[1].N = wire.MaxDeltaWeight, wire.MaxDeltaWeight, wire.MaxDeltaWeight
		}), nil, 422, "max_weights"},
		{"more pairs than an item accounts for, without items", with(func(d *wire.Delta) {
			d.Items = nil
			for i := len(d.Pairs); i <= ingest.PairsPerItem; i++ {
				d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprint("earlier-", i), To: "now", W: 1})
			}
		}), nil, 422, "too_many_pairs"},
		{"more impressions than a device reports", with(func(d *wire.Delta) { d.Arms[0].Impressions = 1000 }), nil, 422, "arm_counts"},
		{"more conversions than a device reports", with(func(d *wire.Delta) { d.Arms[0].Conversions = 3 }), nil, 422, "arm_counts"},
		{"too many pairs", with(tooMany), nil, 422, "invalid"},
		{"empty item id", with(func(d *wire.Delta) { d.Items[0].ID = "" }), nil, 422, "invalid"},
		{"unknown schema", append(unhex("82 a6 73 63 68 65 6d 61 7f a4 73 69 74 65"), []byte("\xa4demo")...), nil, 422, "schema"},
		{"unknown model version", with(func(d *wire.Delta) { d.Model = 3 }), nil, 422, "unknown_model"},
		{"stale model version", with(func(d *wire.Delta) { d.Model = 0 }), nil, 409, "stale_model"},
		{"wrong site key", with(func(d *wire.Delta) { d.Site = "not-a-site" }), nil, 403, "unknown_site"},
		{"foreign origin", with(func(d *wire.Delta) {}), []string{"Origin", "https://evil.example"}, 403, "origin"},
		{"local-mode site", with(func(d *wire.Delta) { d.Site, d.Model = "kiosk", 0 }), nil, 403, "local_mode"},
		{"ldp site without noise", with(func(d *wire.Delta) { d.Site, d.Model = "ldp", 0 }), nil, 422, "privacy"},
		{"ldp site with too little noise", with(func(d *wire.Delta) { d.Site, d.Model, d.Epsilon = "ldp", 0, 8 }), nil, 422, "privacy"},
		{"ldp site, pairs in clear", with(func(d *wire.Delta) { d.Site, d.Model, d.Epsilon = "ldp", 0, 2 }), nil, 422, "clear_on_ldp"},
		{"replayed id, other content", func() []byte { d := recorded; d.Arms = d.Arms[:1]; return enc(d) }(), nil, 409, "id_conflict"},
		{"json content type", enc(newDelta()), []string{"Content-Type", "application/json"}, 415, "media_type"},
		{"gzip content encoding", enc(newDelta()), []string{"Content-Encoding", "gzip"}, 415, "content_encoding"},
		{"body over the cap", bytes.Repeat([]byte{0x90}, api.MaxBodyBytes+1), nil, 413, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.stored(t, "demo") + s.stored(t, "ldp") + s.stored(t, "kiosk")
			r := s.sync(t, tc.body, tc.header...)
			var e api.Error
			r.json(t, &e)
			if r.code != tc.code || e.Reason != tc.reason || e.Error == "" {
				t.Fatalf("status %d reason %q (%s), want %d %q", r.code, e.Reason, e.Error, tc.code, tc.reason)
			}
			t.Logf("%d %s", r.code, e.Error)
			if after := s.stored(t, "demo") + s.stored(t, "ldp") + s.stored(t, "kiosk"); after != before {
				t.Errorf("a refused sync stored %d deltas", after-before)
			}
		})
	}

	t.Run("100 MB body, Expect: 100-continue", func(t *testing.T) {
		// A well-behaved client waits for the go-ahead: the server refuses
		// on Content-Length alone, and the body is never sent.
		req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/sync", &zeros{100 << 20})
		req.ContentLength = 100 << 20
		req.Header.Set("Content-Type", "application/msgpack")
		req.Header.Set("Expect", "100-continue")
		c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}}
		defer c.CloseIdleConnections()
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", res.StatusCode)
		}
	})
	t.Run("100 MB body, raw", func(t *testing.T) { hugeRaw(t, s, true) })
	t.Run("100 MB body, chunked", func(t *testing.T) { hugeRaw(t, s, false) })

	t.Run("retry is idempotent", func(t *testing.T) {
		before := s.stored(t, "demo")
		r := s.sync(t, enc(recorded))
		if r.code != http.StatusAccepted || r.header.Get(api.SyncStatusHeader) != "duplicate" {
			t.Fatalf("retry: %d %s", r.code, r.body)
		}
		if s.stored(t, "demo") != before {
			t.Error("a retry stored the delta twice")
		}
	})
	t.Run("still serving", func(t *testing.T) {
		if r := s.sync(t, with(func(d *wire.Delta) {}), "Origin", origin); r.code != http.StatusAccepted || r.header.Get("Access-Control-Allow-Origin") != origin {
			t.Fatalf("good sync after the bad ones: %d %s %v", r.code, r.body, r.header)
		}
		if r := s.do(t, http.MethodGet, "/healthz", nil); r.code != http.StatusOK {
			t.Fatalf("healthz: %d", r.code)
		}
		if r := s.do(t, http.MethodGet, "/v1/sync", nil); r.code != http.StatusMethodNotAllowed {
			t.Fatalf("GET /v1/sync: %d", r.code)
		}
	})
}

// hugeRaw writes a 100 MB sync over a raw connection, with or without a
// Content-Length, and checks that the server answers 413 after reading at
// most a little of it and closes the connection.
func hugeRaw(t *testing.T, s *stack, withLength bool) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	head := "POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\n"
	if withLength {
		head += fmt.Sprintf("Content-Length: %d\r\n\r\n", 100<<20)
	} else {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	}
	done := make(chan int64)
	go func() {
		// Write until the server stops reading; count what went out.
		var sent int64
		defer func() { done <- sent }()
		if _, err := io.WriteString(conn, head); err != nil {
			return
		}
		chunk := make([]byte, 64<<10)
		for sent < 100<<20 {
			var err error
			if withLength {
				_, err = conn.Write(chunk)
			} else {
				_, err = fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
			}
			if err != nil {
				return
			}
			sent += int64(len(chunk))
		}
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	conn.Close()
	sent := <-done
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "too_large") {
		t.Fatalf("status %d %s, want 413", res.StatusCode, body)
	}
	t.Logf("413 after the client sent %d KiB of 100 MiB", sent>>10)
	if sent >= 100<<20 {
		t.Error("the server read the whole 100 MB body")
	}
}

// TestSyncAnswers: a recorded sync answers a bare 202, no body and no
// header but net/http's own (Date, Content-Length); its retry 202 with
// SyncStatusHeader "duplicate" and nosniff, no body either.
func TestSyncAnswers(t *testing.T) {
	s := newStack(t, stackConfig{})
	body := enc(newDelta())
	for _, tc := range []struct {
		status string
		header map[string]string
	}{
		{"accepted", map[string]string{"Date": "", "Content-Length": "0"}},
		{"duplicate", map[string]string{"Date": "", "Content-Length": "0", api.SyncStatusHeader: "duplicate", "X-Content-Type-Options": "nosniff"}},
	} {
		r := s.sync(t, body)
		if r.code != http.StatusAccepted || len(r.body) != 0 {
			t.Errorf("%s: %d %q, want 202 without a body", tc.status, r.code, r.body)
		}
		for k, v := range r.header {
			want, ok := tc.header[k]
			if !ok || len(v) != 1 || want != "" && v[0] != want {
				t.Errorf("%s: header %s %q, want only %v", tc.status, k, v, tc.header)
			}
		}
		if len(r.header) != len(tc.header) {
			t.Errorf("%s: headers %v, want %v", tc.status, r.header, tc.header)
		}
	}
}

// TestSyncClock: with WithClock, the store records the clock's hour as
// the delta's arrival, not the wall clock's.
func TestSyncClock(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	s := newStack(t, stackConfig{opts: []api.Option{api.WithClock(func() time.Time { return at })}})
	if r := s.sync(t, enc(newDelta())); r.code != http.StatusAccepted {
		t.Fatalf("sync: %d %s", r.code, r.body)
	}
	ds, err := s.store.Deltas(context.Background(), siteKey, 0, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("stored %d deltas, %v; want 1", len(ds), err)
	}
	if want := store.Coarse(at); !ds[0].Received.Equal(want) {
		t.Errorf("received %v, want the clock's hour %v", ds[0].Received, want)
	}
}
