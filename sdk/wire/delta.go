package wire

import "github.com/tailorhq/tailor/sdk/msgp"

// Delta is what a device syncs: a small random sample of its visitor's
// behaviour since the last sync (package sdk/delta), never raw events,
// order, times, URLs or identifiers. ID is fresh cryptographic randomness
// per delta, chosen by the device so that a retried sync is recognised; it
// identifies the delta, not the visitor.
type Delta struct {
	Site    string
	Model   uint32   // the model version the device held
	ID      [16]byte // random, per delta
	Pairs   []Pair   // sampled item transitions (From was followed by To), weight 1, sorted
	Items   []Count  // sampled items the visitor showed interest in, weight 1, sorted
	Arms    []ArmCount
	Reports []Report // federated+ldp: ε-LDP frequency-oracle reports instead of Pairs and Items
	Epsilon float32  // LDP budget this delta spent on the device (split evenly over its Reports); 0: none
}

// Report is one ε-LDP frequency-oracle report (package sdk/ldp: a Hadamard
// Count-Mean Sketch bit) about one sampled item or pair. Row, Col and Bit
// are all the server learns; the value reported stays on the device.
type Report struct {
	Kind ReportKind
	Row  uint16 // hash function index, < LDPRows
	Col  uint16 // Hadamard coefficient index, < LDPCols
	Bit  int8   // -1 or +1, randomized
}

// ReportKind says which domain a Report is about.
type ReportKind uint8

// Report kinds.
const (
	ReportItem ReportKind = iota // an item the visitor showed interest in
	ReportPair                   // a directed pair From→To (value From+"\x00"+To)
)

// Dimensions of the LDP sketch (sdk/ldp): LDPRows hash functions, LDPCols
// columns (a power of two, for the Hadamard transform).
const (
	LDPRows = 16
	LDPCols = 4096
)

// Pair is a weighted transition between two items within a session.
type Pair struct {
	From, To string
	W        float32
}

// Count is an item's weighted interest count.
type Count struct {
	ID string
	N  float32
}

// ArmCount is what one experiment arm showed and what came of it, for the
// server's uplift report.
type ArmCount struct {
	Arm         Arm
	Impressions uint32 // ranked items shown
	Clicks      uint32 // clicks on ranked items
	Conversions uint32 // purchases after a click on a ranked item
	// Exposed marks the first delta of a visitor session to report the
	// arm: the server counts the arm's exposures (its split, for the
	// uplift guard and the SRM check) from these, once per session, not
	// once per delta, since a device sends several deltas a session.
	Exposed bool
}

// MaxDeltaWeight bounds the absolute value of any weight in a delta; LDP
// noise may make a weight negative.
const MaxDeltaWeight = 1000

// EncodeTo writes the delta as {schema, site, model, id, pairs: [[from, to, w]...],
// items: [[id, n]...], arms: [[arm, impressions, clicks, conversions, exposed]...], eps}.
func (d *Delta) EncodeTo(w *msgp.Writer) {
	n := 8
	if len(d.Reports) > 0 {
		n++
	}
	w.MapHeader(n)
	w.String("schema")
	w.Uint(DeltaSchema)
	w.String("site")
	w.String(d.Site)
	w.String("model")
	w.Uint(uint64(d.Model))
	w.String("id")
	w.Bin(d.ID[:])
	w.String("pairs")
	w.ArrayHeader(len(d.Pairs))
	for _, p := range d.Pairs {
		w.ArrayHeader(3)
		w.String(p.From)
		w.String(p.To)
		w.Float32(p.W)
	}
	w.String("items")
	w.ArrayHeader(len(d.Items))
	for _, c := range d.Items {
		w.ArrayHeader(2)
		w.String(c.ID)
		w.Float32(c.N)
	}
	w.String("arms")
	w.ArrayHeader(len(d.Arms))
	for _, a := range d.Arms {
		w.ArrayHeader(5)
		w.String(a.Arm.String())
		w.Uint(uint64(a.Impressions))
		w.Uint(uint64(a.Clicks))
		w.Uint(uint64(a.Conversions))
		w.Bool(a.Exposed)
	}
	w.String("eps")
	w.Float32(d.Epsilon)
	if len(d.Reports) > 0 {
		w.String("reports")
		w.ArrayHeader(len(d.Reports))
		for _, r := range d.Reports {
			w.ArrayHeader(4)
			w.Uint(uint64(r.Kind))
			w.Uint(uint64(r.Row))
			w.Uint(uint64(r.Col))
			w.Int(int64(r.Bit))
		}
	}
}

