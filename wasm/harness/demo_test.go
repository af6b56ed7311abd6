package harness_test

import (
	"sync"
	"testing"

	"github.com/tailorhq/tailor/demo-site/sim"
)

// newSim builds the simulator over the demo store's catalogue once for
// the package's tests and benchmarks, which only read it.
var newSim = sync.OnceValues(sim.New)

// demoSim returns the package's simulator over the demo store's
// catalogue, failing tb if the catalogue does not load.
func demoSim(tb testing.TB) *sim.Sim {
	tb.Helper()
	s, err := newSim()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
