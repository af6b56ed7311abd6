package site_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/site"
)

func TestLoad(t *testing.T) {
	set, err := site.Load("testdata/sites.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Keys(); !reflect.DeepEqual(got, []string{"shop", "blog", "kiosk"}) {
		t.Fatalf("Keys = %v", got)
	}
	shop, _ := set.Get("shop")
	if shop.Privacy != wire.PrivacyFederated || shop.Holdout != 0.1 || len(shop.Rules) != 2 ||
		shop.Rules[0].If[0].Values[0] != "evening-gowns" || shop.Rules[1].If[0].Max != 12 || shop.Replenish["coffee-beans"] != 21 {
		t.Errorf("shop = %+v", shop)
	}
	if got := fmt.Sprintf("%x", shop.OwnerHash); got != site.HashToken("shop-owner-token-of-the-tests-0000000000") {
		t.Errorf("shop's owner hash %s is not the SHA-256 of the test token", got)
	}
	blog, _ := set.Get("blog")
	if blog.OwnerHash != nil {
		t.Errorf("blog has an owner hash without owner_token_sha256: %x", blog.OwnerHash)
	}
	if blog.Privacy != wire.PrivacyLDP || blog.Epsilon != 2 || blog.Holdout != site.DefaultHoldout {
		t.Errorf("blog = %+v, want federated+ldp, epsilon 2, the default holdout", blog)
	}
	if want := []site.Slot{{Name: "grid", Container: "#products", Tile: "li.product", Limit: 12}, {Name: "auto", Auto: true}}; !reflect.DeepEqual(shop.Slots, want) {
		t.Errorf("shop's slots = %+v, want %+v", shop.Slots, want)
	}
	kiosk, _ := set.Get("kiosk")
	if kiosk.Privacy != wire.PrivacyLocal || !kiosk.AllowsOrigin("https://anything.example") {
		t.Errorf("kiosk = %+v", kiosk)
	}
	if _, ok := set.Get("nope"); ok {
		t.Error("Get(unknown) found a site")
	}
}

