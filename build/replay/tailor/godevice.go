package tailor

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/report"
	"github.com/tailorhq/tailor/sdk/device"
	"github.com/tailorhq/tailor/sdk/model"
	"github.com/tailorhq/tailor/sdk/wire"
)

// ErrRanking is the error of a ranking variant that cannot be parsed.
var ErrRanking = errors.New("tailor: bad ranking variant")

// engine is what an evaluation device's page view runs on: a tailor.wasm
// instance, or the Go device (goDevice) when a ranking variant tunes
// model.Params without rebuilding the guest.
type engine interface {
	ApplyWeightsBytes(b []byte) error
	Track(e *wire.Event) error
	Rank(q *wire.RankRequest) (wire.RankResult, error)
	SaveProfile() ([]byte, error)
	Close(ctx context.Context) error
}

// goDevice is package device in this process: the code tailor.wasm
// compiles, ranking with other model.Params. With model.DefaultParams it
// ranks as the guest does (TestRankingDefaultIsGuest), at a fraction of
// the cost, so that a sweep of the device's weights needs neither a
// rebuilt guest nor new training devices.
type goDevice struct{ d *device.Device }

// newGoDevice starts a Go device for a page view at time at, with the
// site's configuration and params; its randomness is seeded as the
// guest's evaluation devices are (session.open), though it draws none on
// a site that neither explores nor holds out.
func newGoDevice(cfg wire.Config, params model.Params, at int64, saved []byte) (*goDevice, error) {
	d := device.New(cfg, pcg{rand.New(rand.NewPCG(uint64(at)|1<<63, 0))})
	d.SetParams(params)
	if saved != nil {
		if err := d.LoadProfile(saved); err != nil {
			return nil, err
		}
	}
	return &goDevice{d}, nil
}

func (g *goDevice) ApplyWeightsBytes(b []byte) error {
	var w wire.Weights
	if err := wire.Unmarshal(b, &w, "weights"); err != nil {
		return err
	}
	return g.d.ApplyWeights(&w)
}

func (g *goDevice) Track(e *wire.Event) error { g.d.Track(e); return nil }

func (g *goDevice) Rank(q *wire.RankRequest) (wire.RankResult, error) { return g.d.Rank(q), nil }

func (g *goDevice) SaveProfile() ([]byte, error) { return g.d.SaveProfile(), nil }

func (g *goDevice) Close(context.Context) error { return nil }

type pcg struct{ r *rand.Rand }

func (p pcg) Uint64() uint64 { return p.r.Uint64() }

// rankingFields are the model.Params a ranking variant may set: all of
// them (TestRankingFieldsAreParams).
var rankingFields = setters[model.Params]{
	"session":   func(p *model.Params, v float64) { p.Session = float32(v) },
	"decay":     func(p *model.Params, v float64) { p.Decay = float32(v) },
	"history":   func(p *model.Params, v float64) { p.History = float32(v) },
	"local":     func(p *model.Params, v float64) { p.Local = float32(v) },
	"repeat":    func(p *model.Params, v float64) { p.Repeat = float32(v) },
	"affinity":  func(p *model.Params, v float64) { p.Affinity = float32(v) },
	"search":    func(p *model.Params, v float64) { p.Search = float32(v) },
	"replenish": func(p *model.Params, v float64) { p.Replenish = float32(v) },
	"popular":   func(p *model.Params, v float64) { p.Popular = float32(v) },
	"hop":       func(p *model.Params, v float64) { p.Hop = float32(v) },
	"bought":    func(p *model.Params, v float64) { p.Bought = float32(v) },
	"rule":      func(p *model.Params, v float64) { p.Rule = float32(v) },
	"window":    func(p *model.Params, v float64) { p.Window = int(v) },
}

// RankingFields names the fields a ranking variant may set, sorted.
func RankingFields() []string { return rankingFields.names() }

// ParseRanking returns model.DefaultParams changed by spec, a
// comma-separated list of field=value (RankingFields, any case), e.g.
// "decay=4,hop=0.1"; "" is the defaults.
func ParseRanking(spec string) (model.Params, error) {
	p := model.DefaultParams
	if strings.TrimSpace(spec) == "" {
		return p, nil
	}
	err := rankingFields.apply(&p, spec, ErrRanking)
	return p, err
}

// NameRanking is the registered name of the shipped federated mode
// ranked by the Go device at the ranking variant spec.
func NameRanking(spec string) string { return NameFederated + "{" + spec + "}" }

// RegisterRanking registers the shipped federated mode ranked by the Go
// device at model.Params changed by spec (ParseRanking) under
// NameRanking(spec), for tuning the device's ranking: its training
// devices and server are the shipped default's (tailor.wasm makes the
// deltas; run after it, the memo or the delta file spares running them
// again), only its evaluation devices run package device in this
// process. Registering the same spec twice is a no-op.
func RegisterRanking(spec string) (string, error) {
	p, err := ParseRanking(spec)
	if err != nil {
		return "", err
	}
	name := NameRanking(spec)
	registerOnce(name, func(c replay.Config) *Method {
		return &Method{cfg: c, mode: report.ModeFederated, privacy: wire.PrivacyFederated, params: ServerParams(),
			ranking: &p, rankingSpec: spec}
	})
	return name, nil
}
