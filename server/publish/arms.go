package publish

import (
	"fmt"

	"github.com/tailorhq/tailor/server/aggregate"
)

// ArmsCounted returns a site's per-arm totals by the model version devices
// held, with the number of deltas folded into them, read together: the
// stats endpoint releases them only once enough new deltas moved them.
func (a *Aggregator) ArmsCounted(key string) (map[uint32]aggregate.Arms, uint64, error) {
	s := a.lookup(key)
	if s == nil {
		return nil, 0, fmt.Errorf("%w: %q", ErrUnknownSite, key)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return s.state.Arms(), s.state.Deltas, nil
}
