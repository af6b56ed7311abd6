package cluster_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	demosite "github.com/tailorhq/tailor/demo-site"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/store/postgres/pgtest"
)

// benchClients is how many devices sync at once.
const benchClients = 64

// benchDelta is an honest-sized delta (an 8-click session: 28 pairs, 8
// items, 2 arms) whose 16-byte id is at the returned offset.
func benchDelta() ([]byte, int) {
	d := wire.Delta{Site: demosite.Key, Arms: []wire.ArmCount{{Arm: wire.ArmTreatment, Impressions: 35, Clicks: 3}, {Arm: wire.ArmRules, Impressions: 5}}}
	copy(d.ID[:], "0123456789abcdef")
	for i := 0; i < 8; i++ {
		d.Items = append(d.Items, wire.Count{ID: fmt.Sprintf("evening-gowns-%d", i), N: 1})
		for j := i + 1; j < 8; j++ {
			d.Pairs = append(d.Pairs, wire.Pair{From: fmt.Sprintf("evening-gowns-%d", i), To: fmt.Sprintf("evening-gowns-%d", j), W: 1 / float32(j-i)})
		}
	}
	body := wire.Marshal(&d)
	return body, bytes.Index(body, []byte("0123456789abcdef"))
}

var benchIDs atomic.Uint64

// hammer sends n syncs of fresh deltas from benchClients clients, spread
// over the replicas in turn, and returns the time it took.
func hammer(b *testing.B, urls []string, n int, body []byte, idAt int) time.Duration {
	b.Helper()
	c := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients}}
	defer c.CloseIdleConnections()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := bytes.Clone(body)
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				binary.BigEndian.PutUint64(mine[idAt:], benchIDs.Add(1))
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
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return time.Since(start)
}

// cpu returns this process's processor time.
func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSyncReplicas measures sync throughput (decode, validate,
// durable group-committed append, the leader folding every delta and
// publishing every 1000) of 1, 2 and 4 replicas sharing one PostgreSQL,
// and of one server on the embedded store, all in this process with
// benchClients devices syncing to the replicas in turn over loopback.
// Besides syncs/s it reports where the time goes: the processor time of
// the servers and the load (go-cpu-%), and of PostgreSQL (pg-cpu-%), in
// percent of one core (the machine's cores: 100 each), and how many
// deltas share a commit. "bare" is the ceiling of this load on this
// machine: a net/http handler that only reads the body.
func BenchmarkSyncReplicas(b *testing.B) {
	pg := pgtest.Start(b)
	body, idAt := benchDelta()
	b.Run("bare", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
		}), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		cpu0 := cpu()
		b.ResetTimer()
		took := hammer(b, []string{"http://" + ln.Addr().String()}, b.N, body, idAt)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/took.Seconds(), "syncs/s")
		b.ReportMetric(100*(cpu()-cpu0).Seconds()/took.Seconds(), "go-cpu-%")
	})
	for _, tc := range []struct {
		name     string
		replicas int
	}{{"embedded", 1}, {"postgres/replicas=1", 1}, {"postgres/replicas=2", 2}, {"postgres/replicas=4", 4}} {
		b.Run(tc.name, func(b *testing.B) {
			url := "bolt:" + filepath.Join(b.TempDir(), "tailor.db")
			if tc.name != "embedded" {
				url = pg.NewDatabase(b)
			}
			var rs []*replica
			var urls []string
			for range tc.replicas {
				r := startReplica(b, url, replicaConfig{})
				rs = append(rs, r)
				urls = append(urls, r.url)
			}
			for _, r := range rs {
				waitFor(b, "every replica serves a version", func() bool { _, ok := r.agg.Current(demosite.Key); return ok })
			}
			cpu0, pg0 := cpu(), pg.CPU()
			b.ResetTimer()
			took := hammer(b, urls, b.N, body, idAt)
			b.StopTimer()
			goCPU, pgCPU := cpu()-cpu0, pg.CPU()-pg0
			b.ReportMetric(float64(b.N)/took.Seconds(), "syncs/s")
			b.ReportMetric(100*goCPU.Seconds()/took.Seconds(), "go-cpu-%")
			if tc.name != "embedded" {
				b.ReportMetric(100*pgCPU.Seconds()/took.Seconds(), "pg-cpu-%")
				var commits, appended uint64
				for _, r := range rs {
					st := r.pg.Stats()
					commits, appended = commits+st.Commits, appended+st.Appended
				}
				if commits > 0 {
					b.ReportMetric(float64(appended)/float64(commits), "deltas/commit")
				}
			}
		})
	}
}
