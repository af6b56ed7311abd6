package demosite

import (
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/site"
)

// Key is the demo store's site key.
const Key = "demo"

// Sites returns the demo store as the only site of a server's
// configuration: what `make demo` serves. origins are where the store is
// served from (the server itself).
func Sites(origins ...string) *site.Set {
	set, err := site.NewSet(Site(origins...))
	if err != nil {
		panic("demosite: the demo store's site configuration is invalid: " + err.Error())
	}
	return set
}

// Site returns the demo store's site configuration: federated learning, 5%
// holdout, a little exploration and diversity, coffee refills after three
// weeks, and the traditional segment rules that "rules only" mode shows
// side by side with the model.
func Site(origins ...string) site.Site {
	in := func(field string, values ...string) []wire.Cond {
		return []wire.Cond{{Field: field, Op: wire.OpIn, Values: values}}
	}
	return site.Site{
		Key:       Key,
		Origins:   origins,
		Privacy:   wire.PrivacyFederated,
		Explore:   0.05,
		Holdout:   site.DefaultHoldout,
		Diversity: 0.2,
		Replenish: map[string]uint16{"coffee-machines": 21, "coffee-beans": 21, "coffee-filters": 21},
		Rules: []wire.Rule{
			{ID: "evening", Segment: "evening shopper", If: in("viewed.category", "evening-gowns", "metallic-heels"),
				Then: wire.Action{Do: wire.DoBoost, Categories: []string{"clutches", "jewelry"}, IDs: []string{"post-formal-party"}, Weight: 1}},
			{ID: "runner", Segment: "runner", If: in("viewed.tag", "running"),
				Then: wire.Action{Do: wire.DoBoost, Categories: []string{"gps-watches", "energy-gels", "running-apparel"}, IDs: []string{"post-first-marathon"}, Weight: 1}},
			{ID: "female", Segment: "female shopper", If: in("viewed.tag", "women"),
				Then: wire.Action{Do: wire.DoBoost, Tags: []string{"women"}, Weight: 1}},
			{ID: "summer", Segment: "summer season", If: []wire.Cond{{Field: "ctx.month", Op: wire.OpBetween, Min: 6, Max: 8}},
				Then: wire.Action{Do: wire.DoPin, IDs: []string{"banner-summer"}}},
			{ID: "winter", Segment: "winter season", If: in("viewed.category", "winter-coats", "sweaters"),
				Then: wire.Action{Do: wire.DoBoost, IDs: []string{"banner-winter", "post-winter-layers"}, Weight: 1}},
		},
	}
}
