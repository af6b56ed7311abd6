package wire

import "github.com/tailorhq/tailor/sdk/msgp"

// Weights is (one shard of) a model version: what the server learned from
// many devices' deltas. Items are split into shards by ShardOf, so a browser
// downloads only the shards of items it meets.
type Weights struct {
	Version uint32 // model version; 0 is the empty model
	Shard   uint16 // this shard's index
	Shards  uint16 // how many shards the version has; 0 or 1: unsharded
	Items   []ItemWeights
}

// ItemWeights is what the model knows about one item.
type ItemWeights struct {
	ID   string
	Pop  float32    // popularity, 0-1, relative to the most popular item
	Next []Neighbor // items visitors go on to, strongest first
}

// Neighbor is an item related to another, with the strength of the relation
// (sequential rules and co-occurrence, normalized by the server to 0-1).
type Neighbor struct {
	ID string
	W  float32
}

// ShardOf returns the shard an item id belongs to among n shards (FNV-1a),
// the same on the device and on the server.
func ShardOf(id string, n int) int {
	if n <= 1 {
		return 0
	}
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// EncodeTo writes the weights as {schema, v, shard, shards, items: [[id, pop, [nid, w, ...]]...]}.
func (m *Weights) EncodeTo(w *msgp.Writer) {
	w.MapHeader(5)
	w.String("schema")
	w.Uint(WeightsSchema)
	w.String("v")
	w.Uint(uint64(m.Version))
	w.String("shard")
	w.Uint(uint64(m.Shard))
	w.String("shards")
	w.Uint(uint64(m.Shards))
	w.String("items")
	w.ArrayHeader(len(m.Items))
	for _, it := range m.Items {
		w.ArrayHeader(3)
		w.String(it.ID)
		w.Float32(it.Pop)
		w.ArrayHeader(2 * len(it.Next))
		for _, nb := range it.Next {
			w.String(nb.ID)
			w.Float32(nb.W)
		}
	}
}

// DecodeFrom reads weights, checking every id, count and strength.
func (m *Weights) DecodeFrom(r *msgp.Reader) {
	n := r.MapMax(16)
	schema := uint64(0)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "schema":
			schema = r.Uint()
		case "v":
			m.Version = uint32(r.UintMax(1<<32 - 1))
		case "shard":
			m.Shard = uint16(r.UintMax(1<<16 - 1))
		case "shards":
			m.Shards = uint16(r.UintMax(1<<16 - 1))
		case "items":
			m.Items = make([]ItemWeights, r.ArrayMax(MaxWeightsItems))
			for j := range m.Items {
				m.Items[j].decodeFrom(r)
			}
		default:
			r.Skip()
		}
	}
	if r.Err() == nil && schema != WeightsSchema {
		r.Fail(&fieldError{"weights", ErrSchema})
	}
	if m.Shards > 1 && m.Shard >= m.Shards {
		r.Fail(&fieldError{"weights shard", ErrInvalid})
	}
}

func (it *ItemWeights) decodeFrom(r *msgp.Reader) {
	if r.ArrayHeader() != 3 {
		r.Fail(&fieldError{"weights item", ErrInvalid})
		return
	}
	it.ID = r.StringMax(MaxIDLen)
	it.Pop = unit(r)
	k := r.ArrayMax(2 * MaxNeighbors)
	if k%2 != 0 {
		r.Fail(&fieldError{"weights neighbors", ErrInvalid})
		return
	}
	it.Next = make([]Neighbor, k/2)
	for j := range it.Next {
		it.Next[j].ID = r.ID(MaxIDLen)
		it.Next[j].W = unit(r)
	}
	if it.ID == "" {
		r.Fail(&fieldError{"weights item id", ErrInvalid})
	}
}
