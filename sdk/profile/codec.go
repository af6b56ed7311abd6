package profile

import (
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// Marshal encodes the profile for storage on the device (IndexedDB).
func (p *Profile) Marshal() []byte {
	w := msgp.NewWriter(1024)
	w.MapHeader(18)
	w.String("schema")
	w.Uint(wire.ProfileSchema)
	w.String("holdout")
	w.Bool(p.Holdout)
	w.String("drawn")
	w.Bool(p.Drawn)
	w.String("visits")
	w.Uint(uint64(p.Visits))
	w.String("last")
	w.Int(p.LastSeen)
	w.String("session")
	writeTable(w, p.Session)
	w.String("history")
	writeTable(w, p.History)
	w.String("traits")
	writeTable(w, p.Traits)
	w.String("intent")
	writeTable(w, p.Intent)
	w.String("facts")
	writeTable(w, p.Facts)
	w.String("links")
	writeTable(w, p.Links)
	w.String("purchases")
	writeTable(w, p.Purchases)
	w.String("attrs")
	w.MapHeader(len(p.Attrs))
	for _, a := range p.Attrs {
		w.String(a.Key)
		w.String(a.Value)
	}
	w.String("shown")
	wire.WriteStrings(w, p.Shown)
	w.String("clicked")
	wire.WriteStrings(w, p.Clicked)
	w.String("arm")
	w.Uint(uint64(p.ShownArm))
	w.String("pending")
	p.Pending.EncodeTo(w)
	w.String("eps")
	w.ArrayHeader(2)
	w.Int(p.EpsDay)
	w.Float32(p.EpsSpent)
	return w.Bytes()
}

func writeTable(w *msgp.Writer, t []Entry) {
	w.ArrayHeader(len(t))
	for _, e := range t {
		w.ArrayHeader(3)
		w.String(e.Key)
		w.Float32(e.W)
		w.Int(e.Time)
	}
}

func readTable(r *msgp.Reader, max int) Table {
	t := make(Table, r.ArrayMax(max))
	for i := range t {
		e := &t[i]
		r.Tuple(3)
		e.Key, e.W, e.Time = r.ID(wire.MaxTextLen), r.Float32(), r.Int()
	}
	return t
}

// Unmarshal decodes a stored profile. Every part is checked against its
// bound; on error p is left unchanged.
//
// A profile of schema 1 (before the session's intent was kept apart) still
// loads: its affinities, which mixed every session's, become the lasting
// ones at the weight of one session (the strongest 1), so that no burst
// stored in them outweighs what later sessions add.
func Unmarshal(b []byte) (*Profile, error) {
	p := new(Profile)
	r := msgp.NewReader(b)
	n := r.MapMax(32)
	schema := uint64(0)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "schema":
			schema = r.Uint()
			if schema != wire.ProfileSchema && schema != 1 {
				r.Fail(wire.ErrSchema)
			}
		case "holdout":
			p.Holdout = r.Bool()
		case "drawn":
			p.Drawn = r.Bool()
		case "visits":
			p.Visits = uint32(r.UintMax(1<<32 - 1))
		case "last":
			p.LastSeen = r.Int()
		case "session":
			p.Session = readTable(r, MaxSession)
		case "history":
			p.History = readTable(r, MaxHistory)
		case "traits":
			p.Traits = readTable(r, MaxTraits)
		case "intent":
			p.Intent = readTable(r, MaxIntent)
		case "facts":
			p.Facts = readTable(r, MaxFacts)
		case "links":
			p.Links = readTable(r, MaxLinks)
		case "purchases":
			p.Purchases = readTable(r, MaxPurchases)
		case "attrs":
			p.Attrs = wire.ReadAttrs(r)
		case "shown":
			p.Shown = readIDs(r, MaxShown)
		case "clicked":
			p.Clicked = readIDs(r, MaxShown)
		case "arm":
			p.ShownArm = wire.Arm(r.UintMax(uint64(wire.ArmRules)))
		case "pending":
			p.Pending.DecodeFrom(r)
		case "eps":
			r.Tuple(2)
			p.EpsDay, p.EpsSpent = r.Int(), r.Float32()
			if p.EpsSpent < 0 {
				r.Fail(wire.ErrInvalid)
			}
		default:
			r.Skip()
		}
	}
	if r.Err() == nil && schema == 0 {
		r.Fail(wire.ErrSchema)
	}
	if err := r.Finish(); err != nil {
		return nil, &decodeError{err}
	}
	if top := p.Traits.Max(p.LastSeen, HalfLife); schema == 1 && top > 0 {
		for i := range p.Traits {
			p.Traits[i].W /= top
		}
	}
	return p, nil
}

type decodeError struct{ err error }

func (e *decodeError) Error() string { return "decode profile: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

func id(r *msgp.Reader) string { return r.ID(wire.MaxIDLen) }

func readIDs(r *msgp.Reader, max int) []string {
	s := make([]string, r.ArrayMax(max))
	for i := range s {
		s[i] = id(r)
	}
	return s
}
