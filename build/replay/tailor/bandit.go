package tailor

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/tailorhq/tailor/build/replay"
	"github.com/tailorhq/tailor/build/replay/bandit"
	"github.com/tailorhq/tailor/build/replay/data"
	"github.com/tailorhq/tailor/build/replay/report"
	"github.com/tailorhq/tailor/sdk/wire"
)

// BanditResult is Tailor's contextual choice on logged bandit feedback,
// against the logging policy.
type BanditResult struct {
	Tailor, Logged bandit.Estimate
}

// Bandit estimates Tailor's click rate on a logged-feedback file with
// two-fold cross-fitting: Tailor learns from one half of the log (each
// click is a device that syncs to a real server, as in federated mode) and
// is replayed on the other, then the halves swap and the two estimates
// pool. On each replayed impression a fresh device holding the learned
// model and the visitor's own history (the log's user-item affinities,
// tracked as past views) ranks the catalogue; its pick for the logged
// position is the item at that rank. itemContext is the item feature file;
// its item_feature_1 serves as the item's category.
func Bandit(ctx context.Context, logPath, itemContext string, workers int) (BanditResult, error) {
	var res BanditResult
	rows, err := bandit.Read(logPath)
	if err != nil {
		return res, err
	}
	cats, err := readItemCategories(itemContext)
	if err != nil {
		return res, err
	}
	if len(rows) < 2 {
		return res, fmt.Errorf("%s: %w: too few rows", logPath, bandit.ErrFormat)
	}
	half := len(rows) / 2
	for _, fold := range [][2][]bandit.Row{{rows[:half], rows[half:]}, {rows[half:], rows[:half]}} {
		e, err := banditFold(ctx, fold[0], fold[1], cats, workers)
		if err != nil {
			return res, err
		}
		res.Tailor.Add(e, rows[0].Propensity)
	}
	res.Logged = bandit.Logged(rows)
	return res, nil
}

// banditFold learns from train and estimates on test.
func banditFold(ctx context.Context, train, test []bandit.Row, cats map[string]string, workers int) (bandit.Estimate, error) {
	var sessions []data.Session
	for i, r := range train {
		if r.Click {
			sessions = append(sessions, data.Session{ID: strconv.Itoa(i), Clicks: []data.Click{{Item: itemID(r.Item), At: at(r.Time)}}})
		}
	}
	// k = 1: the log's ~46 clicks would leave a cohort floor nothing to
	// publish; the estimate is a smoke test of the contextual choice.
	p := ServerParams()
	p.MinCohort = 1
	m := &Method{cfg: replay.Config{Categories: cats, Workers: workers, Seed: 1}, mode: report.ModeFederated,
		privacy: wire.PrivacyFederated, params: p}
	if err := m.Fit(ctx, sessions); err != nil {
		return bandit.Estimate{}, err
	}
	var cands []wire.Item
	for id := 0; id < len(cats); id++ {
		cands = append(cands, wire.Item{ID: itemID(id), Category: cats[itemID(id)]})
	}
	in, err := m.pool.Get(ctx)
	if err != nil {
		return bandit.Estimate{}, err
	}
	defer m.pool.Put(in)
	return bandit.IPS(test, func(r *bandit.Row) (int, error) {
		if err := in.Seed(1); err != nil {
			return 0, err
		}
		if _, err := in.Call("tailor_init", m.config); err != nil {
			return 0, err
		}
		t := at(r.Time)
		for id, a := range r.Affinity {
			for n := 0; n < int(a) && n < 5; n++ {
				it := cands[id]
				if err := in.Track(&wire.Event{Kind: wire.KindView, Time: t - int64(len(r.Affinity)-id)*1000, Item: &it}); err != nil {
					return 0, err
				}
			}
		}
		ranked, err := in.Rank(&wire.RankRequest{Slot: "bandit", Candidates: cands, Limit: 3, Time: t})
		if err != nil {
			return 0, err
		}
		if r.Position > len(ranked.Items) {
			return -1, nil
		}
		var id int
		_, err = fmt.Sscanf(ranked.Items[r.Position-1].ID, "item-%d", &id)
		return id, err
	})
}

func itemID(i int) string { return "item-" + strconv.Itoa(i) }

// at parses the log's timestamps ("2019-11-24 00:03:13.442536+00:00").
func at(s string) int64 {
	t, err := time.Parse("2006-01-02 15:04:05.999999-07:00", s)
	if err != nil {
		return 1
	}
	return t.UnixMilli()
}

// readItemCategories reads item_context.csv: item id → item_feature_1.
func readItemCategories(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cats := map[string]string{}
	for _, rec := range recs[1:] {
		if len(rec) < 4 {
			return nil, fmt.Errorf("%s: %w", path, bandit.ErrFormat)
		}
		id, err := strconv.Atoi(rec[1])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		cats[itemID(id)] = rec[3][:12]
	}
	return cats, nil
}
