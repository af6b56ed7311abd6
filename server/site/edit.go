package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/tailorhq/tailor/sdk/wire"
)

// Edit is the part of a site's configuration its owner may change from
// the console: the business rules and the slot settings. The key, the
// origins, the privacy mode and the owner credential stay the operator's
// (the --sites file, or the console's sites page for the admin).
//
// It is stored as JSON in the site's store.Settings, in the --sites file's
// own form ("rules": [{"id": ..., "if": [...], "then": {...}}]), so an
// owner who knows the file knows the form.
//
//	e := s.Edit()
//	e.Rules[0].Then.Weight = 2
//	edited, err := s.Edited(e) // validated as a file's site is
type Edit struct {
	Explore   float32
	Holdout   float32
	Diversity float32
	Replenish map[string]uint16
	Rules     []wire.Rule
}

// Edit returns the site's editable part (a copy).
func (s *Site) Edit() Edit {
	return Edit{Explore: s.Explore, Holdout: s.Holdout, Diversity: s.Diversity,
		Replenish: maps.Clone(s.Replenish), Rules: slices.Clone(s.Rules)}
}

// Edited returns a copy of the site with e applied, validated as a
// site of the --sites file is (ErrInvalid): what the console saves,
// every device accepts.
func (s *Site) Edited(e Edit) (*Site, error) {
	c := *s
	c.Explore, c.Holdout, c.Diversity = e.Explore, e.Holdout, e.Diversity
	c.Replenish, c.Rules = maps.Clone(e.Replenish), slices.Clone(e.Rules)
	if len(c.Replenish) == 0 {
		c.Replenish = nil
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// editFile is Edit's JSON: the --sites file's field names.
type editFile struct {
	Explore   float32           `json:"explore"`
	Holdout   float32           `json:"holdout"`
	Diversity float32           `json:"diversity"`
	Replenish map[string]uint16 `json:"replenish,omitempty"`
	Rules     []fileRule        `json:"rules"`
}

// MarshalJSON writes the edit in the --sites file's form.
func (e Edit) MarshalJSON() ([]byte, error) {
	f := editFile{Explore: e.Explore, Holdout: e.Holdout, Diversity: e.Diversity, Replenish: e.Replenish,
		Rules: rulesFile(e.Rules)}
	return json.Marshal(&f)
}

// UnmarshalJSON reads an edit in the --sites file's form; unknown fields
// are errors.
func (e *Edit) UnmarshalJSON(b []byte) error {
	var f editFile
	if err := decodeStrict(bytes.NewReader(b), &f, "edit"); err != nil {
		return err
	}
	*e = Edit{Explore: f.Explore, Holdout: f.Holdout, Diversity: f.Diversity, Replenish: f.Replenish, Rules: wireRules(f.Rules)}
	return nil
}

// MaxRulesJSON bounds the rules a form may send, in bytes.
const MaxRulesJSON = 256 << 10

// ParseRules reads a list of rules in the --sites file's form
// (`[{"id": "r1", "segment": ..., "if": [...], "then": {...}}]`); unknown
// fields are errors, so a typo does not silently drop a condition. The
// rules are checked when the site is (Edited).
func ParseRules(b []byte) ([]wire.Rule, error) {
	if len(b) > MaxRulesJSON {
		return nil, fmt.Errorf("%w: rules of %d bytes: at most %d", ErrInvalid, len(b), MaxRulesJSON)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var rs []fileRule
	if err := decodeStrict(bytes.NewReader(b), &rs, "rules"); err != nil {
		return nil, err
	}
	return wireRules(rs), nil
}

// RulesJSON writes rules in the --sites file's form, indented for a
// person to edit.
func RulesJSON(rs []wire.Rule) []byte {
	b, err := json.MarshalIndent(rulesFile(rs), "", "  ")
	if err != nil { // plain strings, numbers and slices: cannot fail
		panic(err)
	}
	return b
}

func rulesFile(rs []wire.Rule) []fileRule {
	out := make([]fileRule, 0, len(rs))
	for _, r := range rs {
		fr := fileRule{ID: r.ID, Segment: r.Segment, Then: fileAction(r.Then)}
		for _, c := range r.If {
			fr.If = append(fr.If, fileCond(c))
		}
		out = append(out, fr)
	}
	return out
}

func wireRules(rs []fileRule) []wire.Rule {
	var out []wire.Rule
	for _, r := range rs {
		wr := wire.Rule{ID: r.ID, Segment: r.Segment, Then: wire.Action(r.Then)}
		for _, c := range r.If {
			wr.If = append(wr.If, wire.Cond(c))
		}
		out = append(out, wr)
	}
	return out
}
