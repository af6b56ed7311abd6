package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/bolt"
)

// TestPurgeCommand runs `tailor-server purge` on an embedded store that
// a server with the same flags filled: the poisoned hour goes, the
// honest ones stay; a running server, a window in the base and missing
// flags are refused with what to do.
func TestPurgeCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sitesFile := filepath.Join(dir, "sites.json")
	if err := os.WriteFile(sitesFile, []byte(`{"sites": [{"key": "shop", "origins": ["https://shop.example"], "privacy": "federated"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--data", data, "--sites", sitesFile, "--min-cohort", "1", "--retention", "24h"}

	// A server's aggregation of honest hours, a poisoned hour, and old
	// deltas already retired.
	c, err := parse(flags, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sites, err := site.Load(sitesFile)
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(data, "tailor.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := store.Coarse(time.Now())
	poisoned := now.Add(-5 * time.Hour)
	add := func(id string, at time.Time, from, to string) {
		d := wire.Delta{Site: "shop", Pairs: []wire.Pair{{From: from, To: to, W: 1}}, Items: []wire.Count{{ID: from, N: 1}}}
		copy(d.ID[:], fmt.Sprintf("%-16s", id))
		if _, err := db.Append(ctx, store.Delta{Site: "shop", ID: d.ID, Received: at, Body: wire.Marshal(&d)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		add(fmt.Sprint("old-", i), now.Add(-48*time.Hour), "shoes", "socks")
	}
	for h := 2; h <= 8; h++ {
		for i := range 4 {
			if h == 5 {
				add(fmt.Sprintf("poison-%d-%d", h, i), poisoned.Add(time.Duration(i)*time.Minute), "shoes", "planted")
			} else {
				add(fmt.Sprintf("honest-%d-%d", h, i), now.Add(-time.Duration(h)*time.Hour), "shoes", "laces")
			}
		}
	}
	agg, err := publish.New(db, sites, aggregateOptions(c, slog.New(slog.DiscardHandler))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := agg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := agg.Flush(ctx); err != nil { // publishes v1, retires the old deltas
		t.Fatal(err)
	}
	if err := agg.Close(ctx); err != nil {
		t.Fatal(err)
	}

	purge := func(args ...string) (string, error) {
		var out, errs bytes.Buffer
		err := Run(ctx, append(append([]string{"purge"}, flags...), args...), func(string) string { return "" }, &out, &errs)
		return out.String() + errs.String(), err
	}
	// The server still runs: refused, saying to stop it.
	window := []string{"--site", "shop", "--from", poisoned.Add(10 * time.Minute).Format(time.RFC3339), "--to", poisoned.Add(50 * time.Minute).Format(time.RFC3339)}
	if _, err := purge(window...); err == nil || !strings.Contains(err.Error(), "stop the server first") {
		t.Errorf("purge with the server running: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := purge(window...)
	if err != nil {
		t.Fatalf("purge: %v\n%s", err, out)
	}
	want := fmt.Sprintf("purged site shop: deleted 4 deltas received in [%s, %s); rebuilt the aggregate from the base checkpoint and 24 deltas; published version 2 (29 deltas).",
		poisoned.Format(time.RFC3339), poisoned.Add(time.Hour).Format(time.RFC3339))
	if !strings.Contains(out, want) || !strings.Contains(out, "rebuilding the aggregate") {
		t.Errorf("purge said:\n%s\nwant:\n%s", out, want)
	}
	raw, err := os.ReadFile(filepath.Join(data, "tailor.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("poison-")) || !bytes.Contains(raw, []byte("honest-")) {
		t.Error("after the purge, the store file still holds a purged delta's id (or lost the honest ones)")
	}
	db, err = bolt.Open(filepath.Join(data, "tailor.db"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.Latest(ctx, "shop")
	if err != nil || v.Number != 2 {
		t.Fatalf("latest = v%d, %v", v.Number, err)
	}
	var next []string
	for _, sh := range v.Shards {
		b, _ := db.Blob(ctx, sh.Hash)
		var w wire.Weights
		if err := wire.Unmarshal(b, &w, "weights"); err != nil {
			t.Fatal(err)
		}
		for _, it := range w.Items {
			if it.ID == "shoes" {
				for _, n := range it.Next {
					next = append(next, n.ID)
				}
			}
		}
	}
	if fmt.Sprint(next) != "[laces socks]" && fmt.Sprint(next) != "[socks laces]" {
		t.Errorf("after the purge, shoes leads to %v; want laces and socks (the base), not planted", next)
	}
	db.Close()

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"in the base", []string{"--site", "shop", "--from", "-49h", "--to", "-47h"}, "older than the retention window"},
		{"no window", []string{"--site", "shop"}, "--site, --from and --to are required"},
		{"bad time", []string{"--site", "shop", "--from", "yesterday", "--to", "-1h"}, "--from"},
		{"unknown site", []string{"--site", "nope", "--from", "-3h", "--to", "-2h"}, "unknown site"},
		{"other flags", []string{"--site", "shop", "--from", "-3h", "--to", "-2h", "--min-cohort", "4"}, "give purge the server's flags"},
	} {
		if out, err := purge(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("purge %s: %v\n%s", tc.name, err, out)
		}
	}
	var help bytes.Buffer
	if err := Run(ctx, []string{"purge", "--help"}, func(string) string { return "" }, &help, &help); err != nil ||
		!strings.Contains(help.String(), "--from start") || !strings.Contains(help.String(), "stop the server") {
		t.Errorf("purge --help: %v\n%s", err, help.String())
	}
	if err := Run(ctx, []string{"purge", "--data", filepath.Join(dir, "nothing"), "--sites", sitesFile, "--site", "shop", "--from", "-2h", "--to", "-1h"},
		func(string) string { return "" }, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "no embedded store") {
		t.Errorf("purge of a missing store: %v", err)
	}
}

func TestParseRetention(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want time.Duration
		err  bool
	}{
		{nil, "", publish.DefaultRetention, false},
		{[]string{"--retention", "72h"}, "", 72 * time.Hour, false},
		{nil, "0", 0, false},
		{[]string{"--retention", "-1h"}, "", 0, true},
	} {
		c, err := parse(tc.args, func(k string) string {
			if k == "TAILOR_RETENTION" {
				return tc.env
			}
			return ""
		}, io.Discard)
		if (err != nil) != tc.err || err == nil && c.retention != tc.want {
			t.Errorf("parse %q (env %q): %+v, %v; want %v", tc.args, tc.env, c, err, tc.want)
		}
	}
}
