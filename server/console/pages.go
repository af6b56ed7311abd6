package console

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/aggregate"
	"github.com/tailorhq/tailor/server/api"
	"github.com/tailorhq/tailor/server/publish"
	"github.com/tailorhq/tailor/server/store"
)

// timelineVersions is how many versions the overview plots.
const timelineVersions = 60

// overview is the data of the overview page.
type overview struct {
	Version   store.Version
	Published bool
	Info      publish.Info
	Leading   bool
	Timeline  template.HTML
	Recent    []store.Version // newest first
	Syncs     []reasonCount
	Hours     template.HTML // syncs by hour
	Accepted  uint64
	Refused   uint64
	Privacy   string
	LDP       bool
	Epsilon   float32 // the LDP budget per delta
	Retention time.Duration
	Settings  store.Settings
}

type reasonCount struct {
	Reason string
	N      uint64
}

func (c *Console) handleOverview(w http.ResponseWriter, r *http.Request, p *page) {
	key := p.Site.Key
	o := overview{Privacy: p.Site.Privacy.String(), LDP: p.Site.Privacy == wire.PrivacyLDP, Epsilon: p.Site.Epsilon,
		Retention: c.agg.Retention(), Leading: c.agg.Leading()}
	o.Version, o.Published = c.agg.Current(key)
	o.Info, _ = c.agg.Info(key)
	vs, err := c.versions(r.Context(), key, timelineVersions)
	if err != nil {
		p.Error = "The store could not be read: " + err.Error()
	}
	o.Timeline = timelineSVG(vs)
	for i := len(vs) - 1; i >= 0 && len(o.Recent) < 8; i-- {
		o.Recent = append(o.Recent, vs[i])
	}
	if c.syncCounts != nil {
		for reason, n := range c.syncCounts(key) {
			o.Syncs = append(o.Syncs, reasonCount{reason, n})
			if reason == "accepted" || reason == "duplicate" {
				o.Accepted += n
			} else {
				o.Refused += n
			}
		}
		slices.SortFunc(o.Syncs, func(a, b reasonCount) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Reason, b.Reason)) })
	}
	if c.syncHours != nil {
		o.Hours = hoursSVG(c.syncHours(key))
	}
	if o.Settings, err = c.levers.Read(r.Context(), key); err != nil {
		p.Error = "The levers could not be read: " + err.Error()
	}
	p.Title, p.Tab, p.D = "Overview", "overview", o
	c.render(w, http.StatusOK, "overview", p)
}

// armRow is one arm's counts and rates on the experiment page.
type armRow struct {
	Name                            string
	Label                           string
	Impressions, Clicks, Conversion uint64
	Deltas                          uint64
	CTR, Conv                       Interval
}

// upliftRow is the AI arm against another on one rate.
type upliftRow struct {
	Rate, Against string
	U             api.Uplift
	Relative      string // "+12.3%", or "n/a" against a zero rate
	RelLow        string // the interval of the absolute difference, relative to the other arm's rate
	RelHigh       string
}

type experiment struct {
	Wired     bool
	Released  time.Time
	Deltas    uint64
	Arms      []armRow
	Enough    bool
	Need      string
	Uplifts   []upliftRow
	Holdout   float64
	SRMTested bool
	SRMChi2   float64
	SRMP      float64
	SRM       bool
	CTRChart  template.HTML
	ConvChart template.HTML
	Versions  []versionRow // the AI arm against the holdout by model version, newest first
}

// versionRow is the click-through of the AI and holdout arms of the
// devices that ranked with one model version.
type versionRow struct {
	Version         uint32
	Treatment, Hold Interval
	TImp, HImp      uint64
	Relative        string
}

// maxVersionRows bounds the experiment page's table by version.
const maxVersionRows = 20

// armLabels name the arms for a site owner.
var armLabels = map[wire.Arm]string{wire.ArmTreatment: "AI (treatment)", wire.ArmHoldout: "Holdout (default order)",
	wire.ArmRules: "Rules only"}

