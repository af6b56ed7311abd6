package console_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// armImpressions reads each arm's impressions from the experiment page's
// table of arms.
var armImpressions = regexp.MustCompile(`<th scope="row">([^<]+)</th><td>(\d+)</td>`)

// TestExperimentSimulated seeds a server through its HTTP API with the
// demo's simulated shoppers (the real tailor.wasm ranking the pages' slots,
// their deltas posted to /v1/sync) and reads the experiment page. With the
// site's holdout share, every arm shows with its intervals and the sample
// ratio check passes; with devices drawing a holdout of 50% where the site
// says 10% (a stale configuration, a broken loader) the page warns of a
// sample ratio mismatch. (The check counts each shopper's visit once,
// however many deltas it sent.)
func TestExperimentSimulated(t *testing.T) {
	const shoppers = 100
	s, err := sim.New()
	if err != nil {
		t.Fatal(err)
	}
	pool := harnesstest.Runtime(t).NewPool(2, nil)
	for _, tc := range []struct {
		name    string
		holdout float32 // what the devices draw; the site says 0.1
		want    string
	}{
		{"fair split", 0, "Sample ratio check passed"},
		{"skewed split", 0.5, "Sample ratio mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStack(t, stackConfig{})
			shop, _ := testSites(t).Get("shop")
			cfg := shop.Config()
			if tc.holdout > 0 {
				cfg.Holdout = tc.holdout
			}
			c := &http.Client{Timeout: 30 * time.Second}
			err := s.Traffic(context.Background(), pool, cfg, shoppers, 11, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
				func(delta []byte) error {
					res, err := c.Post(st.url+"/v1/sync", "application/msgpack", bytes.NewReader(delta))
					if err != nil {
						return err
					}
					res.Body.Close()
					if res.StatusCode != http.StatusAccepted {
						return fmt.Errorf("sync: %d", res.StatusCode)
					}
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.agg.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			st.signIn(t, shopToken)
			page := st.do(t, http.MethodGet, "/console/sites/shop/experiment", nil)
			if !strings.Contains(page.body, tc.want) {
				t.Errorf("the experiment page does not say %q:\n%s", tc.want, page.body)
			}
			if m := regexp.MustCompile(`Sample ratio[^<]*`).FindString(page.body); m != "" {
				t.Log(m)
			}
			arms := map[string]int{}
			for _, m := range armImpressions.FindAllStringSubmatch(page.body, -1) {
				arms[m[1]], _ = strconv.Atoi(m[2])
			}
			t.Logf("impressions by arm: %v", arms)
			for _, label := range []string{"AI (treatment)", "Holdout (default order)", "Rules only"} {
				if arms[label] == 0 {
					t.Errorf("the arm %q shows no impressions", label)
				}
			}
			// A CTR and a conversion chart, each an interval (three lines) per arm.
			if n := strings.Count(page.body, `class="ci"`); n != 2*3*3 {
				t.Errorf("%d interval lines for 3 arms in 2 charts, want 18", n)
			}
		})
	}
}
