package site_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/site"
)

// TestSetPut: Put adds a site or replaces the one with its key, validated;
// readers keep the *Site they got. Run under -race, it checks the locking.
func TestSetPut(t *testing.T) {
	set, err := site.NewSet(site.Site{Key: "a", Origins: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := set.Get("a")
	if err := set.Put(site.Site{Key: "a", Origins: []string{"https://a.example"}}); err != nil {
		t.Fatal(err)
	}
	if err := set.Put(site.Site{Key: "b", Origins: []string{"*"}, Privacy: wire.PrivacyLocal}); err != nil {
		t.Fatal(err)
	}
	if err := set.Put(site.Site{Key: "c"}); !errors.Is(err, site.ErrInvalid) {
		t.Fatalf("Put without origins: %v, want ErrInvalid", err)
	}
	a, _ := set.Get("a")
	if !reflect.DeepEqual(set.Keys(), []string{"a", "b"}) || a.Origins[0] != "https://a.example" || old.Origins[0] != "*" {
		t.Fatalf("keys %v, a %+v, the old a %+v", set.Keys(), a, old)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 200 {
				if i%2 == 0 {
					set.Put(site.Site{Key: "a", Origins: []string{"*"}})
				} else if s, ok := set.Get("a"); !ok || s.Key != "a" || len(set.Keys()) != 2 {
					t.Error("a reader lost site a")
				}
				set.AnyAllowsOrigin("https://a.example")
			}
		})
	}
	wg.Wait()
}

// TestRegistryJSON: a registry round-trips through its JSON, the --sites
// file's form; a site in it is validated as the file's.
func TestRegistryJSON(t *testing.T) {
	hash := make([]byte, 32)
	hash[0] = 7
	r := site.Registry{Sites: []site.Site{{Key: "n", Origins: []string{"https://n.example"}, Privacy: wire.PrivacyLDP, Epsilon: 4,
		Holdout: 0.05, OwnerHash: hash}}, Owners: map[string][]byte{"demo": hash}}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back site.Registry
	if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip: %+v, %v\nwant %+v\n%s", back, err, r, js)
	}
	for _, bad := range []string{
		`{"sites": [{"key": "n", "origins": [], "privacy": "local"}]}`,
		`{"sites": [], "owners": {"demo": "abc"}}`,
		`{"sites": [], "extra": 1}`,
	} {
		if err := json.Unmarshal([]byte(bad), &back); !errors.Is(err, site.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", bad, err)
		}
	}
}