func TestNewToken(t *testing.T) {
	a, ha := site.NewToken()
	b, hb := site.NewToken()
	if len(a) != 43 || a == b || ha == hb || ha != site.HashToken(a) || len(ha) != 64 {
		t.Errorf("NewToken = %q %s, %q %s: want two different 43-character tokens and their SHA-256", a, ha, b, hb)
	}
	cfg := fmt.Sprintf(`{"sites": [{"key": "s", "origins": ["*"], "owner_token_sha256": %q}]}`, ha)
	set, err := site.Parse(strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := set.Get("s")
	if fmt.Sprintf("%x", s.OwnerHash) != ha {
		t.Errorf("parsed owner hash %x, want %s", s.OwnerHash, ha)
	}
	// Owns: the owner's token, not another, nor anyone's on a site
	// without an owner.
	if !s.Owns(sha256.Sum256([]byte(a))) || s.Owns(sha256.Sum256([]byte(b))) {
		t.Errorf("Owns: the owner's token %v, another %v; want true, false", s.Owns(sha256.Sum256([]byte(a))), s.Owns(sha256.Sum256([]byte(b))))
	}
	if none := (site.Site{Key: "none"}); none.Owns(sha256.Sum256(nil)) || none.Owns([32]byte{}) {
		t.Error("a site without an owner is owned by a token")
	}
}

func TestOrigins(t *testing.T) {
	set, err := site.Load("testdata/sites.json")
	if err != nil {
		t.Fatal(err)
	}
	shop, _ := set.Get("shop")
	for _, tc := range []struct {
		origin string
		want   bool
	}{
		{"https://shop.example", true},
		{"https://www.shop.example", true},
		{"http://shop.example", false},
		{"https://shop.example:8443", false},
		{"https://evil.example", false},
		{"null", false},
		{"", false},
	} {
		if got := shop.AllowsOrigin(tc.origin); got != tc.want {
			t.Errorf("AllowsOrigin(%q) = %v, want %v", tc.origin, got, tc.want)
		}
	}
	if !set.AnyAllowsOrigin("https://blog.example") || !set.AnyAllowsOrigin("https://x.example") /* kiosk: "*" */ {
		t.Error("AnyAllowsOrigin misses a configured origin")
	}
}

func TestParseErrors(t *testing.T) {
	const ok = `"key": "s", "origins": ["https://s.example"]`
	for _, tc := range []struct {
		name, json string
		want       error
	}{
		{"not json", `{`, site.ErrInvalid},
		{"unknown field", `{"sites": [{` + ok + `, "holdot": 0.1}]}`, site.ErrInvalid},
		{"no sites", `{"sites": []}`, site.ErrInvalid},
		{"empty key", `{"sites": [{"key": "", "origins": ["*"]}]}`, site.ErrInvalid},
		{"long key", `{"sites": [{"key": "` + strings.Repeat("k", wire.MaxIDLen+1) + `", "origins": ["*"]}]}`, site.ErrInvalid},
		{"duplicate key", `{"sites": [{` + ok + `}, {` + ok + `}]}`, site.ErrDuplicate},
		{"no origins", `{"sites": [{"key": "s"}]}`, site.ErrInvalid},
		{"origin with path", `{"sites": [{"key": "s", "origins": ["https://s.example/shop"]}]}`, site.ErrInvalid},
		{"origin with slash", `{"sites": [{"key": "s", "origins": ["https://s.example/"]}]}`, site.ErrInvalid},
		{"origin scheme", `{"sites": [{"key": "s", "origins": ["ftp://s.example"]}]}`, site.ErrInvalid},
		{"origin upper case", `{"sites": [{"key": "s", "origins": ["https://S.example"]}]}`, site.ErrInvalid},
		{"privacy", `{"sites": [{` + ok + `, "privacy": "public"}]}`, site.ErrInvalid},
		{"ldp without epsilon", `{"sites": [{` + ok + `, "privacy": "federated+ldp"}]}`, site.ErrInvalid},
		{"epsilon without ldp", `{"sites": [{` + ok + `, "epsilon": 1}]}`, site.ErrInvalid},
		{"day budget without ldp", `{"sites": [{` + ok + `, "day_budget": 4}]}`, site.ErrInvalid},
		{"day budget under one delta", `{"sites": [{` + ok + `, "privacy": "federated+ldp", "epsilon": 2, "day_budget": 1}]}`, site.ErrInvalid},
		{"owner hash not hex", `{"sites": [{` + ok + `, "owner_token_sha256": "a token in clear"}]}`, site.ErrInvalid},
		{"owner hash too short", `{"sites": [{` + ok + `, "owner_token_sha256": "d6dacecc"}]}`, site.ErrInvalid},
		{"holdout > 1", `{"sites": [{` + ok + `, "holdout": 1.5}]}`, site.ErrInvalid},
		{"explore < 0", `{"sites": [{` + ok + `, "explore": -0.1}]}`, site.ErrInvalid},
		{"rule without id", `{"sites": [{` + ok + `, "rules": [{"then": {"do": "boost"}}]}]}`, site.ErrInvalid},
		{"rule field", `{"sites": [{` + ok + `, "rules": [{"id": "r", "if": [{"field": "gender", "op": "in"}], "then": {"do": "boost"}}]}]}`, site.ErrInvalid},
		{"rule op", `{"sites": [{` + ok + `, "rules": [{"id": "r", "if": [{"field": "visits", "op": "gt"}], "then": {"do": "boost"}}]}]}`, site.ErrInvalid},
		{"rule action", `{"sites": [{` + ok + `, "rules": [{"id": "r", "then": {"do": "explode"}}]}]}`, site.ErrInvalid},
		{"rule id twice", `{"sites": [{` + ok + `, "rules": [{"id": "r", "then": {"do": "boost"}}, {"id": "r", "then": {"do": "bury"}}]}]}`, site.ErrInvalid},
		{"slot without name", `{"sites": [{` + ok + `, "slots": [{"container": "#grid"}]}]}`, site.ErrInvalid},
		{"slot without container", `{"sites": [{` + ok + `, "slots": [{"name": "g", "tile": "li"}]}]}`, site.ErrInvalid},
		{"slot container and auto", `{"sites": [{` + ok + `, "slots": [{"name": "g", "container": "#grid", "auto": true}]}]}`, site.ErrInvalid},
		{"slot limit", `{"sites": [{` + ok + `, "slots": [{"name": "g", "auto": true, "limit": -1}]}]}`, site.ErrInvalid},
		{"slot selector", `{"sites": [{` + ok + `, "slots": [{"name": "g", "container": "` + strings.Repeat("div ", 65) + `"}]}]}`, site.ErrInvalid},
		{"slots", `{"sites": [{` + ok + `, "slots": [` + strings.Repeat(`{"name": "g", "auto": true},`, site.MaxSlots) + `{"name": "g", "auto": true}]}]}`, site.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := site.Parse(strings.NewReader(tc.json))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestConfigBytes checks that what the server ships decodes, with the
// guest's own decoder, to the site's configuration.
func TestConfigBytes(t *testing.T) {
	set, err := site.Load("testdata/sites.json")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := set.Get("shop")
	var got wire.Config
	if err := wire.Unmarshal(s.ConfigBytes(), &got, "config"); err != nil {
		t.Fatal(err)
	}
	if want := s.Config(); !reflect.DeepEqual(got, want) {
		t.Errorf("config = %+v\nwant     %+v", got, want)
	}
}

func ExampleParse() {
	set, err := site.Parse(strings.NewReader(`{"sites": [
		{"key": "shop", "origins": ["https://shop.example"], "privacy": "federated", "holdout": 0.1}]}`))
	if err != nil {
		panic(err)
	}
	shop, _ := set.Get("shop")
	cfg := shop.Config()
	fmt.Println(cfg.Site, cfg.Privacy, cfg.Holdout, shop.AllowsOrigin("https://shop.example"))
	// Output: shop federated 0.1 true
}

// FuzzParse checks that no configuration file panics the loader, and that
// what it accepts ships a configuration every device decodes.
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/sites.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"sites": [{"key": "s", "origins": ["*"], "rules": [{"id": "r", "then": {"do": "pin", "ids": ["x"]}}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := site.Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, key := range set.Keys() {
			s, _ := set.Get(key)
			var cfg wire.Config
			if err := wire.Unmarshal(s.ConfigBytes(), &cfg, "config"); err != nil {
				t.Fatalf("accepted site %q ships a configuration devices reject: %v", key, err)
			}
		}
	})
}
