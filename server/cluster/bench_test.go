package cluster_test

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tailorhq/tailor/server/internal/synctest"
	"github.com/tailorhq/tailor/server/store/postgres/pgtest"
)

// benchClients is how many devices sync at once.
const benchClients = 64

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
	body, idAt := synctest.Delta()
	b.Run("bare", func(b *testing.B) {
		url := synctest.Bare(b)
		cpu0 := cpu()
		b.ResetTimer()
		took, _ := synctest.Hammer(b, []string{url}, benchClients, b.N, body, idAt)
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
				waitFor(b, "every replica serves a version", func() bool { _, ok := r.agg.Current(siteKey); return ok })
			}
			cpu0, pg0 := cpu(), pg.CPU()
			b.ResetTimer()
			took, _ := synctest.Hammer(b, urls, benchClients, b.N, body, idAt)
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
