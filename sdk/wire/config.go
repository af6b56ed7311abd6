package wire

import (
	"github.com/tailorhq/tailor/sdk/internal/order"
	"github.com/tailorhq/tailor/sdk/msgp"
)

// Privacy is a site's privacy mode.
type Privacy uint8

// Privacy modes. In every mode raw events stay on the device.
const (
	PrivacyLocal     Privacy = iota // nothing leaves the device; weights are still downloaded
	PrivacyFederated                // clipped deltas, aggregated with a minimum cohort
	PrivacyLDP                      // as federated, with noise added on the device
)

var privacyNames = [...]string{"local", "federated", "federated+ldp"}

// String returns the mode's wire name.
func (p Privacy) String() string { return privacyNames[p] }

// Config is what a device needs of its site's configuration. The server
// ships it with the model.
type Config struct {
	Site      string
	Privacy   Privacy
	Epsilon   float32           // LDP budget per delta; used when Privacy is PrivacyLDP
	DayBudget float32           // LDP budget a device may spend per UTC day; 0: DefaultDayDeltas × Epsilon
	Explore   float32           // share of rankings that promote one random item, 0-1
	Holdout   float32           // share of devices that see the default order, 0-1
	Diversity float32           // penalty, 0-1, on repeating a category near the top
	Replenish map[string]uint16 // category → days after a purchase in it to suggest what goes with it (refills)
	Rules     []Rule
}

// Rule is a site owner's business rule: when all of If hold, Then applies.
// A rule with a Segment name is a traditional segment rule: it applies in
// rules-only mode, the baseline, and not next to the learned model, which
// replaces it; rules without one (filters, pins, boosts) apply in both.
type Rule struct {
	ID      string
	Segment string
	If      []Cond
	Then    Action
}

// Condition operators.
const (
	OpIn      = "in"      // the field has any of Values
	OpNotIn   = "not_in"  // the field has none of Values
	OpBetween = "between" // the field's number is within [Min, Max]
)

// Cond tests one field of the visitor's profile or context. Fields:
// viewed.category, clicked.category, carted.category, purchased.category,
// viewed.tag, purchased.tag, searched, ctx.hour, ctx.month, ctx.weekday,
// ctx.device, ctx.referrer, ctx.page, ctx.region, visits, attr.NAME.
// Search terms are kept lower-cased, so searched values must be written in
// lower case; ctx.month not_in holds when the month is unknown.
type Cond struct {
	Field    string
	Op       string
	Values   []string
	Min, Max float32
}

// Action kinds.
const (
	DoBoost  = "boost"  // add Weight to matching items' scores
	DoBury   = "bury"   // subtract Weight
	DoPin    = "pin"    // put matching items first
	DoFilter = "filter" // remove matching items
)

// Action is what a rule does to the items its selector matches.
type Action struct {
	Do         string
	IDs        []string
	Categories []string
	Tags       []string
	Weight     float32
}

var condFields = []string{"viewed.category", "clicked.category", "carted.category", "purchased.category",
	"viewed.tag", "purchased.tag", "searched", "ctx.hour", "ctx.month", "ctx.weekday", "ctx.device",
	"ctx.referrer", "ctx.page", "ctx.region", "visits"}

// KnownField reports whether f is a condition field the guest evaluates.
func KnownField(f string) bool {
	if len(f) > len("attr.") && f[:len("attr.")] == "attr." {
		return true
	}
	for _, k := range condFields {
		if k == f {
			return true
		}
	}
	return false
}

// DefaultDayDeltas is how many deltas' worth of ε a device spends per day
// when the site sets no DayBudget.
const DefaultDayDeltas = 4

// EncodeTo writes the configuration ("budget" only when set, so that
// configurations without one keep their bytes).
func (c *Config) EncodeTo(w *msgp.Writer) {
	n := 9
	if c.DayBudget != 0 {
		n++
	}
	w.MapHeader(n)
	w.String("schema")
	w.Uint(ConfigSchema)
	w.String("site")
	w.String(c.Site)
	w.String("privacy")
	w.String(c.Privacy.String())
	w.String("eps")
	w.Float32(c.Epsilon)
	w.String("explore")
	w.Float32(c.Explore)
	w.String("holdout")
	w.Float32(c.Holdout)
	w.String("diversity")
	w.Float32(c.Diversity)
	w.String("replenish")
	w.MapHeader(len(c.Replenish))
	for _, k := range order.Keys(c.Replenish) {
		w.String(k)
		w.Uint(uint64(c.Replenish[k]))
	}
	w.String("rules")
	w.ArrayHeader(len(c.Rules))
	for i := range c.Rules {
		c.Rules[i].EncodeTo(w)
	}
	if c.DayBudget != 0 {
		w.String("budget")
		w.Float32(c.DayBudget)
	}
}