func (c *Console) handleExperiment(w http.ResponseWriter, r *http.Request, p *page) {
	e := experiment{Holdout: float64(c.levers.Site(p.Site).Holdout)} // the owner may have changed it (rules page)
	p.Title, p.Tab = "Is it winning", "experiment"
	if c.released != nil {
		e.Wired = true
		byVersion, n, at, err := c.released(p.Site.Key)
		if err != nil {
			p.Error = "The counts could not be read: " + err.Error()
		}
		e.Deltas, e.Released = n, at
		var total aggregate.Arms
		for _, arms := range byVersion {
			total.Add(&arms)
		}
		c.judge(&e, &total)
		e.Versions = byVersionRows(byVersion)
	}
	p.D = e
	c.render(w, http.StatusOK, "experiment", p)
}

// judge fills the experiment's rows, charts and verdicts from the released
// totals.
func (c *Console) judge(e *experiment, total *aggregate.Arms) {
	var ctr, conv []armBar
	for i, a := range total {
		arm := wire.Arm(i)
		row := armRow{Name: arm.String(), Label: armLabels[arm], Impressions: a.Impressions, Clicks: a.Clicks,
			Conversion: a.Conversions, Deltas: a.Deltas, CTR: Wilson(a.Clicks, a.Impressions), Conv: Wilson(a.Conversions, a.Impressions)}
		e.Arms = append(e.Arms, row)
		if a.Impressions > 0 {
			ctr = append(ctr, armBar{row.Label, row.CTR})
			conv = append(conv, armBar{row.Label, row.Conv})
		}
	}
	e.CTRChart = armsSVG("ctr", "Click-through rate per arm, with 95% intervals", ctr)
	e.ConvChart = armsSVG("conv", "Conversions per impression per arm, with 95% intervals", conv)
	t, h := total[wire.ArmTreatment], total[wire.ArmHoldout]
	e.SRMChi2, e.SRMP, e.SRMTested = SRM(t.Deltas, h.Deltas, e.Holdout)
	e.SRM = e.SRMTested && e.SRMP < SRMThreshold
	switch {
	case e.Holdout <= 0:
		e.Need = "The site has no holdout share: there is no control to compare the AI arm with."
	case min(t.Impressions, h.Impressions) < c.minImpressions || min(t.Deltas, h.Deltas) < c.minDeltas:
		e.Need = fmt.Sprintf("Not enough data yet: a verdict needs %d impressions and %d deltas in both the AI and the holdout arm "+
			"(now %d and %d impressions, %d and %d deltas).", c.minImpressions, c.minDeltas, t.Impressions, h.Impressions, t.Deltas, h.Deltas)
	default:
		e.Enough = true
	}
	for _, against := range []wire.Arm{wire.ArmHoldout, wire.ArmRules} {
		o := total[against]
		for _, rate := range []struct {
			name     string
			got, had uint64
		}{{"Click-through", t.Clicks, o.Clicks}, {"Conversion", t.Conversions, o.Conversions}} {
			u, ok := api.Compare(rate.got, t.Impressions, rate.had, o.Impressions)
			if !ok {
				continue
			}
			if against == wire.ArmHoldout {
				u.Guard(total, e.Holdout)
			} else {
				u.Significant = u.Significant && !e.SRM
			}
			row := upliftRow{Rate: rate.name, Against: armLabels[against], U: u, Relative: "n/a", RelLow: "n/a", RelHigh: "n/a"}
			if u.Relative != nil {
				row.Relative = fmt.Sprintf("%+.1f%%", 100**u.Relative)
				row.RelLow = fmt.Sprintf("%+.1f%%", 100*u.CI95[0]/u.Holdout)
				row.RelHigh = fmt.Sprintf("%+.1f%%", 100*u.CI95[1]/u.Holdout)
			}
			e.Uplifts = append(e.Uplifts, row)
		}
	}
}

// byVersionRows returns the AI arm's click-through against the holdout's
// for each model version with impressions in both, newest first.
func byVersionRows(byVersion map[uint32]aggregate.Arms) []versionRow {
	var rows []versionRow
	for v, arms := range byVersion {
		t, h := arms[wire.ArmTreatment], arms[wire.ArmHoldout]
		if t.Impressions == 0 || h.Impressions == 0 {
			continue
		}
		row := versionRow{Version: v, Treatment: Wilson(t.Clicks, t.Impressions), Hold: Wilson(h.Clicks, h.Impressions),
			TImp: t.Impressions, HImp: h.Impressions, Relative: "n/a"}
		if u, ok := api.Compare(t.Clicks, t.Impressions, h.Clicks, h.Impressions); ok && u.Relative != nil {
			row.Relative = fmt.Sprintf("%+.1f%%", 100**u.Relative)
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b versionRow) int { return cmp.Compare(b.Version, a.Version) })
	return rows[:min(len(rows), maxVersionRows)]
}

