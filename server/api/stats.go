package api

import (
	"net/http"
	"slices"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
)

// Stats is the body of GET /v1/stats: is personalization paying off? Per
// model version devices ranked with, and in total, what each arm showed
// and what came of it, and the uplift of the treatment arm (the model)
// over the holdout (the site's default order).
type Stats struct {
	Site     string       `json:"site"`
	Current  uint32       `json:"current_version"`
	Holdout  float32      `json:"holdout_share"` // configured share of devices in the holdout
	Total    ArmsReport   `json:"total"`
	Versions []ArmsReport `json:"versions"` // by model version, ascending
	Notes    string       `json:"notes"`
}

// ArmsReport is one version's (or the total's) arms and uplift.
type ArmsReport struct {
	Version *uint32              `json:"version,omitempty"` // absent in the total
	Arms    map[string]ArmReport `json:"arms"`
	// CTRUplift compares clicks per impression, ConversionUplift
	// conversions per impression; absent until both arms have impressions.
	CTRUplift        *aggregate.Uplift `json:"ctr_uplift,omitempty"`
	ConversionUplift *aggregate.Uplift `json:"conversion_uplift,omitempty"`
}

// ArmReport is one arm's counts and rates.
type ArmReport struct {
	Impressions    uint64  `json:"impressions"`
	Clicks         uint64  `json:"clicks"`
	Conversions    uint64  `json:"conversions"`
	CTR            float64 `json:"ctr"`             // clicks per impression
	ConversionRate float64 `json:"conversion_rate"` // conversions per impression
}

const statsNotes = "Counts are per-delta clipped sums reported by devices. Intervals are 95% Wald intervals of the difference " +
	"of two proportions and treat impressions as independent, so they are somewhat too narrow."

// handleStats serves a site's uplift report.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("site")
	st, ok := s.siteRequest(w, r, key)
	if !ok {
		return
	}
	byVersion, err := s.agg.Arms(key)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, reasonUnavailable, err)
		return
	}
	cur, _ := s.agg.Current(key)
	out := Stats{Site: key, Current: cur.Number, Holdout: st.Holdout, Versions: []ArmsReport{}, Notes: statsNotes}
	versions := make([]uint32, 0, len(byVersion))
	for v := range byVersion {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	var total aggregate.Arms
	for _, v := range versions {
		arms := byVersion[v]
		for i := range total {
			total[i].Impressions += arms[i].Impressions
			total[i].Clicks += arms[i].Clicks
			total[i].Conversions += arms[i].Conversions
		}
		rep := report(&arms)
		rep.Version = &v
		out.Versions = append(out.Versions, rep)
	}
	out.Total = report(&total)
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, out)
}

func report(arms *aggregate.Arms) ArmsReport {
	rep := ArmsReport{Arms: map[string]ArmReport{}}
	for i, a := range arms {
		rep.Arms[wire.Arm(i).String()] = ArmReport{Impressions: a.Impressions, Clicks: a.Clicks, Conversions: a.Conversions,
			CTR: aggregate.Rate(a.Clicks, a.Impressions), ConversionRate: aggregate.Rate(a.Conversions, a.Impressions)}
	}
	t, h := arms[wire.ArmTreatment], arms[wire.ArmHoldout]
	if u, ok := aggregate.Compare(t.Clicks, t.Impressions, h.Clicks, h.Impressions); ok {
		rep.CTRUplift = &u
	}
	if u, ok := aggregate.Compare(t.Conversions, t.Impressions, h.Conversions, h.Impressions); ok {
		rep.ConversionUplift = &u
	}
	return rep
}
