package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tailorhq/tailor/sdk/model"
	"github.com/tailorhq/tailor/sdk/profile"
	"github.com/tailorhq/tailor/sdk/rules"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/site"
	"github.com/tailorhq/tailor/server/store"
)

// Bounds of the rules page's preview: it ranks what a person typed.
const (
	maxPreviewItems = 200
	maxFormBytes    = site.MaxRulesJSON + 64<<10
)

// rulesForm is the rules page's form: the site's rules and slot settings
// as typed, and the context of the preview.
type rulesForm struct {
	Rules     string
	Explore   string
	Holdout   string
	Diversity string
	Replenish string // "category days" lines

	Hour, Month, Weekday string
	Device, Referrer     string
	Page                 string
	Attrs                string // "key=value" lines
	Viewed               string // "id category tag,tag" lines: what the visitor viewed
	Candidates           string // the same, in the slot's default order
}

// previewRow is one ranked item of the preview.
type previewRow struct {
	Pos      int
	ID       string
	Category string
	Source   string
	Rule     string
}

// rulesPage is the data of the rules page.
type rulesPage struct {
	Form      rulesForm
	Edited    bool   // the owner's configuration, not the file's, is served
	FromFile  bool   // the site is the --sites file's
	Version   uint32 // the newest version
	Published bool   // the newest version carries the saved configuration
	Pinned    bool
	Pin       uint32
	Devices   []string
	Referrers []string
	Pages     []string

	Previewed bool
	Preview   []previewRow
	Holding   []string // the rules whose conditions hold in the preview's context
	Filtered  int      // candidates a rule removed
}

// The values the loader sends for the context's fields (wire.Context).
var (
	deviceNames   = []string{"", "desktop", "mobile", "tablet"}
	referrerNames = []string{"", "direct", "search", "social", "email", "ads", "internal", "other"}
	pageNames     = []string{"", "home", "product", "category", "article", "search", "cart", "other"}
)