// DecodeFrom reads a configuration.
func (c *Config) DecodeFrom(r *msgp.Reader) {
	n := r.MapMax(32)
	schema := uint64(0)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "schema":
			schema = r.Uint()
		case "site":
			c.Site = r.StringMax(MaxIDLen)
		case "privacy":
			c.Privacy = Privacy(index(r, privacyNames[:]))
		case "eps":
			c.Epsilon = r.Float32()
			if c.Epsilon < 0 {
				r.Fail(&fieldError{"config eps", ErrInvalid})
			}
		case "budget":
			c.DayBudget = r.Float32()
			if c.DayBudget < 0 {
				r.Fail(&fieldError{"config budget", ErrInvalid})
			}
		case "explore":
			c.Explore = unit(r)
		case "holdout":
			c.Holdout = unit(r)
		case "diversity":
			c.Diversity = unit(r)
		case "replenish":
			m := r.MapMax(MaxRules)
			c.Replenish = make(map[string]uint16, m)
			for j := 0; j < m; j++ {
				k := r.StringMax(MaxIDLen)
				c.Replenish[k] = uint16(r.UintMax(3650))
			}
		case "rules":
			c.Rules = make([]Rule, r.ArrayMax(MaxRules))
			for j := range c.Rules {
				c.Rules[j].DecodeFrom(r)
			}
		default:
			r.Skip()
		}
	}
	if r.Err() == nil && schema != ConfigSchema {
		r.Fail(&fieldError{"config", ErrSchema})
	}
	if c.Privacy == PrivacyLDP && c.Epsilon <= 0 {
		r.Fail(&fieldError{"config eps (federated+ldp needs a budget)", ErrInvalid})
	}
}

// EncodeTo writes the rule.
func (ru *Rule) EncodeTo(w *msgp.Writer) {
	w.MapHeader(4)
	w.String("id")
	w.String(ru.ID)
	w.String("segment")
	w.String(ru.Segment)
	w.String("if")
	w.ArrayHeader(len(ru.If))
	for _, c := range ru.If {
		w.MapHeader(5)
		w.String("f")
		w.String(c.Field)
		w.String("op")
		w.String(c.Op)
		w.String("v")
		WriteStrings(w, c.Values)
		w.String("min")
		w.Float32(c.Min)
		w.String("max")
		w.Float32(c.Max)
	}
	w.String("then")
	a := &ru.Then
	w.MapHeader(5)
	w.String("do")
	w.String(a.Do)
	w.String("ids")
	WriteStrings(w, a.IDs)
	w.String("cat")
	WriteStrings(w, a.Categories)
	w.String("tag")
	WriteStrings(w, a.Tags)
	w.String("w")
	w.Float32(a.Weight)
}

// DecodeFrom reads a rule and checks its fields and operators.
func (ru *Rule) DecodeFrom(r *msgp.Reader) {
	n := r.MapMax(8)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "id":
			ru.ID = r.StringMax(MaxIDLen)
		case "segment":
			ru.Segment = r.StringMax(MaxTextLen)
		case "if":
			ru.If = make([]Cond, r.ArrayMax(MaxConds))
			for j := range ru.If {
				ru.If[j].decodeFrom(r)
			}
		case "then":
			ru.Then.decodeFrom(r)
		default:
			r.Skip()
		}
	}
	if ru.ID == "" {
		r.Fail(&fieldError{"rule id", ErrInvalid})
	}
	if r.Err() == nil && ru.Then.Do == "" {
		r.Fail(&fieldError{"rule action", ErrInvalid})
	}
}

func (c *Cond) decodeFrom(r *msgp.Reader) {
	n := r.MapMax(8)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "f":
			c.Field = r.StringMax(MaxIDLen)
		case "op":
			c.Op = oneOf(r, OpIn, OpNotIn, OpBetween)
		case "v":
			c.Values = readStrings(r, MaxValues, MaxTextLen)
		case "min":
			c.Min = r.Float32()
		case "max":
			c.Max = r.Float32()
		default:
			r.Skip()
		}
	}
	if r.Err() == nil && !KnownField(c.Field) {
		r.Fail(&fieldError{"rule field " + c.Field, ErrInvalid})
	}
	if r.Err() == nil && c.Op == "" {
		r.Fail(&fieldError{"rule op", ErrInvalid})
	}
}

func (a *Action) decodeFrom(r *msgp.Reader) {
	n := r.MapMax(8)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "do":
			a.Do = oneOf(r, DoBoost, DoBury, DoPin, DoFilter)
		case "ids":
			a.IDs = readIDs(r, MaxValues)
		case "cat":
			a.Categories = readIDs(r, MaxValues)
		case "tag":
			a.Tags = readIDs(r, MaxValues)
		case "w":
			a.Weight = r.Float32()
		default:
			r.Skip()
		}
	}
	if r.Err() == nil && a.Do == "" {
		r.Fail(&fieldError{"rule action", ErrInvalid})
	}
}

func readStrings(r *msgp.Reader, max, maxLen int) []string {
	n := r.ArrayMax(max)
	if n == 0 {
		return nil
	}
	s := make([]string, n)
	for i := range s {
		s[i] = r.StringMax(maxLen)
	}
	return s
}
