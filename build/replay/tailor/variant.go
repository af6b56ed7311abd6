package tailor

import (
	"errors"
	"fmt"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
)

// ErrVariant is the error of a server variant that cannot be parsed.
var ErrVariant = errors.New("tailor: bad server variant")

// variantFields are the server parameters a variant may change: the
// shape of the published lists, not the privacy floors (k and the
// central noise have modes of their own; a variant with another k would
// not be a candidate for the shipped default).
var variantFields = setters[aggregate.Params]{
	"neighbors":    func(p *aggregate.Params, v float64) { p.Neighbors = int(v) },
	"pairshare":    func(p *aggregate.Params, v float64) { p.PairShare = v },
	"paircap":      func(p *aggregate.Params, v float64) { p.PairCap = v },
	"cooccurrence": func(p *aggregate.Params, v float64) { p.CoOccurrence = v },
	"sharefill":    func(p *aggregate.Params, v float64) { p.ShareFill = v },
	"hop":          func(p *aggregate.Params, v float64) { p.Hop = v },
	"headitems":    func(p *aggregate.Params, v float64) { p.HeadItems = int(v) },
	"shardbytes":   func(p *aggregate.Params, v float64) { p.ShardBytes = int(v) },
}

// VariantFields names the fields a variant may set, sorted.
func VariantFields() []string { return variantFields.names() }

// ParseVariant returns the shipped server parameters changed by spec, a
// comma-separated list of field=value (VariantFields), e.g.
// "neighbors=50,pairshare=0.05"; the result is validated.
func ParseVariant(spec string) (aggregate.Params, error) {
	p := ServerParams()
	if err := variantFields.apply(&p, spec, ErrVariant); err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%w: %q: %v", ErrVariant, spec, err)
	}
	return p, nil
}

// NameVariant is the registered name of the federated mode with the
// server variant spec.
func NameVariant(spec string) string { return NameFederated + "[" + spec + "]" }

// RegisterVariant registers the federated mode with the server's
// parameters changed by spec (ParseVariant) under NameVariant(spec), for
// tuning the server: run after the shipped default, it aggregates the
// same devices' deltas again (the memo), so a sweep of variants costs
// the aggregation and the evaluation only. Registering the same spec
// twice is a no-op.
func RegisterVariant(spec string) (string, error) {
	p, err := ParseVariant(spec)
	if err != nil {
		return "", err
	}
	name := NameVariant(spec)
	registerOnce(name, func(c replay.Config) *Method {
		return &Method{cfg: c, mode: report.ModeFederated, privacy: wire.PrivacyFederated, params: p, variant: spec}
	})
	return name, nil
}

// registerOnce registers under name the method newMethod makes for a
// configuration, unless one is registered under name already.
func registerOnce(name string, newMethod func(c replay.Config) *Method) {
	if _, ok := replay.Lookup(name); ok {
		return
	}
	replay.Register(name, func(c replay.Config) (eval.Method, error) { return newMethod(c), nil })
}
