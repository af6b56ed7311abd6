package tailor

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
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

// rankingFields are model.Params' fields by lower-case name.
func rankingFields() map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	t := reflect.TypeFor[model.Params]()
	for i := range t.NumField() {
		f := t.Field(i)
		fields[strings.ToLower(f.Name)] = f
	}
	return fields
}

// RankingFields names the fields a ranking variant may set (model.Params'
// fields, lower case), sorted.
func RankingFields() []string {
	var names []string
	for n := range rankingFields() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ParseRanking returns model.DefaultParams changed by spec, a
// comma-separated list of field=value (RankingFields, any case), e.g.
// "decay=4,hop=0.1"; "" is the defaults.
func ParseRanking(spec string) (model.Params, error) {
	p := model.DefaultParams
	if strings.TrimSpace(spec) == "" {
		return p, nil
	}
	v := reflect.ValueOf(&p).Elem()
	fields := rankingFields()
	for _, kv := range strings.Split(spec, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(kv), "=")
		f, known := fields[strings.ToLower(name)]
		if !ok || !known {
			return p, fmt.Errorf("%w: %q: want field=value with a field among %s", ErrRanking, kv, strings.Join(RankingFields(), ", "))
		}
		x, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return p, fmt.Errorf("%w: %q: %v", ErrRanking, kv, err)
		}
		switch fv := v.FieldByIndex(f.Index); fv.Kind() {
		case reflect.Float32:
			fv.SetFloat(x)
		case reflect.Int:
			fv.SetInt(int64(x))
		default:
			return p, fmt.Errorf("%w: %q: field of kind %s", ErrRanking, kv, fv.Kind())
		}
	}
	return p, nil
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
