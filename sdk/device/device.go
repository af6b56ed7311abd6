// Package device is Tailor on one visitor's device: it holds the site's
// configuration, the model weights and the visitor's profile, and answers
// the loader's page-level operations (track, rank, sync, forget). The guest
// (tailor.wasm) is a thin ABI over it.
//
//	d := device.New(cfg, seed)
//	d.ApplyWeights(&w)
//	d.Track(&event)
//	res := d.Rank(&req)
//	delta, ok := d.TakeDelta()
//
// # Notes
//
// A Device is not goroutine-safe; the guest has exactly one.
package device

import (
	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/model"
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/wire"
)

// Device is one visitor's Tailor.
type Device struct {
	cfg     wire.Config
	index   model.Index
	profile *profile.Profile
	params  model.Params
}

// New returns a device for a site with an empty profile and no weights
// (model version 0). seed starts its random state; the loader draws it
// from crypto.getRandomValues.
func New(cfg wire.Config, seed uint64) *Device {
	return &Device{cfg: cfg, profile: profile.New(seed), params: model.DefaultParams}
}

// Configure replaces the site configuration (shipped with each model version).
func (d *Device) Configure(cfg wire.Config) { d.cfg = cfg }

// Reset configures the device and starts a fresh profile from seed,
// keeping the weights: they belong to the site, not the visitor. A host
// that simulates many visitors resets one device between them.
func (d *Device) Reset(cfg wire.Config, seed uint64) {
	d.cfg, d.profile = cfg, profile.New(seed)
}

// SetParams replaces the model's scoring weights (model.DefaultParams by
// default), for tuning with the replay tool.
func (d *Device) SetParams(p model.Params) { d.params = p }

// Config returns the site configuration in force.
func (d *Device) Config() *wire.Config { return &d.cfg }

// ApplyWeights merges a model version's weights, or one shard of them.
func (d *Device) ApplyWeights(w *wire.Weights) { d.index.Apply(w) }

// Version returns the model version held.
func (d *Device) Version() uint32 { return d.index.Version }

// Track learns from one event.
func (d *Device) Track(e *wire.Event) {
	d.profile.Observe(e)
	if d.cfg.Privacy == wire.PrivacyLocal {
		d.profile.Pending.Reset() // nothing will leave the device: keep nothing for it
	}
}

// Rank orders a slot's candidates and records what it showed.
func (d *Device) Rank(req *wire.RankRequest) wire.RankResult {
	p := d.profile
	if !p.Drawn {
		p.Holdout, p.Drawn = p.Rand.Float64() < float64(d.cfg.Holdout), true
	}
	arm := wire.ArmTreatment
	if p.Holdout {
		arm = wire.ArmHoldout
	}
	res := model.Rank(model.Input{Req: req, Profile: p, Config: &d.cfg, Index: &d.index, Params: &d.params, Arm: arm})
	if d.cfg.Privacy != wire.PrivacyLocal && !req.Rerank {
		ids := make([]string, len(res.Items))
		for i, it := range res.Items {
			ids[i] = it.ID
		}
		p.MarkShown(res.Arm, ids)
	}
	return res
}

// TakeDelta returns what to sync since the last call, and false when there
// is nothing or the site's privacy mode is local.
func (d *Device) TakeDelta() (wire.Delta, bool) {
	if d.cfg.Privacy == wire.PrivacyLocal {
		return wire.Delta{}, false
	}
	h := delta.Header{Site: d.cfg.Site, Model: d.index.Version}
	for i := 0; i < len(h.ID); i += 8 {
		v := d.profile.Rand.Uint64()
		for j := 0; j < 8; j++ {
			h.ID[i+j] = byte(v >> (8 * j))
		}
	}
	if d.cfg.Privacy == wire.PrivacyLDP {
		h.Epsilon = d.cfg.Epsilon
	}
	return d.profile.Pending.Take(h, &d.profile.Rand)
}

// Profile returns the visitor's profile, for reading.
func (d *Device) Profile() *profile.Profile { return d.profile }

// SaveProfile encodes the profile for the device's storage.
func (d *Device) SaveProfile() []byte { return d.profile.Marshal() }

// LoadProfile replaces the profile with a stored one; on error the current
// profile is kept.
func (d *Device) LoadProfile(b []byte) error {
	p, err := profile.Unmarshal(b)
	if err != nil {
		return err
	}
	d.profile = p
	return nil
}

// Forget wipes everything the device learned about its visitor, pending
// statistics included. Weights and configuration stay: they are not the
// visitor's.
func (d *Device) Forget() { d.profile = profile.New(d.profile.Rand.Uint64()) }