// formOf fills the form from a site's configuration, the preview's
// moment with now (UTC).
func formOf(s *site.Site, now time.Time) rulesForm {
	now = now.UTC()
	f := rulesForm{Rules: string(site.RulesJSON(s.Rules)), Explore: num(s.Explore), Holdout: num(s.Holdout),
		Diversity: num(s.Diversity), Hour: strconv.Itoa(now.Hour()), Month: strconv.Itoa(int(now.Month())),
		Weekday: strconv.Itoa(int(now.Weekday()))}
	cats := make([]string, 0, len(s.Replenish))
	for c := range s.Replenish {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	for _, c := range cats {
		f.Replenish += fmt.Sprintf("%s %d\n", c, s.Replenish[c])
	}
	return f
}

func num(v float32) string { return strconv.FormatFloat(float64(v), 'f', -1, 32) }

// handleRules shows the site's rules and slot settings in a form.
func (c *Console) handleRules(w http.ResponseWriter, r *http.Request, p *page) {
	st, err := c.levers.Read(r.Context(), p.Site.Key)
	if err != nil {
		p.Error = "The settings could not be read: " + err.Error()
	}
	rp := c.rulesPage(p, st)
	rp.Form = formOf(c.levers.edited(p.Site, st), c.now())
	if r.URL.Query().Get("done") == "rules" {
		p.Notice = "Saved: devices get the new configuration with the next version, published within seconds."
	} else if r.URL.Query().Get("done") == "reset" {
		p.Notice = "Reset: devices get the provisioned configuration again with the next version."
	}
	c.renderRules(w, http.StatusOK, p, rp)
}

func (c *Console) rulesPage(p *page, st store.Settings) *rulesPage {
	state, _ := c.registry.State(p.Site.Key)
	rp := &rulesPage{Edited: len(st.Config) > 0, FromFile: state.FromFile, Pinned: st.Pinned, Pin: st.Pin,
		Devices: deviceNames, Referrers: referrerNames, Pages: pageNames}
	if cur, ok := c.agg.Current(p.Site.Key); ok {
		rp.Version = cur.Number
		rp.Published = cur.Config == store.Hash(c.levers.edited(p.Site, st).ConfigBytes())
	}
	return rp
}

func (c *Console) renderRules(w http.ResponseWriter, code int, p *page, rp *rulesPage) {
	p.Title, p.Tab, p.D = "Rules", "rules", rp
	c.render(w, code, "rules", p)
}

// handleRulesPost previews, saves or resets the site's rules and slot
// settings. A save is validated as the --sites file is, written to the
// site's settings with an audit entry, and published by the aggregator as
// a configuration version.
func (c *Console) handleRulesPost(w http.ResponseWriter, r *http.Request, p *page) {
	key := p.Site.Key
	st, err := c.levers.Read(r.Context(), key)
	if err != nil {
		p.Error = "The settings could not be read: " + err.Error()
		c.renderRules(w, http.StatusInternalServerError, p, c.rulesPage(p, store.Settings{}))
		return
	}
	rp := c.rulesPage(p, st)
	rp.Form = readRulesForm(r)
	entry := store.AuditEntry{At: c.now().UTC(), Who: p.Session.who(), Action: "rules"}
	if r.PostFormValue("action") == "reset" {
		entry.Detail = "reset to the provisioned configuration"
		if _, err := c.levers.Change(r.Context(), key, entry, func(s *store.Settings) error { s.Config = nil; return nil }); err != nil {
			p.Error = "Not reset: " + err.Error()
			c.renderRules(w, http.StatusInternalServerError, p, rp)
			return
		}
		c.agg.Refresh()
		http.Redirect(w, r, "/console/sites/"+url.PathEscape(key)+"/rules?done=reset", http.StatusSeeOther)
		return
	}
	e, err := rp.Form.edit()
	var edited *site.Site
	if err == nil {
		edited, err = p.Site.Edited(e)
	}
	if err != nil {
		p.Error = "Not valid: " + strings.TrimPrefix(err.Error(), "site: ")
		c.renderRules(w, http.StatusUnprocessableEntity, p, rp)
		return
	}
	if r.PostFormValue("action") != "save" {
		if err := rp.preview(edited); err != nil {
			p.Error = "No preview: " + err.Error()
			c.renderRules(w, http.StatusUnprocessableEntity, p, rp)
			return
		}
		c.renderRules(w, http.StatusOK, p, rp)
		return
	}
	before := c.levers.edited(p.Site, st)
	entry.Detail = describeEdit(before, edited)
	js, err := json.Marshal(e)
	if err == nil {
		_, err = c.levers.Change(r.Context(), key, entry, func(s *store.Settings) error { s.Config = js; return nil })
	}
	if err != nil {
		c.log.Error("console: rules", "site", key, "err", err)
		p.Error = "Not saved: " + err.Error()
		c.renderRules(w, http.StatusInternalServerError, p, rp)
		return
	}
	c.log.Info("console: rules saved", "site", key, "who", entry.Who, "detail", entry.Detail)
	c.agg.Refresh() // the leader publishes at its next step; this replica may be it
	http.Redirect(w, r, "/console/sites/"+url.PathEscape(key)+"/rules?done=rules", http.StatusSeeOther)
}

// readRulesForm reads the posted form (bounded by the caller's
// MaxBytesReader).
func readRulesForm(r *http.Request) rulesForm {
	v := r.PostFormValue
	return rulesForm{Rules: v("rules"), Explore: v("explore"), Holdout: v("holdout"), Diversity: v("diversity"),
		Replenish: v("replenish"), Hour: v("hour"), Month: v("month"), Weekday: v("weekday"), Device: v("device"),
		Referrer: v("referrer"), Page: v("page"), Attrs: v("attrs"), Viewed: v("viewed"), Candidates: v("candidates")}
}

// edit parses the configuration part of the form.
func (f *rulesForm) edit() (site.Edit, error) {
	var e site.Edit
	var err error
	if e.Rules, err = site.ParseRules([]byte(f.Rules)); err != nil {
		return e, err
	}
	for _, x := range []struct {
		name string
		text string
		to   *float32
	}{{"explore", f.Explore, &e.Explore}, {"holdout", f.Holdout, &e.Holdout}, {"diversity", f.Diversity, &e.Diversity}} {
		v, err := strconv.ParseFloat(strings.TrimSpace(x.text), 32)
		if err != nil {
			return e, fmt.Errorf("%s %q is not a number", x.name, x.text)
		}
		*x.to = float32(v)
	}
	for i, line := range lines(f.Replenish) {
		if i >= wire.MaxRules {
			return e, fmt.Errorf("replenish: at most %d categories", wire.MaxRules)
		}
		fs := strings.Fields(line)
		days, err := strconv.ParseUint(fs[len(fs)-1], 10, 16)
		if len(fs) != 2 || err != nil || days == 0 || days > 3650 {
			return e, fmt.Errorf("replenish line %q: want a category and a number of days, 1-3650", line)
		}
		if e.Replenish == nil {
			e.Replenish = map[string]uint16{}
		}
		e.Replenish[fs[0]] = uint16(days)
	}
	return e, nil
}

// lines returns the non-blank lines of a text, trimmed.
func lines(text string) []string {
	var out []string
	for l := range strings.Lines(text) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// items parses "id category tag,tag" lines.
func items(what, text string) ([]wire.Item, error) {
	ls := lines(text)
	if len(ls) > maxPreviewItems {
		return nil, fmt.Errorf("%s: at most %d items", what, maxPreviewItems)
	}
	var out []wire.Item
	for _, l := range ls {
		fs := strings.Fields(l)
		it := wire.Item{ID: fs[0]}
		if len(fs) > 1 {
			it.Category = fs[1]
		}
		if len(fs) > 2 {
			it.Tags = strings.Split(strings.Join(fs[2:], ","), ",")
			it.Tags = slices.DeleteFunc(it.Tags, func(t string) bool { return t == "" })
		}
		if len(fs) > 3+wire.MaxTags || len(it.ID) > wire.MaxIDLen || len(it.Category) > wire.MaxIDLen || len(it.Tags) > wire.MaxTags {
			return nil, fmt.Errorf("%s line %q: want an id, a category and up to %d tags, each up to %d bytes", what, l, wire.MaxTags, wire.MaxIDLen)
		}
		out = append(out, it)
	}
	return out, nil
}

// preview ranks the form's candidates as a device in rules-only mode
// would, for the form's context and visitor, with the edited site's
// configuration: the guest's own ranking code (sdk/model), run here.
func (rp *rulesPage) preview(s *site.Site) error {
	f := &rp.Form
	cands, err := items("candidates", f.Candidates)
	if err != nil {
		return err
	}
	if len(cands) == 0 {
		for _, id := range s.Catalog[:min(len(s.Catalog), maxPreviewItems)] {
			cands = append(cands, wire.Item{ID: id})
		}
	}
	if len(cands) == 0 {
		return fmt.Errorf("list the slot's candidates, one per line: id, category, tags")
	}
	viewed, err := items("viewed", f.Viewed)
	if err != nil {
		return err
	}
	ctx := wire.Context{Device: f.Device, Referrer: f.Referrer, Page: f.Page}
	for _, x := range []struct {
		name     string
		text     string
		min, max uint64
		to       *uint8
	}{{"hour", f.Hour, 0, 23, &ctx.Hour}, {"month", f.Month, 0, 12, &ctx.Month}, {"weekday", f.Weekday, 0, 6, &ctx.Weekday}} {
		v, err := strconv.ParseUint(strings.TrimSpace(x.text), 10, 8)
		if err != nil || v < x.min || v > x.max {
			return fmt.Errorf("%s %q: want %d-%d", x.name, x.text, x.min, x.max)
		}
		*x.to = uint8(v)
	}
	if !slices.Contains(deviceNames, ctx.Device) || !slices.Contains(referrerNames, ctx.Referrer) || !slices.Contains(pageNames, ctx.Page) {
		return fmt.Errorf("device %q, referrer %q or page %q is not one the loader sends", ctx.Device, ctx.Referrer, ctx.Page)
	}
	var attrs []wire.Attr
	for _, l := range lines(f.Attrs) {
		k, v, ok := strings.Cut(l, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || len(k) > wire.MaxIDLen || len(v) > wire.MaxTextLen || len(attrs) >= wire.MaxAttrs {
			return fmt.Errorf("attribute %q: want key=value, at most %d of them", l, wire.MaxAttrs)
		}
		attrs = append(attrs, wire.Attr{Key: k, Value: v})
	}
	now := time.Now().UnixMilli()
	p := profile.New()
	p.Observe(&wire.Event{Kind: wire.KindAttrs, Time: now, Attrs: attrs, Ctx: ctx})
	for i := range viewed {
		p.Observe(&wire.Event{Kind: wire.KindView, Time: now, Item: &viewed[i], Ctx: ctx})
	}
	cfg := s.Config()
	req := wire.RankRequest{Slot: "preview", Candidates: cands, Time: now, Ctx: ctx, Mode: wire.ModeRules}
	res := model.Rank(model.Input{Req: &req, Profile: p, Config: &cfg, Index: &model.Index{}, Params: &model.DefaultParams, Arm: wire.ArmRules})
	byID := map[string]*wire.Item{}
	for i := range cands {
		byID[cands[i].ID] = &cands[i]
	}
	rp.Previewed, rp.Preview = true, nil
	for i, it := range res.Items {
		row := previewRow{Pos: i + 1, ID: it.ID, Source: it.Source.String()}
		if c := byID[it.ID]; c != nil {
			row.Category = c.Category
		}
		if it.Reason == wire.ReasonRule {
			row.Rule = it.Ref
		}
		rp.Preview = append(rp.Preview, row)
	}
	rp.Filtered = len(cands) - len(res.Items)
	for i := range cfg.Rules {
		if r := &cfg.Rules[i]; rules.Holds(r, p, &ctx) {
			name := r.ID
			if r.Segment != "" {
				name += " (" + r.Segment + ")"
			}
			rp.Holding = append(rp.Holding, name)
		}
	}
	return nil
}

// describeEdit is the audit log's detail of a save: what changed.
func describeEdit(before, after *site.Site) string {
	var parts []string
	old := map[string]wire.Rule{}
	for _, r := range before.Rules {
		old[r.ID] = r
	}
	var added, changed []string
	for _, r := range after.Rules {
		o, ok := old[r.ID]
		switch {
		case !ok:
			added = append(added, r.ID)
		case !reflect.DeepEqual(o, r):
			changed = append(changed, r.ID)
		}
		delete(old, r.ID)
	}
	var removed []string
	for id := range old {
		removed = append(removed, id)
	}
	slices.Sort(removed)
	for _, x := range []struct {
		what string
		ids  []string
	}{{"added", added}, {"changed", changed}, {"removed", removed}} {
		if len(x.ids) > 0 {
			parts = append(parts, fmt.Sprintf("rules %s: %s", x.what, strings.Join(x.ids, ", ")))
		}
	}
	for _, x := range []struct {
		name string
		a, b float32
	}{{"explore", before.Explore, after.Explore}, {"holdout", before.Holdout, after.Holdout}, {"diversity", before.Diversity, after.Diversity}} {
		if x.a != x.b {
			parts = append(parts, fmt.Sprintf("%s %s → %s", x.name, num(x.a), num(x.b)))
		}
	}
	if !reflect.DeepEqual(before.Replenish, after.Replenish) && (len(before.Replenish) > 0 || len(after.Replenish) > 0) {
		parts = append(parts, "replenish changed")
	}
	if len(parts) == 0 {
		return "saved unchanged"
	}
	return strings.Join(parts, "; ")
}