// learned is the items of one version, decoded once.
type learned struct {
	version uint32
	items   []wire.ItemWeights // by popularity, descending
	byID    map[string]*wire.ItemWeights
}

// topItems is how many popular items the page lists.
const topItems = 20

type learnedPage struct {
	Version  uint32
	Pinned   bool
	Items    int
	Top      []wire.ItemWeights
	Query    string
	Found    *wire.ItemWeights
	Searched bool
	Reason   string
	Earlier  []uint32 // versions to compare with, newest first
	Since    *uint32  // the version compared with
	Changes  []itemChange
	Changed  int // items that changed in all
}

// itemChange is how one item differs between two versions.
type itemChange struct {
	ID           string
	Was, Now     float32 // popularity
	Added, Gone  bool    // published in the newer version only, the older only
	Gained, Lost []string
	magnitude    float32
}

// maxChanges is how many changed items the page lists.
const maxChanges = 30

// diff returns how the items of b differ from those of a, the largest
// changes first, and how many items changed.
func diff(a, b *learned) ([]itemChange, int) {
	var out []itemChange
	seen := map[string]bool{}
	for _, it := range b.items {
		seen[it.ID] = true
		ch := itemChange{ID: it.ID, Now: it.Pop}
		old := a.byID[it.ID]
		if old == nil {
			ch.Added = true
		} else {
			ch.Was = old.Pop
		}
		ch.Gained, ch.Lost = neighbourDiff(old, &it)
		if ch.Added || ch.Was != ch.Now || len(ch.Gained)+len(ch.Lost) > 0 {
			out = append(out, ch)
		}
	}
	for _, it := range a.items {
		if !seen[it.ID] {
			ch := itemChange{ID: it.ID, Was: it.Pop, Gone: true}
			ch.Gained, ch.Lost = neighbourDiff(&it, nil)
			out = append(out, ch)
		}
	}
	for i := range out {
		ch := &out[i]
		d := ch.Now - ch.Was
		if d < 0 {
			d = -d
		}
		ch.magnitude = d + 0.1*float32(len(ch.Gained)+len(ch.Lost))
		if ch.Added || ch.Gone {
			ch.magnitude += 1
		}
	}
	slices.SortFunc(out, func(x, y itemChange) int {
		return cmp.Or(cmp.Compare(y.magnitude, x.magnitude), strings.Compare(x.ID, y.ID))
	})
	return out[:min(len(out), maxChanges)], len(out)
}

// neighbourDiff returns the neighbours b has and a has not, and those a
// has and b has not (either may be nil: no item).
func neighbourDiff(a, b *wire.ItemWeights) (gained, lost []string) {
	in := func(it *wire.ItemWeights) map[string]bool {
		m := map[string]bool{}
		if it != nil {
			for _, n := range it.Next {
				m[n.ID] = true
			}
		}
		return m
	}
	ina, inb := in(a), in(b)
	if b != nil {
		for _, n := range b.Next {
			if !ina[n.ID] {
				gained = append(gained, n.ID)
			}
		}
	}
	if a != nil {
		for _, n := range a.Next {
			if !inb[n.ID] {
				lost = append(lost, n.ID)
			}
		}
	}
	return gained, lost
}

