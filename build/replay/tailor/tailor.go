// Package tailor puts Tailor itself into the replay benchmark: the real
// tailor.wasm, run through the wazero harness as one simulated device per
// session, in three modes:
//
//   - tailor-federated: every training session is a device that syncs its
//     profile delta to a real Tailor server in this process (embedded
//     store, the server's aggregation and its defences); each evaluation
//     session then runs on a fresh device holding the weights it
//     downloaded, as a browser would.
//   - tailor-local: nothing leaves the device and no weights arrive
//     (version 0): what a site gets in its strictest privacy mode.
//   - tailor-ldp-EPS: as federated, with Laplace noise added on each
//     device at budget EPS (mode federated+ldp).
//
// Importing the package registers the modes with package replay.
//
// # Notes
//
// The harness loads dist/tailor.wasm (or $TAILOR_WASM): build it first
// with make wasm (make replay does).
package tailor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store/bolt"
	"github.com/tailorhq/tailor/wasm/harness"
)

// Epsilons are the LDP budgets the benchmark registers a mode for.
var Epsilons = []float32{1, 2, 4, 8}

// siteKey is the replay's site.
const siteKey = "replay"

func init() {
	for _, k := range Cohorts {
		name := "tailor-federated"
		if k > 1 {
			name += fmt.Sprintf("-k%d", k)
		}
		replay.Register(name, func(c replay.Config) (eval.Method, error) {
			return &Method{cfg: c, mode: report.ModeFederated, privacy: wire.PrivacyFederated, cohort: k}, nil
		})
	}
	replay.Register("tailor-local", func(c replay.Config) (eval.Method, error) {
		return &Method{cfg: c, mode: report.ModeLocal, privacy: wire.PrivacyLocal}, nil
	})
	for _, eps := range Epsilons {
		replay.Register(fmt.Sprintf("tailor-ldp-%g", eps), func(c replay.Config) (eval.Method, error) {
			return &Method{cfg: c, mode: report.ModeLDP, privacy: wire.PrivacyLDP, epsilon: eps, cohort: 1}, nil
		})
	}
}

// Cohorts are the minimum cohort sizes the benchmark registers federated
// modes for: k = 1 publishes every pair a device reported (clipped);
// larger k publish only pairs and items that k devices reported, at a cost
// in quality on a small dataset that the report shows.
var Cohorts = []int{1, 2, 5}

// AggregateParams are the server's aggregation parameters in the replay:
// the server's defaults (clipping, contribution caps, noise none), with
// the neighbourhood a catalogue of thousands of items needs and minimum
// cohort k.
func AggregateParams(k int) aggregate.Params {
	p := aggregate.DefaultParams
	p.Neighbors = 100
	p.MinCohort = k
	return p
}

// Method is one Tailor mode.
type Method struct {
	cfg     replay.Config
	mode    string
	privacy wire.Privacy
	epsilon float32
	cohort  int // minimum cohort k of the server's aggregation

	rt     *harness.Runtime
	pool   *harness.Pool
	config []byte   // the site configuration devices run with
	shards [][]byte // the weights a device downloads

	modelBytes int
	synced     atomic.Int64 // delta bytes accepted
	devices    atomic.Int64 // training devices
	version    uint32
	deltas     uint64
}

// Name is the method column of the report.
func (m *Method) Name() string {
	if m.cohort > 1 {
		return fmt.Sprintf("Tailor (cohort k=%d)", m.cohort)
	}
	return "Tailor"
}

// Annotate fills in the mode and what devices sent and received.
func (m *Method) Annotate(r *report.Result) {
	r.Mode = m.mode
	if m.mode == report.ModeLDP {
		r.Epsilon = report.Float(float64(m.epsilon))
	}
	if n := m.devices.Load(); n > 0 {
		r.BytesSynced = report.Float(float64(m.synced.Load()) / float64(n))
	}
	r.ModelBytes = report.Float(float64(m.modelBytes))
	if m.mode != report.ModeLocal {
		r.Notes = fmt.Sprintf("model version %d built from %d deltas of %d devices", m.version, m.deltas, m.devices.Load())
	}
}

// wasmPath is where the harness finds tailor.wasm.
func wasmPath() string {
	if p := os.Getenv("TAILOR_WASM"); p != "" {
		return p
	}
	return filepath.Join("dist", "tailor.wasm")
}

// Fit runs every training session as a device syncing to a real server
// (except in local mode), then downloads the published model.
func (m *Method) Fit(ctx context.Context, train []data.Session) error {
	rt, err := harness.Load(ctx, wasmPath())
	if err != nil {
		return fmt.Errorf("tailor: %w (build it with make wasm)", err)
	}
	m.rt = rt
	cfg := wire.Config{Site: siteKey, Privacy: m.privacy, Epsilon: m.epsilon}
	m.config = wire.Marshal(&cfg)
	if m.privacy != wire.PrivacyLocal {
		if err := m.federate(ctx, train); err != nil {
			return err
		}
	}
	config, shards := m.config, m.shards
	m.pool = rt.NewPool(max(1, m.cfg.Workers), func(in *harness.Instance) error {
		if _, err := in.Call("tailor_init", config, 1); err != nil {
			return err
		}
		for _, s := range shards {
			if err := in.ApplyWeightsBytes(s); err != nil {
				return err
			}
		}
		return nil
	})
	return nil
}

