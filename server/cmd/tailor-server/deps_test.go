package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestProductAlone: the production binary links neither the demo store
// (its pages, site, simulated shoppers) nor the wasm runtime its seeding
// needs; only the demo's command, demo-site/cmd/tailor-demo, does.
func TestProductAlone(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !slices.Contains(deps, "github.com/tailorhq/tailor/server/serve") {
		t.Fatalf("go list -deps lists %d packages, without server/serve: %q", len(deps), deps)
	}
	for _, pkg := range deps {
		if strings.Contains(pkg, "wazero") || strings.HasPrefix(pkg, "github.com/tailorhq/tailor/demo-site") ||
			strings.HasPrefix(pkg, "github.com/tailorhq/tailor/wasm/") {
			t.Errorf("tailor-server depends on %s", pkg)
		}
	}
}
