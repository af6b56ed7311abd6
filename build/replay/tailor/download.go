package tailor

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/tailorhq/tailor/sdk/wire"
)

// served is a published model as the replay's server serves it: what a
// device may fetch, with the bytes each part costs on the wire.
type served struct {
	count    int           // shards by wire.ShardOf (the manifest's shard_count)
	head     []int         // shards every device fetches (the popularity head)
	shards   map[int]shard // by index
	manifest int           // bytes served for the manifest
	config   int           // bytes served for the configuration
	raw, all int           // bytes of every shard, decoded and as served
}

// shard is one shard's blob and what serving it cost.
type shard struct {
	b       []byte
	served  int
	version uint32
}

// String describes the model's layout and size, for the report's notes.
func (m *served) String() string {
	head := 0
	for _, i := range m.head {
		head += m.shards[i].served
	}
	return fmt.Sprintf("model: %d shards by item + %d head (%d B served), %d B decoded, %d B served in all; manifest %d B",
		m.count, len(m.head), head, m.raw, m.all, m.manifest)
}

// boot is what a device downloads before any shard on its first page
// view: the manifest and the configuration (later page views revalidate
// the manifest, unchanged: nothing).
func (m *served) boot(first bool) int {
	if !first {
		return 0
	}
	return m.manifest + m.config
}

// remember is the loader's REMEMBER (sdk/js/src/boot.js): a page view
// requests the shards of at most this many of the items its stored
// profile remembers, so that whoever serves shards learns at most this
// many remembered buckets from one page view (PRIVACY.md, "The site
// operator"). pageIDs models the choice.
const remember = 4

// pageIDs returns the ids whose shards a page view of item requests after
// the session's earlier clicks (oldest first): the page's item and the
// remember most recent distinct earlier ones, as the loader picks them
// from the stored profile's session, newest first. (The loader takes
// earlier visits' items after the session's; a replayed session is one
// visit.)
func pageIDs(item string, earlier []string) []string {
	ids := []string{item}
	var seen []string
	for i := len(earlier) - 1; i >= 0 && len(seen) < remember; i-- {
		if id := earlier[i]; !slices.Contains(seen, id) {
			seen = append(seen, id)
			ids = append(ids, id)
		}
	}
	return ids
}

// want returns the shards a page requests for ids: every shard when the
// model has one (or all is set), else the head and the shards holding ids.
func (m *served) want(ids []string, all bool) map[int]bool {
	want := map[int]bool{}
	if all || m.count <= 1 {
		for i := range m.shards {
			want[i] = true
		}
	} else {
		for _, i := range m.head {
			want[i] = true
		}
		for _, id := range ids {
			want[wire.ShardOf(id, m.count)] = true
		}
	}
	return want
}

// fetch applies to in the shards of ids it does not hold yet, as the
// loader fetches them (want). New shards apply in ascending version, as
// the manifest asks. It returns the bytes served for those not cached
// (the browser's HTTP cache, which answers a shard fetched before with
// no request). held and cached (nil: none) record what in holds and
// what was served; a device that keeps its engine passes one map as both.
func (m *served) fetch(in engine, ids []string, held, cached map[int]bool, all bool) (int, error) {
	var add []int
	for i := range m.want(ids, all) {
		if _, ok := m.shards[i]; ok && !held[i] {
			add = append(add, i)
		}
	}
	slices.SortFunc(add, func(a, b int) int {
		return cmp.Or(cmp.Compare(m.shards[a].version, m.shards[b].version), cmp.Compare(a, b))
	})
	n := 0
	for _, i := range add {
		sh := m.shards[i]
		if err := in.ApplyWeightsBytes(sh.b); err != nil {
			return n, fmt.Errorf("tailor: shard %d: %w", i, err)
		}
		if !cached[i] {
			n += sh.served
		}
		if held != nil {
			held[i] = true
		}
		if cached != nil {
			cached[i] = true
		}
	}
	return n, nil
}

// pageBytes sums what evaluation devices downloaded of the model, by page
// view. Goroutine-safe.
type pageBytes struct {
	mu           sync.Mutex
	devices      int // first page views
	first, later int // bytes
	laterPages   int
}

func (p *pageBytes) add(first bool, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if first {
		p.devices++
		p.first += n
	} else {
		p.laterPages++
		p.later += n
	}
}

// means returns the mean bytes per device over its session, on its first
// page view, and per later page view; false before any page view.
func (p *pageBytes) means() (total, first, later float64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.devices == 0 {
		return 0, 0, 0, false
	}
	d := float64(p.devices)
	total, first = float64(p.first+p.later)/d, float64(p.first)/d
	if p.laterPages > 0 {
		later = float64(p.later) / float64(p.laterPages)
	}
	return total, first, later, true
}