// handleLearned lists the most popular items of the version devices get,
// and an item's neighbours with the reason a device would give.
func (c *Console) handleLearned(w http.ResponseWriter, r *http.Request, p *page) {
	key := p.Site.Key
	p.Title, p.Tab = "What it learned", "learned"
	v, ok := c.agg.Current(key)
	lp := learnedPage{Query: strings.TrimSpace(r.URL.Query().Get("item"))}
	if pin, pinned := c.levers.Pin(key); pinned && pin < v.Number {
		if pv, err := c.st.Version(r.Context(), key, pin); err == nil {
			v, lp.Pinned = pv, true
		}
	}
	if ok {
		l, err := c.load(r.Context(), v)
		if err != nil {
			p.Error = "The model could not be read: " + err.Error()
		} else {
			lp.Version, lp.Items = l.version, len(l.items)
			lp.Top = l.items[:min(topItems, len(l.items))]
			if lp.Query != "" {
				lp.Searched = true
				lp.Found = l.byID[lp.Query]
				lp.Reason = fmt.Sprintf("Because you viewed %s", lp.Query)
			}
			for n := int64(v.Number) - 1; n >= 0 && len(lp.Earlier) < 50; n-- {
				lp.Earlier = append(lp.Earlier, uint32(n))
			}
			if since, err := strconv.ParseUint(r.URL.Query().Get("since"), 10, 32); err == nil && uint32(since) < v.Number {
				if err := c.compare(r.Context(), &lp, l, key, uint32(since)); err != nil {
					p.Error = "The earlier version could not be read: " + err.Error()
				}
			}
		}
	}
	p.D = lp
	c.render(w, http.StatusOK, "learned", p)
}

// compare fills the page's changes since version n.
func (c *Console) compare(ctx context.Context, lp *learnedPage, cur *learned, key string, n uint32) error {
	v, err := c.st.Version(ctx, key, n)
	if err != nil {
		return err
	}
	old, err := c.decode(ctx, v)
	if err != nil {
		return err
	}
	lp.Since = &n
	lp.Changes, lp.Changed = diff(old, cur)
	return nil
}

// load decodes a version's shards, or returns those decoded last.
func (c *Console) load(ctx context.Context, v store.Version) (*learned, error) {
	c.learnedMu.Lock()
	l := c.learned[v.Site]
	c.learnedMu.Unlock()
	if l != nil && l.version == v.Number {
		return l, nil
	}
	l, err := c.decode(ctx, v)
	if err != nil {
		return nil, err
	}
	c.learnedMu.Lock()
	c.learned[v.Site] = l
	c.learnedMu.Unlock()
	return l, nil
}

// decode decodes a version's shards.
func (c *Console) decode(ctx context.Context, v store.Version) (*learned, error) {
	l := &learned{version: v.Number, byID: map[string]*wire.ItemWeights{}}
	for _, sh := range v.Shards {
		b, err := c.st.Blob(ctx, sh.Hash)
		if err != nil {
			return nil, err
		}
		var ws wire.Weights
		if err := wire.Unmarshal(b, &ws, "weights"); err != nil {
			return nil, err
		}
		l.items = append(l.items, ws.Items...)
	}
	slices.SortFunc(l.items, func(a, b wire.ItemWeights) int {
		return cmp.Or(cmp.Compare(b.Pop, a.Pop), strings.Compare(a.ID, b.ID))
	})
	for i := range l.items {
		l.byID[l.items[i].ID] = &l.items[i]
	}
	return l, nil
}

// leversPage is the data of the levers page.
type leversPage struct {
	Settings store.Settings
	Current  uint32
	Versions []uint32 // newest first, for the pin
	Audit    []store.AuditEntry
	From, To string // the purge form's default window, the last whole hour
}

// notices are the levers' confirmations, by the done parameter.
var notices = map[string]string{
	"pin":    "Pinned: devices get the pinned version on their next manifest fetch.",
	"unpin":  "Unpinned: devices get the newest version again.",
	"pause":  "Learning paused: deltas are still counted, no new version is published.",
	"resume": "Learning resumed.",
	"purge":  "Purged: the window's deltas are deleted and a rebuilt version is published.",
}

// formTime is the layout of the purge form's datetime-local fields (UTC).
const formTime = "2006-01-02T15:04"

func (c *Console) handleLevers(w http.ResponseWriter, r *http.Request, p *page) {
	c.renderLevers(w, r, p, http.StatusOK)
}

