package api_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/internal/synctest"
)

// benchClients is how many clients sync at once in the latency benchmark.
const benchClients = 32

// BenchmarkSyncThroughput compares syncs (decode, validate, durable
// group-committed append, notify the aggregator, which folds every delta
// and publishes every 1000) with a bare net/http handler that only reads
// the same body, both on loopback with 32 and 128 concurrent clients. The
// two alternate in rounds (benchRounds of each, in turn first), so that a
// machine whose load changes during the run slows both alike. It reports
// both rates, their ratio, and the syncs' p50 and p99 latency; ns/op
// covers one request to each. It also reports the process's CPU time per
// request of each (client, server and aggregator alike, as getrusage
// counts them): on a machine that other jobs load, the rates and their
// ratio move with the load, the CPU a request costs much less so.
func BenchmarkSyncThroughput(b *testing.B) {
	for _, clients := range []int{32, 128} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := newStack(b, stackConfig{every: 1000})
			bare := synctest.Bare(b)
			body, idAt := synctest.Delta()
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			var tSync, tBare, cpuSync, cpuBare time.Duration
			var lat []time.Duration
			for round := range benchRounds {
				n := b.N / benchRounds
				if round < b.N%benchRounds {
					n++
				}
				syncs := func() {
					c := processCPU()
					t, l := synctest.Hammer(b, []string{s.url}, clients, n, body, idAt)
					cpuSync += processCPU() - c
					tSync += t
					lat = append(lat, l...)
				}
				bares := func() {
					c := processCPU()
					t, _ := synctest.Hammer(b, []string{bare}, clients, n, body, idAt)
					cpuBare += processCPU() - c
					tBare += t
				}
				if round%2 == 0 {
					syncs()
					bares()
				} else {
					bares()
					syncs()
				}
			}
			b.StopTimer()
			n := float64(len(lat))
			b.ReportMetric(n/tSync.Seconds(), "syncs/s")
			b.ReportMetric(n/tBare.Seconds(), "bare-req/s")
			b.ReportMetric(tBare.Seconds()/tSync.Seconds(), "ratio")
			b.ReportMetric(percentile(lat, 0.50), "p50-ms")
			b.ReportMetric(percentile(lat, 0.99), "p99-ms")
			if cpuSync > 0 {
				b.ReportMetric(float64(cpuSync.Microseconds())/n, "cpu-µs/sync")
				b.ReportMetric(float64(cpuBare.Microseconds())/n, "cpu-µs/bare")
			}
		})
	}
}

// benchRounds is how many times BenchmarkSyncThroughput alternates.
const benchRounds = 6

// percentile returns the p-quantile of lat in milliseconds; it sorts lat.
func percentile(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
}

// BenchmarkSyncLatency reports sync latency percentiles (request sent to
// 202 received, each durable) with 32 clients syncing as fast as they can.
func BenchmarkSyncLatency(b *testing.B) {
	s := newStack(b, stackConfig{every: 1000})
	body, idAt := synctest.Delta()
	b.ResetTimer()
	_, lat := synctest.Hammer(b, []string{s.url}, benchClients, b.N, body, idAt)
	b.StopTimer()
	b.ReportMetric(percentile(lat, 0.50), "p50-ms")
	b.ReportMetric(percentile(lat, 0.99), "p99-ms")
	b.ReportMetric(percentile(lat, 1), "max-ms")
}

// BenchmarkSyncHandler is the server's side of a sync alone: the API's
// handler (middleware, decode, checks, durable group-committed append,
// the aggregator folding) called in-process by 32 goroutines, without
// net/http's connection handling or any client. Its allocations per sync
// do not depend on the machine's load; its CPU per sync (cpu-µs/sync,
// the process's, aggregator and group commit included) much less than
// the loopback benchmarks' rates do. ns/op is mostly waiting for the
// group's fdatasync.
func BenchmarkSyncHandler(b *testing.B) {
	s := newStack(b, stackConfig{every: 1000})
	h := s.srv.Handler()
	body, idAt := synctest.Delta()
	var id atomic.Uint64
	id.Store(1 << 40) // apart from Hammer's ids
	b.ReportAllocs()
	b.SetParallelism(benchClients / 2) // 32 goroutines on 2 CPUs
	b.ResetTimer()
	cpu := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		mine := bytes.Clone(body)
		rd := bytes.NewReader(mine)
		for pb.Next() {
			binary.BigEndian.PutUint64(mine[idAt:], id.Add(1))
			rd.Reset(mine)
			req := httptest.NewRequest(http.MethodPost, "/v1/sync", rd)
			req.Header.Set("Content-Type", "application/msgpack")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusAccepted {
				b.Errorf("status %d: %s", w.Code, w.Body)
				return
			}
		}
	})
	b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/1e3/float64(b.N), "cpu-µs/sync")
}

// BenchmarkServe compares serving the manifest and a shard with
// http.FileServer serving the same shard's bytes from a file, with 8
// concurrent clients on loopback.
func BenchmarkServe(b *testing.B) {
	s := newStack(b, stackConfig{})
	for range 200 {
		d := newDelta()
		d.Pairs[0].From = fmt.Sprint("item-", d.ID[15], d.ID[14])
		s.sync(b, enc(d))
	}
	s.flush(b)
	var m api.Manifest
	s.do(b, http.MethodGet, "/v1/model?site=demo", nil).json(b, &m)
	var shard api.ManifestShard
	var body []byte // the largest shard's
	for _, sh := range m.Shards {
		if r := s.do(b, http.MethodGet, sh.URL, nil, "Accept-Encoding", "identity"); len(r.body) > len(body) {
			shard, body = sh, r.body
		}
	}
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "shard"), body, 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	fsrv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 5 * time.Second}
	go fsrv.Serve(ln)
	b.Cleanup(func() { fsrv.Close() })
	for _, tc := range []struct{ name, url string }{
		{"manifest", s.url + "/v1/model?site=demo"},
		{"shard", s.url + shard.URL},
		{"fileserver", "http://" + ln.Addr().String() + "/shard"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}}
			defer c.CloseIdleConnections()
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := c.Get(tc.url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
	b.Logf("shard of %d bytes (gzip accepted: no)", len(body))
}
