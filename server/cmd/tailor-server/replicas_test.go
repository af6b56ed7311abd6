package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailorhq/tailor/demo-site/sim"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
	"github.com/tailorhq/tailor/server/store/postgres"
	"github.com/tailorhq/tailor/server/store/postgres/pgtest"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// TestReplicas runs server processes as replicas on one real PostgreSQL
// (skipped when it is not installed): they agree with a single server,
// survive the kill of their leader, share the console's sessions and
// levers, and ride out a database restart.
func TestReplicas(t *testing.T) {
	pg := pgtest.Start(t)
	bin := build(t)
	t.Run("AgreeWithOneServer", func(t *testing.T) { testAgree(t, bin, pg) })
	t.Run("LeaderKilled", func(t *testing.T) { testLeaderKilled(t, bin, pg) })
	t.Run("Console", func(t *testing.T) { testConsole(t, bin, pg) })
	t.Run("DatabaseRestart", func(t *testing.T) { testDatabaseRestart(t, bin, pg) }) // last: it stops the server
}

// openDB opens the replicas' database from the test, to look at it.
func openDB(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// firstRecord waits up to 15s for p to log msg and returns the time of its
// first such record; past that, the test fails saying what did not happen.
func firstRecord(t *testing.T, p *process, msg, failure string) time.Time {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if rs := p.Records(msg); len(rs) > 0 {
			return rs[0].Time
		}
		if time.Now().After(deadline) {
			t.Fatal(failure + " within 15s")
		}
	}
}

// leader waits until exactly one of the replicas leads, and returns it.
func leader(t *testing.T, ps ...*process) (lead *process, others []*process) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		lead, others = nil, nil
		n := 0
		for _, p := range ps {
			if len(p.Records("leading")) > len(p.Records("leadership lost; following")) {
				lead = p
				n++
			} else {
				others = append(others, p)
			}
		}
		if n == 1 {
			return lead, others
		}
	}
	t.Fatal("no single leader among the replicas")
	return nil, nil
}

// manifest fetches a server's current manifest.
func manifest(t *testing.T, p *process) api.Manifest {
	t.Helper()
	var m api.Manifest
	getJSON(t, p.url+"/v1/model?site=shop", &m)
	return m
}

// waitDeltas waits until each server serves a version built from n deltas,
// and returns their manifests.
func waitDeltas(t *testing.T, n uint64, ps ...*process) []api.Manifest {
	t.Helper()
	ms := make([]api.Manifest, len(ps))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		done := true
		for i, p := range ps {
			ms[i] = manifest(t, p)
			done = done && ms[i].Deltas == n
		}
		if done {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("no version of %d deltas on every server in time: %+v", n, ms)
		}
	}
}

// weights fetches and decodes a manifest's shards: every item's weights.
func weights(t *testing.T, p *process, m api.Manifest) map[string]wire.ItemWeights {
	t.Helper()
	out := map[string]wire.ItemWeights{}
	for _, sh := range m.Shards {
		var w wire.Weights
		if err := wire.Unmarshal(getBytes(t, p.url+sh.URL), &w, "weights"); err != nil {
			t.Fatal(err)
		}
		for _, it := range w.Items {
			out[it.ID] = it
		}
	}
	return out
}

func stats(t *testing.T, p *process) api.Stats {
	t.Helper()
	var st api.Stats
	getJSON(t, p.url+"/v1/stats?site=shop", &st)
	return st
}

