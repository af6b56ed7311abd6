package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"

	"github.com/tailorhq/tailor/internal/browsertest"
)

// largeShoppers seed the large catalogue's model for the bench row: more
// than make test's 15,000, for a model with neighbours for about half of
// the 40,000 products (a few minutes of seeding).
const largeShoppers = 100_000

// largeLine is the line demo-site/e2e/large's test logs with its figures.
var largeLine = regexp.MustCompile(`BENCH large-catalog first-B=(\d+) later-B=(\d+) pages=(\d+)`)

// largeRows: the model bytes a visitor transfers per page view in
// Chromium on the demo selling 40,000 synthetic products (issue 12),
// against the targets: demo-site/e2e/large's TestModelBytesPerPage, run
// with largeShoppers.
func largeRows(ctx context.Context, c *config) []row {
	first := row{figure: "model bytes, first page view, 40,000 items", anchor: "target", target: "≤ 1×"}
	later := row{figure: "model bytes, later page view (mean)", anchor: "target", target: "≤ 1×"}
	if why := browsertest.Missing(); why != "" {
		return failAll([]row{first, later}, why)
	}
	cmd := exec.CommandContext(ctx, c.goCmd, "test", "-count=1", "-timeout", "20m", "-run", "^TestModelBytesPerPage$", "-v", "./demo-site/e2e/large/")
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), "TAILOR_LARGE_SHOPPERS="+strconv.Itoa(largeShoppers))
	out, err := cmd.CombinedOutput()
	// A test over its targets fails, with its figures logged: the rows
	// show them all the same.
	m := largeLine.FindSubmatch(out)
	if m == nil {
		why := "no figures in TestModelBytesPerPage's output"
		if err != nil {
			why = fmt.Sprintf("TestModelBytesPerPage: %v: %s", err, tail(out, 300))
		}
		return failAll([]row{first, later}, why)
	}
	f, _ := strconv.Atoi(string(m[1]))
	l, _ := strconv.Atoi(string(m[2]))
	first = first.set(bytesOf(f), bytesOf(64<<10), float64(f)/(64<<10))
	first.note = fmt.Sprintf("Chromium, fresh profile: manifest, config, shards downloaded (body bytes, brotli); model of %s shoppers' deltas", thousands(largeShoppers))
	later = later.set(bytesOf(l), bytesOf(16<<10), float64(l)/(16<<10))
	later.note = fmt.Sprintf("mean of %s pages: product pages by their links, a listing", m[3])
	return []row{first, later}
}
