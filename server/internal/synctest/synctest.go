// Package synctest is what the sync benchmarks of server/api (one server)
// and server/cluster (replicas) share: an honest-sized delta, the bare
// handler that is the ceiling of their load, and the load itself, many
// devices syncing at once over loopback. Tests and benchmarks import it;
// servers never do.
package synctest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/site"
)

// idText is the delta id Delta writes, found again in its encoding.
const idText = "0123456789abcdef"

// Site is the key of the site Delta syncs to: the benchmarks' servers
// configure a federated site by that name (the demo store's key).
const Site = "demo"

// Sites configures Site, federated, served from origins: where Delta's
// syncs land.
func Sites(tb testing.TB, origins ...string) *site.Set {
	tb.Helper()
	set, err := site.NewSet(site.Site{Key: Site, Origins: origins, Privacy: wire.PrivacyFederated, Holdout: site.DefaultHoldout})
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// Delta is a delta of Site as an honest device sends it (sdk/delta
// since a882f6d): a sample of delta.SampledPairs pairs, no two chaining
// (no a→b with b→c), each of weight 1 and sorted, no item on its own
// (a device names items through its pairs), and two arms' capped counts.
// (Until then it also carried delta.SampledItems items; until session 5
// it was a whole 8-click session, 28 chained pairs.) Its 16-byte id is at
// idAt in body, for Hammer to make each sync a new delta.
func Delta() (body []byte, idAt int) {
	d := wire.Delta{Site: Site, Arms: []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 35, Clicks: 3}, {Arm: wire.ArmRules, Impressions: 5}}}
	copy(d.ID[:], idText)
	item := func(i int) string { return fmt.Sprintf("evening-gowns-%d", i) }
	for _, from := range []int{0, 3} { // into 1 and 2, out of 0 and 3: no pair chains
		for _, to := range []int{1, 2} {
			d.Pairs = append(d.Pairs, wire.Pair{From: item(from), To: item(to), W: 1})
		}
	}
	body = wire.Marshal(&d)
	return body, bytes.Index(body, []byte(idText))
}

// Bare starts a net/http server whose handler only reads the body and
// answers 202, closed when the test ends, and returns its URL: what the
// load costs without Tailor.
func Bare(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

var ids atomic.Uint64

// Hammer sends n syncs of body, each with a new id written at idAt, from
// clients concurrent clients spread over urls in turn, and returns the
// time it took and each sync's latency. The test fails on the first
// answer other than 202.
func Hammer(tb testing.TB, urls []string, clients, n int, body []byte, idAt int) (took time.Duration, lat []time.Duration) {
	tb.Helper()
	c := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer c.CloseIdleConnections()
	var next atomic.Int64
	var failed atomic.Value
	lats := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := bytes.Clone(body)
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				binary.BigEndian.PutUint64(mine[idAt:], ids.Add(1))
				t := time.Now()
				res, err := c.Post(urls[int(i)%len(urls)]+"/v1/sync", "application/msgpack", bytes.NewReader(mine))
				if err != nil {
					failed.Store(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusAccepted {
					failed.Store(fmt.Errorf("status %d", res.StatusCode))
					return
				}
				lats[w] = append(lats[w], time.Since(t))
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		tb.Fatal(err)
	}
	return time.Since(start), slices.Concat(lats...)
}
