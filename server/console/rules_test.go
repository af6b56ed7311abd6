package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/api"
)

const boostRule = `[{"id": "evening", "segment": "evening shopper",
  "if": [{"field": "viewed.category", "op": "in", "values": ["evening-gowns"]}],
  "then": {"do": "boost", "categories": ["jewelry"], "weight": 1}}]`

// rulesForm is the rules page's form with a rule, slot settings and a
// preview context.
func rulesForm(action, rules, holdout, viewed string) url.Values {
	return url.Values{"action": {action}, "rules": {rules}, "explore": {"0.05"}, "holdout": {holdout}, "diversity": {"0"},
		"replenish": {"coffee-beans 21"}, "hour": {"20"}, "weekday": {"5"}, "month": {"12"}, "device": {"mobile"},
		"referrer": {"search"}, "page": {"home"}, "attrs": {"tier=gold"}, "viewed": {viewed},
		"candidates": {"shoe-1 shoes\nring-1 jewelry gold,formal\nbag-1 bags"}}
}

var previewRow = regexp.MustCompile(`<tr><td>(\d+)</td><td>([^<]+)</td><td>[^<]*</td><td>([^<]+)</td></tr>`)

// preview returns the preview table's items and what placed each.
func preview(t *testing.T, res *response) []string {
	t.Helper()
	if res.code != http.StatusOK {
		t.Fatalf("preview: %d\n%s", res.code, res.body)
	}
	var out []string
	for _, m := range previewRow.FindAllStringSubmatch(res.body, -1) {
		out = append(out, m[2]+" ("+m[3]+")")
	}
	return out
}

// TestRules: the rules page previews rules-only mode with the rules typed,
// refuses what the --sites file would refuse, and a save is audit-logged
// and published as a configuration version that /v1/model serves; reset
// serves the file's again.
func TestRules(t *testing.T) {
	s := newStack(t, stackConfig{})
	ctx := context.Background()
	s.signIn(t, shopToken)
	page := s.do(t, http.MethodGet, "/console/sites/shop/rules", nil)
	if page.code != http.StatusOK || !strings.Contains(page.body, `<textarea id="rules" name="rules"`) || !strings.Contains(page.body, `<label for="rules">`) {
		t.Fatalf("rules page: %d\n%s", page.code, page.body)
	}
	post := func(form url.Values) *response {
		t.Helper()
		return s.submit(t, "/console/sites/shop/rules", "/console/sites/shop/rules", form)
	}

	for _, tc := range []struct {
		viewed string
		want   []string
	}{
		{"", []string{"shoe-1 (default order)", "ring-1 (default order)", "bag-1 (default order)"}},
		{"gown-1 evening-gowns women", []string{"ring-1 (rule evening shopper)", "shoe-1 (default order)", "bag-1 (default order)"}},
	} {
		if got := preview(t, post(rulesForm("preview", boostRule, "0.1", tc.viewed))); strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
			t.Errorf("preview for a visitor who viewed %q: %v, want %v", tc.viewed, got, tc.want)
		}
	}
	if st, _ := s.db.Settings(ctx, "shop"); st.Config != nil {
		t.Fatalf("a preview saved the configuration: %s", st.Config)
	}

	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"holdout over 1", rulesForm("save", boostRule, "2", ""), "holdout 2 is not within 0-1"},
		{"unknown field", rulesForm("save", strings.Replace(boostRule, "viewed.category", "viewed.colour", 1), "0.1", ""), "viewed.colour"},
		{"malformed JSON", rulesForm("save", boostRule[:40], "0.1", ""), "Not valid"},
		{"bad refill line", func() url.Values { f := rulesForm("save", boostRule, "0.1", ""); f.Set("replenish", "beans"); return f }(), "replenish line"},
	} {
		res := post(tc.form)
		if res.code != http.StatusUnprocessableEntity || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s: %d, want 422 saying %q:\n%s", tc.name, res.code, tc.want, res.body)
		}
	}
	noCSRF := rulesForm("save", boostRule, "0.1", "")
	if res := s.do(t, http.MethodPost, "/console/sites/shop/rules", noCSRF); res.code != http.StatusForbidden {
		t.Errorf("save without the CSRF token: %d, want 403", res.code)
	}
	if st, _ := s.db.Settings(ctx, "shop"); st.Config != nil {
		t.Fatalf("a refused save saved: %s", st.Config)
	}

	config := func() wire.Config {
		t.Helper()
		if err := s.agg.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var m api.Manifest
		if res := s.do(t, http.MethodGet, "/v1/model?site=shop", nil); json.Unmarshal([]byte(res.body), &m) != nil {
			t.Fatalf("/v1/model: %d %s", res.code, res.body)
		}
		res := s.do(t, http.MethodGet, m.Config.URL, nil)
		var cfg wire.Config
		if err := wire.Unmarshal([]byte(res.body), &cfg, "config"); err != nil {
			t.Fatalf("%s: %d %v", m.Config.URL, res.code, err)
		}
		return cfg
	}
	before, _ := s.agg.Current("shop")
	if res := post(rulesForm("save", boostRule, "0.2", "")); res.code != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", res.code, res.body)
	}
	cfg := config()
	if len(cfg.Rules) != 1 || cfg.Rules[0].ID != "evening" || cfg.Holdout != 0.2 || cfg.Replenish["coffee-beans"] != 21 {
		t.Errorf("/v1/model serves the configuration %+v, want the saved one", cfg)
	}
	if v, _ := s.agg.Current("shop"); v.Number != before.Number+1 || v.Deltas != before.Deltas {
		t.Errorf("saved: v%d with %d deltas, want v%d with %d (a configuration version)", v.Number, v.Deltas, before.Number+1, before.Deltas)
	}
	page = s.do(t, http.MethodGet, "/console/sites/shop/rules", nil)
	if !strings.Contains(page.body, "Devices get the configuration saved here") || !strings.Contains(page.body, "&#34;evening shopper&#34;") {
		t.Errorf("the rules page does not show the saved rules:\n%s", page.body)
	}
	if levers := s.do(t, http.MethodGet, "/console/sites/shop/levers", nil); !strings.Contains(levers.body, "rules added: evening; explore 0 → 0.05; holdout 0.1 → 0.2") {
		t.Errorf("the audit log lacks the save:\n%s", levers.body)
	}
	if res := post(url.Values{"action": {"reset"}}); res.code != http.StatusSeeOther {
		t.Fatalf("reset: %d\n%s", res.code, res.body)
	}
	if cfg := config(); len(cfg.Rules) != 0 || cfg.Holdout != 0.1 {
		t.Errorf("reset: /v1/model serves %+v, want the file's configuration", cfg)
	}
}