// federate replays the training sessions as devices against a server in
// this process, and keeps the model they built.
func (m *Method) federate(ctx context.Context, train []data.Session) error {
	dir, err := os.MkdirTemp("", "tailor-replay-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(filepath.Join(dir, "tailor.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	sites, err := site.NewSet(site.Site{Key: siteKey, Origins: []string{"*"}, Privacy: m.privacy, Epsilon: m.epsilon})
	if err != nil {
		return err
	}
	agg, err := aggregate.New(st, sites, aggregate.WithParams(AggregateParams(m.cohort)),
		aggregate.WithPublishEvery(2000, time.Hour), aggregate.WithNoiseSeed(uint64(m.cfg.Seed)))
	if err != nil {
		return err
	}
	if err := agg.Start(ctx); err != nil {
		return err
	}
	defer agg.Close(context.Background())
	srv, err := api.New(st, agg, sites, api.WithMaxModelLag(1<<20))
	if err != nil {
		return err
	}
	if err := srv.Open("127.0.0.1:0"); err != nil {
		return err
	}
	defer srv.Close()
	client := &http.Client{Timeout: 30 * time.Second}

	pool := m.rt.NewPool(max(1, m.cfg.Workers), nil)
	var done atomic.Int64
	err = pool.Run(ctx, len(train), func(in *harness.Instance, i int) error {
		if _, err := in.Call("tailor_init", m.config, uint64(m.cfg.Seed)+uint64(i)); err != nil {
			return err
		}
		for _, c := range train[i].Clicks {
			if err := in.Track(m.click(c)); err != nil {
				return err
			}
		}
		delta, err := in.TakeDelta()
		if err != nil || len(delta) == 0 {
			return err
		}
		if err := post(ctx, client, srv.URL()+"/v1/sync", delta); err != nil {
			return err
		}
		m.synced.Add(int64(len(delta)))
		m.devices.Add(1)
		if m.cfg.FitProgress != nil && done.Add(1)%100 == 0 {
			m.cfg.FitProgress(int(done.Load()), len(train))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tailor: training devices: %w", err)
	}
	if err := agg.Flush(ctx); err != nil {
		return err
	}
	return m.download(ctx, client, srv.URL())
}

// download fetches the current manifest, configuration and every shard.
func (m *Method) download(ctx context.Context, client *http.Client, base string) error {
	var man api.Manifest
	b, err := get(ctx, client, base+"/v1/model?site="+siteKey)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return fmt.Errorf("tailor: manifest: %w", err)
	}
	if m.config, err = get(ctx, client, base+man.Config.URL); err != nil {
		return err
	}
	m.shards = m.shards[:0]
	for _, s := range man.Shards {
		b, err := get(ctx, client, base+s.URL)
		if err != nil {
			return err
		}
		m.shards = append(m.shards, b)
		m.modelBytes += len(b)
	}
	m.version, m.deltas = man.Version, man.Deltas
	return nil
}

// click is the event of a dataset click.
func (m *Method) click(c data.Click) *wire.Event {
	it := &wire.Item{ID: c.Item, Category: m.cfg.Categories[c.Item]}
	return &wire.Event{Kind: wire.KindClick, Time: c.At, Item: it, Ctx: m.context(c.At)}
}

// context is the page context of a click: the time of day and week, when
// the dataset has a clock.
func (m *Method) context(at int64) wire.Context {
	if !m.cfg.HasClock {
		return wire.Context{}
	}
	t := time.UnixMilli(at).UTC().Add(m.cfg.ClockOffset)
	return wire.Context{Hour: uint8(t.Hour()), Weekday: uint8(t.Weekday()), Month: uint8(t.Month())}
}

// Start begins an evaluation session on a fresh device that holds the
// downloaded model.
func (m *Method) Start() eval.Session { return &session{m: m} }

type session struct {
	m  *Method
	in *harness.Instance
}

// Next tracks a click and returns the device's top k for the next one,
// ranking the items the model knows (no candidate list, as a
// "recommended for you" slot over the whole catalogue).
func (s *session) Next(item string, at int64, k int) ([]string, error) {
	m := s.m
	if s.in == nil {
		in, err := m.pool.Get(context.Background())
		if err != nil {
			return nil, err
		}
		if _, err := in.Call("tailor_init", m.config, uint64(at)); err != nil {
			m.pool.Put(in)
			return nil, err
		}
		s.in = in
	}
	if err := s.in.Track(m.click(data.Click{Item: item, At: at})); err != nil {
		return nil, err
	}
	res, err := s.in.Rank(&wire.RankRequest{Slot: "next", Limit: k, Time: at + 1, Ctx: m.context(at)})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Items))
	for i, r := range res.Items {
		ids[i] = r.ID
	}
	return ids, nil
}

// Close returns the device to the pool.
func (s *session) Close() error {
	if s.in != nil {
		s.m.pool.Put(s.in)
		s.in = nil
	}
	return nil
}

func post(ctx context.Context, c *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/msgpack")
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("sync: %s: %s", res.Status, bytes.TrimSpace(msg))
	}
	return nil
}

func get(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return io.ReadAll(io.LimitReader(res.Body, 64<<20))
}
