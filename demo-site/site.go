package site

import "github.com/tailorhq/tailor/sdk/wire"

// DemoKey is the site key of the built-in demo store.
const DemoKey = "demo"

// Demo returns the built-in configuration of the demo store that `make
// demo` serves: federated learning, 5% holdout, a little exploration and
// diversity, coffee refills after three weeks, and the traditional segment
// rules that "rules only" mode shows side by side with the model. origins
// are where the store is served from (the server itself).
func Demo(origins ...string) *Set {
	set, err := NewSet(DemoSite(origins...))
	if err != nil {
		panic("site: the built-in demo configuration is invalid: " + err.Error())
	}
	return set
}

// DemoSite returns the demo store's Site.
func DemoSite(origins ...string) Site {
	in := func(field string, values ...string) []wire.Cond {
		return []wire.Cond{{Field: field, Op: wire.OpIn, Values: values}}
	}
	return Site{
		Key:       DemoKey,
		Origins:   origins,
		Privacy:   wire.PrivacyFederated,
		Explore:   0.05,
		Holdout:   DefaultHoldout,
		Diversity: 0.1,
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
