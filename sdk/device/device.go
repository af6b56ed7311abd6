// Package device is Tailor on one visitor's device: it holds the site's
// configuration, the model weights and the visitor's profile, and answers
// the loader's page-level operations (track, rank, sync, forget). The guest
// (tailor.wasm) is a thin ABI over it.
//
//	d := device.New(cfg, rnd) // rnd: the platform's CSPRNG (WASI random_get)
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
	"github.com/tailorhq/tailor/sdk/internal/rnd"
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
	rnd     Random
}

// Random is where every random choice of the device comes from: delta
// ids, the federated sample, the LDP reports, exploration and the holdout
// draw. It must be the platform's cryptographic generator (the guest reads
// WASI random_get), never state saved with the profile: then one delta
// says nothing about the device's other deltas, before or after Forget.
type Random interface{ Uint64() uint64 }

// New returns a device for a site with an empty profile and no weights
// (model version 0), drawing its randomness from rnd.
func New(cfg wire.Config, rnd Random) *Device {
	return &Device{cfg: cfg, profile: profile.New(), params: model.DefaultParams, rnd: rnd}
}

// Configure replaces the site configuration (shipped with each model version).
func (d *Device) Configure(cfg wire.Config) { d.cfg = cfg }

// Reset configures the device and starts a fresh profile, keeping the
// weights: they belong to the site, not the visitor. A host that
// simulates many visitors resets one device between them.
func (d *Device) Reset(cfg wire.Config) {
	d.cfg, d.profile = cfg, profile.New()
}

// SetParams replaces the model's scoring weights (model.DefaultParams by
// default), for tuning with the replay tool.
func (d *Device) SetParams(p model.Params) { d.params = p }

// Config returns the site configuration in force.
func (d *Device) Config() *wire.Config { return &d.cfg }

// ApplyWeights merges a model version's weights, or one shard of them.
func (d *Device) ApplyWeights(w *wire.Weights) error { return d.index.Apply(w) }

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
		p.Holdout, p.Drawn = rnd.Float64(d.rnd) < float64(d.cfg.Holdout), true
	}
	arm := wire.ArmTreatment
	if p.Holdout {
		arm = wire.ArmHoldout
	}
	if req.Time > 0 && !req.Rerank {
		// Before ranking: the first page of a new visit (a home page,
		// no item viewed yet) ranks on what lasts, the last session
		// folded in, not on that session as if it went on.
		p.Seen(req.Time)
	}
	res := model.Rank(model.Input{Req: req, Profile: p, Config: &d.cfg, Index: &d.index, Params: &d.params, Arm: arm, Rand: d.rnd})
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
// is nothing, the site's privacy mode is local, or, under federated+ldp,
// the day's budget (DayBudget) is spent: then the pending statistics are
// dropped, not kept for later, and the next delta comes on the next UTC
// day of the visitor's activity. The delta's id is fresh randomness.
func (d *Device) TakeDelta() (wire.Delta, bool) {
	p := d.profile
	if d.cfg.Privacy == wire.PrivacyLocal || p.Pending.Empty() {
		return wire.Delta{}, false
	}
	h := delta.Header{Site: d.cfg.Site, Model: wire.EpochOf(d.index.Version)}
	for i := 0; i < len(h.ID); i += 8 {
		v := d.rnd.Uint64()
		for j := 0; j < 8; j++ {
			h.ID[i+j] = byte(v >> (8 * j))
		}
	}
	if d.cfg.Privacy == wire.PrivacyLDP {
		h.Epsilon = d.cfg.Epsilon
		if day := p.LastSeen / profile.Day; day != p.EpsDay {
			p.EpsDay, p.EpsSpent = day, 0
		}
		if p.EpsSpent+h.Epsilon > d.DayBudget() {
			p.Pending.Reset()
			return wire.Delta{}, false
		}
		p.EpsSpent += h.Epsilon
	}
	return p.Pending.Take(h, d.rnd)
}

// DayBudget returns the LDP budget the device may spend per UTC day: the
// site's, or DefaultDayDeltas deltas' worth. 0 outside federated+ldp.
func (d *Device) DayBudget() float32 {
	switch {
	case d.cfg.Privacy != wire.PrivacyLDP:
		return 0
	case d.cfg.DayBudget > 0:
		return d.cfg.DayBudget
	}
	return wire.DefaultDayDeltas * d.cfg.Epsilon
}

// Spent returns the LDP budget spent on the day of the visitor's last
// activity (see TakeDelta).
func (d *Device) Spent() float32 {
	if p := d.profile; p.EpsDay == p.LastSeen/profile.Day {
		return p.EpsSpent
	}
	return 0
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
// visitor's; so does the day's LDP spending, a device's budget that
// forgetting must not refill (it is never sent, so it links nothing).
// No random state survives: there is none to keep.
func (d *Device) Forget() {
	old := d.profile
	d.profile = profile.New()
	d.profile.EpsDay, d.profile.EpsSpent = old.EpsDay, old.EpsSpent
}
