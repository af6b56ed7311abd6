package wire

import "github.com/tailorhq/tailor/sdk/msgp"

// Delta is what a device syncs: a small random sample of its visitor's
// behaviour since the last sync (package sdk/delta), never raw events,
// order, times, URLs or identifiers. ID is fresh cryptographic randomness
// per delta, chosen by the device so that a retried sync is recognised; it
// identifies the delta, not the visitor.
type Delta struct {
	Site    string
	Model   uint32   // the model version the device held, rounded down to its epoch (ModelEpoch)
	ID      [16]byte // random, per delta
	Pairs   []Pair   // sampled item transitions (From was followed by To), weight 1, sorted
	Items   []Count  // sampled items the visitor showed interest in, weight 1, sorted
	Arms    []ArmCount
	Reports []Report // federated+ldp: ε-LDP frequency-oracle reports instead of Pairs and Items
	Epsilon float32  // LDP budget this delta spent on the device (split evenly over its Reports); 0: none
}

// ModelEpoch is how precisely a delta names the model version its device
// held: rounded down to a multiple of ModelEpoch (EpochOf). A version is
// published every 30 s on a busy site, so the exact version dated a page's
// load to the half minute and, with the stale manifest a browser's cache
// serves, set one device's deltas apart from the others' in a window
// (server/e2e TestLinkageByMetadata); a version follows at least k new
// deltas, so an epoch spans at least 64·k of the site's deltas.
const ModelEpoch = 64

// EpochOf returns version v rounded down to a multiple of ModelEpoch.
func EpochOf(v uint32) uint32 { return v &^ (ModelEpoch - 1) }

// Report is one ε-LDP frequency-oracle report (package sdk/ldp) about one
// sampled item or pair. Row, Col and Bit are all the server learns; the
// value reported stays on the device. (Row, Col) is the cell of the
// server's table the report lands in:
//   - an optimized local hashing report (OLH, what devices send): Row is
//     the public hash function drawn, < LDPSeeds, Col the randomized
//     bucket, < LDPMaxBuckets, and Bit is 0;
//   - a Hadamard count-mean sketch report (devices sent these until OLH;
//     a store keeps them for its retention window): Row is the hash
//     function, < LDPRows, Col the Hadamard coefficient, < LDPCols, and Bit
//     the randomized sign, -1 or +1.
type Report struct {
	Kind ReportKind
	Row  uint16
	Col  uint16
	Bit  int8
}

// ReportKind says which domain a Report is about.
type ReportKind uint8

// Report kinds.
const (
	ReportItem ReportKind = iota // an item the visitor showed interest in
	ReportPair                   // a directed pair From→To (value From+"\x00"+To)
)

// Dimensions of the LDP frequency oracles (sdk/ldp). OLH: LDPSeeds public
// hash functions (a power of two), at most LDPMaxBuckets buckets. The
// Hadamard sketch of older deltas: LDPRows hash functions, LDPCols columns
// (a power of two, for the Hadamard transform).
const (
	LDPSeeds      = 2048
	LDPMaxBuckets = 128
	LDPRows       = 16
	LDPCols       = 4096
)

// LDPItemShare is the probability with which a federated+ldp device's one
// OLH report is about an item rather than a pair: a coin that ignores the
// visitor's data, so the kind reveals nothing. The server scales its
// estimates by it.
const LDPItemShare = 0.5

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
// items: [[id, n]...], arms: [[arm, impressions, clicks, conversions, exposed]...], eps,
// reports: [[kind, row, col] (OLH) or [kind, row, col, bit] (Hadamard)...]}.
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
			if r.Bit == 0 { // OLH: [kind, seed, bucket]
				w.ArrayHeader(3)
			} else { // Hadamard: [kind, row, col, bit]
				w.ArrayHeader(4)
			}
			w.Uint(uint64(r.Kind))
			w.Uint(uint64(r.Row))
			w.Uint(uint64(r.Col))
			if r.Bit != 0 {
				w.Int(int64(r.Bit))
			}
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
				// An OLH report has 3 fields, a Hadamard one 4 (see Report).
				n := r.ArrayHeader()
				if n != 3 && n != 4 {
					r.Fail(msgp.ErrType)
				}
				p.Kind = ReportKind(r.UintMax(uint64(ReportPair)))
				if n == 3 {
					p.Row = uint16(r.UintMax(LDPSeeds - 1))
					p.Col = uint16(r.UintMax(LDPMaxBuckets - 1))
					continue
				}
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
