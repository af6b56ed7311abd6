package site_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/site"
)

func editBase(t *testing.T) *site.Site {
	t.Helper()
	set, err := site.NewSet(site.Site{Key: "shop", Origins: []string{"https://shop.example"}, Holdout: 0.05,
		Rules: []wire.Rule{{ID: "r1", Segment: "runner", If: []wire.Cond{{Field: "viewed.tag", Op: wire.OpIn, Values: []string{"running"}}},
			Then: wire.Action{Do: wire.DoBoost, Categories: []string{"gels"}, Weight: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := set.Get("shop")
	return s
}

// TestEdited: an edit is validated as the --sites file is, and leaves the
// site it was applied to unchanged.
func TestEdited(t *testing.T) {
	s := editBase(t)
	for _, tc := range []struct {
		name  string
		rules string
		edit  func(e *site.Edit)
		bad   string // "" for a valid edit
	}{
		{name: "unchanged"},
		{name: "new boost", rules: `[{"id": "b", "if": [{"field": "ctx.device", "op": "in", "values": ["mobile"]}], "then": {"do": "boost", "tags": ["app"], "weight": 2}}]`},
		{name: "holdout over 1", edit: func(e *site.Edit) { e.Holdout = 1.5 }, bad: "holdout"},
		{name: "unknown field", rules: `[{"id": "b", "if": [{"field": "viewed.colour", "op": "in", "values": ["red"]}], "then": {"do": "pin", "ids": ["x"]}}]`, bad: "viewed.colour"},
		{name: "unknown op", rules: `[{"id": "b", "if": [{"field": "visits", "op": "over"}], "then": {"do": "pin", "ids": ["x"]}}]`, bad: "op"},
		{name: "unknown action", rules: `[{"id": "b", "then": {"do": "hide", "ids": ["x"]}}]`, bad: "decode config"},
		{name: "rule id twice", rules: `[{"id": "b", "then": {"do": "pin", "ids": ["x"]}}, {"id": "b", "then": {"do": "pin", "ids": ["y"]}}]`, bad: "twice"},
		{name: "typo in a key", rules: `[{"id": "b", "iff": [], "then": {"do": "pin", "ids": ["x"]}}]`, bad: "iff"},
		{name: "not a list", rules: `{"id": "b"}`, bad: "rules"},
		{name: "text after the list", rules: `[] []`, bad: "after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := s.Edit()
			var err error
			if tc.rules != "" {
				e.Rules, err = site.ParseRules([]byte(tc.rules))
			}
			if tc.edit != nil {
				tc.edit(&e)
			}
			var got *site.Site
			if err == nil {
				got, err = s.Edited(e)
			}
			if tc.bad != "" {
				if !errors.Is(err, site.ErrInvalid) || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("err = %v, want ErrInvalid naming %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Edit(), e) || got.Key != s.Key || !reflect.DeepEqual(got.Origins, s.Origins) {
				t.Fatalf("edited %+v, want the edit %+v on the site", got, e)
			}
		})
	}
	if s.Rules[0].ID != "r1" || len(s.Rules) != 1 || s.Holdout != 0.05 {
		t.Fatalf("the edits changed the file's site: %+v", s)
	}
}

// TestEditJSON: an edit and rules round-trip through their JSON, the
// --sites file's form.
func TestEditJSON(t *testing.T) {
	s := editBase(t)
	e := s.Edit()
	e.Replenish = map[string]uint16{"beans": 21}
	js, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"segment":"runner"`) {
		t.Errorf("the edit's JSON is not the file's form: %s", js)
	}
	var back site.Edit
	if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, e) {
		t.Fatalf("round trip: %+v, %v; want %+v", back, err, e)
	}
	rs, err := site.ParseRules(site.RulesJSON(e.Rules))
	if err != nil || !reflect.DeepEqual(rs, e.Rules) {
		t.Fatalf("rules round trip: %+v, %v; want %+v", rs, err, e.Rules)
	}
	if err := json.Unmarshal([]byte(`{"explore": 0, "rulez": []}`), &back); !errors.Is(err, site.ErrInvalid) {
		t.Fatalf("unknown field: %v, want ErrInvalid", err)
	}
}