func (c *Console) renderLevers(w http.ResponseWriter, r *http.Request, p *page, code int) {
	key := p.Site.Key
	p.Title, p.Tab = "Levers", "levers"
	if p.Notice == "" {
		p.Notice = notices[r.URL.Query().Get("done")]
	}
	lp := leversPage{}
	var err error
	if lp.Settings, err = c.levers.Read(r.Context(), key); err != nil {
		p.Error = "The levers could not be read: " + err.Error()
	}
	for i := len(lp.Settings.Audit) - 1; i >= 0; i-- {
		lp.Audit = append(lp.Audit, lp.Settings.Audit[i])
	}
	if cur, ok := c.agg.Current(key); ok {
		lp.Current = cur.Number
		for v := int64(cur.Number); v >= 0 && len(lp.Versions) < 50; v-- {
			lp.Versions = append(lp.Versions, uint32(v))
		}
	}
	to := c.now().UTC().Truncate(time.Hour)
	lp.From, lp.To = to.Add(-time.Hour).Format(formTime), to.Format(formTime)
	p.D = lp
	c.render(w, code, "levers", p)
}

// handleLever pulls a lever and writes it to the audit log.
func (c *Console) handleLever(w http.ResponseWriter, r *http.Request, p *page) {
	key, lever := p.Site.Key, r.PathValue("lever")
	entry := store.AuditEntry{At: c.now().UTC(), Who: p.Session.who(), Action: lever}
	var change func(*store.Settings) error
	switch lever {
	case "pin":
		n, err := strconv.ParseUint(r.PostFormValue("version"), 10, 32)
		cur, _ := c.agg.Current(key)
		if err != nil || uint32(n) > cur.Number {
			c.refuse(w, r, p, fmt.Errorf("%w: pin version %q: want a published version, 0 to %d", ErrLever, r.PostFormValue("version"), cur.Number))
			return
		}
		if _, err := c.st.Version(r.Context(), key, uint32(n)); err != nil {
			c.refuse(w, r, p, fmt.Errorf("%w: version %d: %v", ErrLever, n, err))
			return
		}
		entry.Detail = fmt.Sprintf("v%d (the newest was v%d)", n, cur.Number)
		change = func(s *store.Settings) error { s.Pinned, s.Pin = true, uint32(n); return nil }
	case "unpin":
		change = func(s *store.Settings) error {
			entry.Detail = fmt.Sprintf("was v%d", s.Pin)
			s.Pinned, s.Pin = false, 0
			return nil
		}
	case "pause", "resume":
		change = func(s *store.Settings) error { s.Paused = lever == "pause"; return nil }
	case "purge":
		from, err1 := time.ParseInLocation(formTime, r.PostFormValue("from"), time.UTC)
		to, err2 := time.ParseInLocation(formTime, r.PostFormValue("to"), time.UTC)
		if err1 != nil || err2 != nil {
			c.refuse(w, r, p, fmt.Errorf("%w: purge window %q to %q: want two times as YYYY-MM-DDTHH:MM, UTC", ErrLever,
				r.PostFormValue("from"), r.PostFormValue("to")))
			return
		}
		rep, err := c.agg.Purge(r.Context(), key, from, to)
		if err != nil {
			c.refuse(w, r, p, fmt.Errorf("%w: purge: %v", ErrLever, err))
			return
		}
		entry.Detail = fmt.Sprintf("%s to %s: %d deltas deleted, v%d published from %d remaining",
			rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), rep.Deleted, rep.Version.Number, rep.Folded)
		change = func(*store.Settings) error { return nil }
	default:
		http.NotFound(w, r)
		return
	}
	if _, err := c.levers.Change(r.Context(), key, entry, change); err != nil {
		c.log.Error("console: lever", "site", key, "lever", lever, "err", err)
		c.refuse(w, r, p, fmt.Errorf("%w: %s: %v", ErrLever, lever, err))
		return
	}
	c.log.Info("console: lever", "site", key, "lever", lever, "who", entry.Who, "detail", entry.Detail)
	http.Redirect(w, r, "/console/sites/"+url.PathEscape(key)+"/levers?done="+lever, http.StatusSeeOther)
}

// refuse shows the levers page with why a lever was not pulled.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, p *page, err error) {
	code := http.StatusUnprocessableEntity
	if !errors.Is(err, ErrLever) {
		code = http.StatusInternalServerError
	}
	p.Error = err.Error()
	c.renderLevers(w, r, p, code)
}
