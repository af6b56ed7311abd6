package delta

import (
	"github.com/tailorhq/tailor/sdk/internal/order"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// counts is a bounded set of keyed weights: a map to find a key, a slice
// in insertion order to walk them. Walking the slice, never the map, keeps
// iteration deterministic and map-iteration code out of the guest.
type counts struct {
	at   map[string]int32
	list []count
}

type count struct {
	key string
	w   float32
}

// add adds w to key's weight, capped at wire.MaxDeltaWeight; past
// MaxPending keys the weakest half goes (ties broken by key, so equal
// weights cannot keep the set over its bound).
func (c *counts) add(key string, w float32) {
	if i, ok := c.at[key]; ok {
		c.list[i].w = min(c.list[i].w+w, wire.MaxDeltaWeight)
		return
	}
	if c.at == nil {
		c.at = map[string]int32{}
	}
	c.at[key] = int32(len(c.list))
	c.list = append(c.list, count{key, min(w, wire.MaxDeltaWeight)})
	if len(c.list) > MaxPending {
		c.sortStrongest()
		c.list = c.list[:MaxPending/2]
		c.reindex()
	}
}

func (c *counts) sortStrongest() {
	l := c.list
	order.Sort(len(l), func(i, j int) bool { return stronger(l[i].w, l[j].w, l[i].key, l[j].key) },
		func(i, j int) { l[i], l[j] = l[j], l[i] })
}

func (c *counts) reindex() {
	c.at = make(map[string]int32, len(c.list))
	for i, e := range c.list {
		c.at[e.key] = int32(i)
	}
}

// stronger orders by weight, strongest first, then by key for determinism.
func stronger(a, b float32, ka, kb string) bool { return a > b || a == b && ka < kb }

func (c *counts) encodeTo(w *msgp.Writer) {
	w.MapHeader(len(c.list))
	for _, e := range c.list {
		w.String(e.key)
		w.Float32(e.w)
	}
}

func (c *counts) decodeFrom(r *msgp.Reader) {
	n := r.MapMax(MaxPending)
	c.list = make([]count, n)
	for i := range c.list {
		e := &c.list[i]
		e.key, e.w = r.ID(2*wire.MaxIDLen+1), r.Float32()
		if e.w <= 0 || e.w > wire.MaxDeltaWeight {
			r.Fail(wire.ErrInvalid)
		}
	}
	c.reindex()
	if len(c.at) != len(c.list) {
		r.Fail(wire.ErrInvalid) // a repeated key
	}
}