// testAgree: simulated shoppers run tailor.wasm (through the harness) and
// sync their deltas to either of two replicas at random. Both replicas
// then serve the same version, and its weights and uplift report equal
// those of a single embedded-store server fed the same deltas in the same
// order.
func testAgree(t *testing.T, bin string, pg *pgtest.Server) {
	const shoppers = 600
	url := pg.NewDatabase(t)
	// k = 1: a version waits for k new deltas (server/publish), so with a
	// higher k the last fewer-than-k deltas would never be in one, and no
	// version would hold all n.
	args := []string{"--publish-every", "100000", "--publish-interval", "200ms", "--min-cohort", "1", "--shards", "4"}
	a := start(t, bin, append([]string{"--store", url}, args...)...)
	b := start(t, bin, append([]string{"--store", url}, args...)...)
	replicas := []*process{a, b}

	s, err := sim.New()
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	var synced [2]atomic.Int64
	sites, err := site.Load(testSites(t))
	if err != nil {
		t.Fatal(err)
	}
	shop, _ := sites.Get(testSite)
	err = s.Traffic(context.Background(), harnesstest.Runtime(t).NewPool(2, nil), shop.Config(), shoppers, 7,
		time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), func(delta []byte) error {
			i := rand.IntN(len(replicas))
			code, status, err := post(c, replicas[i].url, delta)
			if err != nil || code != http.StatusAccepted || status != "accepted" {
				return fmt.Errorf("sync to replica %d: %d %q %v", i, code, status, err)
			}
			synced[i].Add(1)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	n := synced[0].Load() + synced[1].Load()
	ms := waitDeltas(t, uint64(n), a, b)
	if !reflect.DeepEqual(ms[0], ms[1]) {
		t.Fatalf("the replicas serve different manifests:\n%+v\n%+v", ms[0], ms[1])
	}

	// One server, fed the stored deltas in the replicas' log order.
	ds, err := openDB(t, url).Deltas(context.Background(), testSite, 0, int(n)+1) // a delta per page: more than shoppers
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != int(n) {
		t.Fatalf("the log holds %d deltas; %d were accepted", len(ds), n)
	}
	one := start(t, bin, append([]string{"--data", t.TempDir()}, args...)...)
	for _, d := range ds {
		if code, status, err := post(c, one.url, d.Body); err != nil || code != http.StatusAccepted || status != "accepted" {
			t.Fatalf("sync to the single server: %d %q %v", code, status, err)
		}
	}
	single := waitDeltas(t, uint64(n), one)[0]

	got, want := weights(t, a, ms[0]), weights(t, one, single)
	if len(want) < 20 || !reflect.DeepEqual(got, want) {
		t.Fatalf("the replicas' weights (%d items) differ from one server's (%d items)", len(got), len(want))
	}
	for _, p := range replicas {
		if st, st1 := stats(t, p), stats(t, one); !reflect.DeepEqual(st.Total, st1.Total) {
			t.Fatalf("uplift report of a replica %+v, of one server %+v", st.Total, st1.Total)
		}
	}
	t.Logf("%d shoppers synced %d deltas (%d to one replica, %d to the other): both serve version %d, whose %d items' weights "+
		"equal those of one server fed the same deltas (its version %d)",
		shoppers, n, synced[0].Load(), synced[1].Load(), ms[0].Version, len(got), single.Version)
}

// stream posts crash deltas numbered from 1 to the live replicas at
// random from several clients, as devices do: a delta whose replica
// fails (it was killed) is retried on another, and one answered 503 is
// retried after its Retry-After. It records what each answer was.
type stream struct {
	replicas []*process
	dead     []atomic.Bool
	next     atomic.Int64
	sent     atomic.Int64 // requests, bounded by max
	max      int64

	mu          sync.Mutex
	acked       map[int]time.Time // delta → when it was acknowledged
	unavailable int               // 503s, each with Retry-After
	bad         []string          // other answers, and 503s without Retry-After

	stop chan struct{}
	wg   sync.WaitGroup
}

func newStream(max int64, replicas ...*process) *stream {
	return &stream{replicas: replicas, dead: make([]atomic.Bool, len(replicas)), max: max,
		acked: map[int]time.Time{}, stop: make(chan struct{})}
}

func (s *stream) start(clients int) {
	for range clients {
		s.wg.Go(func() {
			c := &http.Client{Timeout: 15 * time.Second}
			n := int(s.next.Add(1))
			for s.sent.Add(1) <= s.max {
				select {
				case <-s.stop:
					return
				default:
				}
				i := s.pick()
				if i < 0 {
					return
				}
				res, err := c.Post(s.replicas[i].url+"/v1/sync", "application/msgpack", bytes.NewReader(crashDelta(n)))
				if err != nil {
					s.dead[i].Store(true) // killed: the device retries elsewhere
					continue
				}
				res.Body.Close()
				s.mu.Lock()
				switch {
				case res.StatusCode == http.StatusAccepted:
					s.acked[n] = time.Now()
					n = int(s.next.Add(1))
				case res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "":
					s.unavailable++
				default:
					s.bad = append(s.bad, fmt.Sprintf("delta %d: %s (Retry-After %q)", n, res.Status, res.Header.Get("Retry-After")))
				}
				s.mu.Unlock()
				if res.StatusCode == http.StatusServiceUnavailable {
					time.Sleep(100 * time.Millisecond) // shorter than Retry-After: a bounded test
				}
			}
		})
	}
}

// pick returns a live replica at random, or -1.
func (s *stream) pick() int {
	var live []int
	for i := range s.replicas {
		if !s.dead[i].Load() {
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		return -1
	}
	return live[rand.IntN(len(live))]
}

// ackedCount returns how many deltas were acknowledged.
func (s *stream) ackedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked)
}

