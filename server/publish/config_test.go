package publish_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/site"
)

// TestSiteConfig: an owner's new configuration is published as the next
// version with the newest weights, counts and checkpoint unchanged, even
// while learning is paused; an unchanged one publishes nothing; after a
// restart the version is not published again.
func TestSiteConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tailor.db")
	db := openStore(t, path)
	var mu sync.Mutex
	var edited []byte // nil: the file's
	config := func(s *site.Site) []byte {
		mu.Lock()
		defer mu.Unlock()
		return edited
	}
	set := sites(t, 0.1)
	a := start(t, db, set, publish.WithSiteConfig(config), publish.WithPaused(func(string) bool { return true }))
	ctx := context.Background()
	for i := range 3 {
		appendDelta(t, db, i, "gown", "heels")
	}
	v0 := flush(t, a)
	if v0.Number != 0 {
		t.Fatalf("paused, unchanged configuration: version %d, want 0", v0.Number)
	}
	s, _ := set.Get(shop)
	e := s.Edit()
	e.Rules = append(e.Rules, wire.Rule{ID: "new", Then: wire.Action{Do: wire.DoPin, IDs: []string{"gown"}}})
	ns, err := s.Edited(e)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	edited = ns.ConfigBytes()
	mu.Unlock()
	v1 := flush(t, a)
	switch {
	case v1.Number != 1:
		t.Fatalf("new configuration: version %d, want 1", v1.Number)
	case v1.Config == v0.Config || v1.Deltas != v0.Deltas || v1.Cursor != v0.Cursor || !slices.Equal(v1.Shards, v0.Shards) || v1.New != 0:
		t.Fatalf("configuration version %+v, want v0's weights and counts (%+v) with another config", v1, v0)
	}
	b, err := db.Blob(ctx, v1.Config)
	if err != nil {
		t.Fatal(err)
	}
	var cfg wire.Config
	if err := wire.Unmarshal(b, &cfg, "config"); err != nil || cfg.Rules[len(cfg.Rules)-1].ID != "new" {
		t.Fatalf("the published configuration (%v) lacks the new rule: %+v", err, cfg.Rules)
	}
	if v := flush(t, a); v.Number != 1 {
		t.Fatalf("unchanged since: version %d, want 1", v.Number)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openStore(t, path)
	a = start(t, db, set, publish.WithSiteConfig(config), publish.WithPaused(func(string) bool { return true }))
	defer a.Close(ctx)
	if v, _ := a.Current(shop); v.Number != 1 {
		t.Fatalf("after a restart: version %d, want 1", v.Number)
	}
}
