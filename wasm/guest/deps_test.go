package main

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestGuestLinksLittle: beside the runtime's own packages, tailor.wasm links
// only Tailor's and a few small standard ones. Every other package is bytes
// every visitor downloads: errors (its init pulls internal/reflectlite, 6.5
// KB raw), fmt, strconv, strings and unicode (tables), sort, reflect,
// crypto/rand, runtime/debug (68 KB brotli), time. RATIONALE.md says more.
func TestGuestLinksLittle(t *testing.T) {
	runtimeDeps := goListDeps(t, "runtime")
	allowed := []string{"cmp", "iter", "math", "math/bits", "slices"}
	guest := goListDeps(t, ".")
	if !slices.Contains(guest, "github.com/tailorhq/tailor/sdk/device") {
		t.Fatalf("go list -deps of the guest lists no sdk/device: %q", guest)
	}
	for _, pkg := range guest {
		if strings.HasPrefix(pkg, "github.com/tailorhq/tailor/") ||
			slices.Contains(runtimeDeps, pkg) || slices.Contains(allowed, pkg) {
			continue
		}
		t.Errorf("the guest links %s", pkg)
	}
}

// goListDeps lists the packages pkg depends on when built as the guest is.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}