func (s *stream) end() {
	close(s.stop)
	s.wg.Wait()
}

// waitAcked waits until n more deltas are acknowledged.
func (s *stream) waitAcked(t *testing.T, n int) {
	t.Helper()
	want := s.ackedCount() + n
	for deadline := time.Now().Add(20 * time.Second); s.ackedCount() < want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) || s.sent.Load() > s.max {
			t.Fatalf("%d deltas acknowledged, want %d", s.ackedCount(), want)
		}
	}
}

// checkStored checks that every acknowledged delta is stored once (a retry
// answers "duplicate") and counted once: the current version of each
// replica was built from every stored delta, each folded once (its
// impression counted once, its item in the weights), and the versions in
// the store form a consistent chain.
func checkStored(t *testing.T, url string, s *stream, ps ...*process) {
	t.Helper()
	db := openDB(t, url)
	ctx := context.Background()
	var stored int64
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM deltas`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	for n := range s.acked {
		if code, status, err := post(c, ps[rand.IntN(len(ps))].url, crashDelta(n)); err != nil || code != http.StatusAccepted || status != "duplicate" {
			t.Fatalf("acknowledged delta %d: a retry answers %d %q %v; want 202 duplicate (it was lost)", n, code, status, err)
		}
	}
	ms := waitDeltas(t, uint64(stored), ps...)
	items := weights(t, ps[0], ms[0])
	for n := range s.acked {
		if _, ok := items[fmt.Sprintf("crash-%05d", n)]; !ok {
			t.Fatalf("acknowledged delta %d is not in version %d's weights", n, ms[0].Version)
		}
	}
	for _, p := range ps {
		if st := stats(t, p); st.Total.Arms["treatment"].Impressions != uint64(stored) {
			t.Fatalf("the uplift report counts %d impressions of %d stored deltas", st.Total.Arms["treatment"].Impressions, stored)
		}
	}
	// Each version folded every delta up to its cursor once: the log has no
	// holes, so its count of deltas is its cursor.
	var prev store.Version
	for n := uint32(0); n <= ms[0].Version; n++ {
		v, err := db.Version(ctx, testSite, n)
		if err != nil {
			t.Fatalf("version %d of %d: %v", n, ms[0].Version, err)
		}
		if v.Deltas != v.Cursor || (n > 0 && (v.Deltas < prev.Deltas || v.New != v.Deltas-prev.Deltas)) {
			t.Fatalf("version %d (%d deltas, %d new, cursor %d) does not follow version %d (%d deltas)",
				n, v.Deltas, v.New, v.Cursor, prev.Number, prev.Deltas)
		}
		prev = v
	}
	t.Logf("%d deltas acknowledged, %d stored, all in version %d, each counted once; versions 0-%d consistent",
		len(s.acked), stored, ms[0].Version, ms[0].Version)
}

// testLeaderKilled: two replicas take syncs while the leader aggregates
// and publishes every 50 deltas; kill -9 the leader. The other takes over
// within seconds (the time is logged); no acknowledged delta is lost or
// counted twice, and the versions published before the kill are intact.
func testLeaderKilled(t *testing.T, bin string, pg *pgtest.Server) {
	url := pg.NewDatabase(t)
	args := []string{"--store", url, "--publish-every", "50", "--publish-interval", "50ms", "--min-cohort", "1", "--shards", "2"}
	a := start(t, bin, args...)
	b := start(t, bin, args...)
	lead, others := leader(t, a, b)
	survivor := others[0]

	s := newStream(20000, a, b)
	s.start(4)
	s.waitAcked(t, 600)
	before := map[uint32]api.Manifest{}
	for deadline := time.Now().Add(15 * time.Second); len(before) < 4 || len(lead.Records("published model version")) < 5; {
		m := manifest(t, survivor)
		before[m.Version] = m
		if time.Now().After(deadline) {
			t.Fatalf("the leader published %d versions in 15s", len(lead.Records("published model version")))
		}
		time.Sleep(20 * time.Millisecond)
	}
	published := len(lead.Records("published model version"))
	killed := time.Now()
	lead.Kill()
	s.waitAcked(t, 600) // syncs go on, to the survivor
	took := firstRecord(t, survivor, "leading", "no replica took over the aggregation").Sub(killed)
	firstVersion := firstRecord(t, survivor, "published model version", "the new leader published nothing").Sub(killed)
	s.end()
	t.Logf("killed the leader after it published %d versions; the other replica led %v later and published its first version %v after the kill",
		published, took.Round(time.Millisecond), firstVersion.Round(time.Millisecond))
	if len(s.bad) > 0 {
		t.Fatalf("unexpected answers: %v", s.bad[:min(len(s.bad), 5)])
	}
	checkStored(t, url, s, survivor)
	for n, m := range before {
		var after api.Manifest
		getJSON(t, fmt.Sprintf("%s/v1/model?site=shop&version=%d", survivor.url, n), &after)
		if !reflect.DeepEqual(after, m) {
			t.Fatalf("version %d changed: %+v, was %+v", n, after, m)
		}
	}
	// The killed replica, restarted, follows the new leader.
	restarted := start(t, bin, args...)
	if l, _ := leader(t, survivor, restarted); l != survivor {
		t.Fatal("the restarted replica took the leadership")
	}
	if m, want := manifest(t, restarted), manifest(t, survivor); m.Version != want.Version {
		t.Fatalf("the restarted replica serves version %d, the leader %d", m.Version, want.Version)
	}
	// A graceful stop of the leader hands over to the other.
	stop(t, survivor)
	if l, _ := leader(t, restarted); l != restarted {
		t.Fatal("no replica took over after the leader stopped")
	}
}

// testDatabaseRestart: syncs stream into two replicas while the database
// stops and starts again. While it is down syncs answer 503 with
// Retry-After and nothing else; nothing is acknowledged that is not
// stored; service resumes by itself, aggregation included.
func testDatabaseRestart(t *testing.T, bin string, pg *pgtest.Server) {
	url := pg.NewDatabase(t)
	args := []string{"--store", url, "--publish-every", "100", "--publish-interval", "100ms", "--min-cohort", "1", "--shards", "2"}
	a := start(t, bin, args...)
	b := start(t, bin, args...)
	leader(t, a, b)

	s := newStream(30000, a, b)
	s.start(4)
	s.waitAcked(t, 300)
	pg.Stop(t)
	down := time.Now()
	time.Sleep(2 * time.Second)
	s.mu.Lock()
	ackedDown, unavailable := 0, s.unavailable
	for _, at := range s.acked {
		if at.After(down.Add(50 * time.Millisecond)) { // a response in flight when it stopped may land just after
			ackedDown++
		}
	}
	s.mu.Unlock()
	if ackedDown > 0 || unavailable == 0 {
		t.Fatalf("with the database down: %d syncs acknowledged, %d answered 503; want none and some", ackedDown, unavailable)
	}
	pg.Restart(t)
	up := time.Now()
	s.waitAcked(t, 300)
	var resumed time.Time
	s.mu.Lock()
	for _, at := range s.acked {
		if at.After(up) && (resumed.IsZero() || at.Before(resumed)) {
			resumed = at
		}
	}
	s.mu.Unlock()
	s.end()
	if len(s.bad) > 0 {
		t.Fatalf("unexpected answers: %v", s.bad[:min(len(s.bad), 5)])
	}
	t.Logf("database down for %v: %d syncs answered 503 with Retry-After; syncs were acknowledged again %v after it restarted",
		up.Sub(down).Round(time.Millisecond), s.unavailable, resumed.Sub(up).Round(time.Millisecond))
	checkStored(t, url, s, a, b)
	leader(t, a, b)
	stop(t, a, b)
}

// stop stops servers with SIGTERM: each exits cleanly, the leader after
// publishing what was pending and resigning.
func stop(t *testing.T, ps ...*process) {
	t.Helper()
	for _, p := range ps {
		if err := p.Stop(15 * time.Second); err != nil || len(p.Records("stopped")) != 1 {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Logs())
		}
	}
}
