package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
)

// TestCatalogSize: with --catalog-size the store sells that many
// synthetic products, a page at a time, and --seed-demo's shoppers walk
// them (on sdk/device, no tailor.wasm needed) into a published model; a
// size out of range is an error at start.
func TestCatalogSize(t *testing.T) {
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"), "--dist", "", "--catalog-size", "-1"},
		func(string) string { return "" }, io.Discard, io.Discard)
	if !errors.Is(err, demosite.ErrCatalogSize) {
		t.Errorf("--catalog-size -1: %v, want ErrCatalogSize", err)
	}

	d := startDemo(t, 60*time.Second, "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"), "--dist", "",
		"--catalog-size", "3000", "--seed-demo", "300", "--publish-interval", "1h", "--log-format", "json")
	base := d.base
	if !strings.Contains(d.stderr.String(), `"msg":"seeded the demo model"`) {
		t.Error("no seeding logged")
	}
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/c/jewelry?page=2"); code != 200 || strings.Count(body, "data-tailor-item=") != demosite.PageSize {
		t.Errorf("GET /c/jewelry?page=2: %d, %d items", code, strings.Count(body, "data-tailor-item="))
	}
	if code, body := get("/v1/model?site=demo"); code != 200 || strings.Contains(body, `"version":0,`) {
		t.Errorf("GET /v1/model: %d %.200s", code, body)
	}
}
