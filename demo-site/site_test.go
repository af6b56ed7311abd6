package demosite_test

import (
	"testing"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/site"
)

func TestSites(t *testing.T) {
	set := demosite.Sites("http://localhost:8080")
	s, ok := set.Get(demosite.Key)
	if !ok || !s.AllowsOrigin("http://localhost:8080") || s.AllowsOrigin("https://evil.example") {
		t.Fatalf("demo site = %+v", s)
	}
	if s.Holdout != site.DefaultHoldout || s.Privacy != wire.PrivacyFederated {
		t.Errorf("demo site = %+v", s)
	}
}