// DecodeFrom reads a delta and validates it: schema, sizes, ids, finite
// weights within ±MaxDeltaWeight.
func (d *Delta) DecodeFrom(r *msgp.Reader) {
	if r.Remaining() > MaxDeltaBytes {
		r.Fail(ErrTooBig)
		return
	}
	n := r.MapMax(16)
	schema := uint64(0)
	for i := 0; i < n; i++ {
		switch r.String() {
		case "schema":
			schema = r.Uint()
		case "site":
			d.Site = r.StringMax(MaxIDLen)
		case "model":
			d.Model = uint32(r.UintMax(1<<32 - 1))
		case "id":
			if id := r.BytesView(); len(id) == len(d.ID) {
				copy(d.ID[:], id)
			} else {
				r.Fail(&fieldError{"delta id", ErrInvalid})
			}
		case "pairs":
			d.Pairs = make([]Pair, r.ArrayMax(MaxDeltaPairs))
			for j := range d.Pairs {
				p := &d.Pairs[j]
				r.Tuple(3)
				p.From = id(r)
				p.To = id(r)
				p.W = weight(r)
			}
		case "items":
			d.Items = make([]Count, r.ArrayMax(MaxDeltaItems))
			for j := range d.Items {
				c := &d.Items[j]
				r.Tuple(2)
				c.ID = id(r)
				c.N = weight(r)
			}
		case "arms":
			d.Arms = make([]ArmCount, r.ArrayMax(MaxArms))
			for j := range d.Arms {
				a := &d.Arms[j]
				// Schema 1's arms have no exposure mark (4 fields): a
				// store holds such deltas until its retention ends, and
				// they count no exposure.
				n := r.ArrayHeader()
				if n != 4 && n != 5 {
					r.Fail(msgp.ErrType)
				}
				a.Arm = Arm(index(r, armNames[:]))
				a.Impressions = uint32(r.UintMax(MaxArmCount))
				a.Clicks = uint32(r.UintMax(MaxArmCount))
				a.Conversions = uint32(r.UintMax(MaxArmCount))
				if n == 5 {
					a.Exposed = r.Bool()
				}
			}
		case "reports":
			d.Reports = make([]Report, r.ArrayMax(MaxDeltaReports))
			for j := range d.Reports {
				p := &d.Reports[j]
				r.Tuple(4)
				p.Kind = ReportKind(r.UintMax(uint64(ReportPair)))
				p.Row = uint16(r.UintMax(LDPRows - 1))
				p.Col = uint16(r.UintMax(LDPCols - 1))
				if b := r.Int(); b == 1 || b == -1 {
					p.Bit = int8(b)
				} else {
					r.Fail(&fieldError{"delta report bit", ErrInvalid})
				}
			}
		case "eps":
			d.Epsilon = r.Float32()
			if d.Epsilon < 0 {
				r.Fail(&fieldError{"delta eps", ErrInvalid})
			}
		default:
			r.Skip()
		}
	}
	if r.Err() == nil && schema != DeltaSchema && schema != 1 {
		r.Fail(&fieldError{"delta", ErrSchema})
	}
}

// id reads a non-empty id.
func id(r *msgp.Reader) string { return r.ID(MaxIDLen) }

// weight reads a finite weight within ±MaxDeltaWeight.
func weight(r *msgp.Reader) float32 {
	f := r.Float32()
	if f > MaxDeltaWeight || f < -MaxDeltaWeight {
		r.Fail(&fieldError{"delta weight", ErrInvalid})
		return 0
	}
	return f
}
