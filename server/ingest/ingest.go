// Package ingest turns the body of a POST /v1/sync into a validated
// wire.Delta and the bytes the store keeps, and applies the server's
// policy: what an honest device never sends is refused, each refusal with
// its own reason token.
//
// There is one decoder for a delta: wire.Delta.DecodeFrom, over the
// bounded sdk/msgp reader the guest uses too (every length is checked
// against the bytes that remain before anything is allocated, nesting is
// bounded, NaN and Inf are refused, wire caps every count). Decode maps
// its errors onto this package's sentinels; Check is the policy on top.
// github.com/vmihailenco/msgpack/v5, the decoder the design names for the
// server, is the oracle of this package's differential tests: what Decode
// accepts, msgpack/v5 decodes to the same values (RATIONALE.md says why
// it is not the decoder itself).
//
// The store keeps Canonical(d), never the body: the delta re-encoded by
// wire, so unknown fields a modified loader adds (a URL, a search query)
// are dropped before anything is written.
//
//	d, err := ingest.Decode(body)
//	if err == nil {
//		err = ingest.Check(&d, ingest.Policy{Privacy: site.Privacy, Epsilon: site.Epsilon})
//	}
//	if err != nil {
//		return ingest.Reason(err) // "malformed", "empty", "max_weights", ...
//	}
//	store(ingest.Canonical(&d))
//
// # Notes
//
// Decode, Check and Canonical are safe to call from many goroutines. The
// returned delta does not alias the input.
package ingest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tailorhq/tailor/sdk/delta"
	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
)

// Errors of Decode and Check, wrapped with what failed. Reason gives each
// its stable token.
var (
	ErrMalformed = errors.New("ingest: malformed msgpack")    // truncated, wrong type, bad length, too deep, trailing bytes
	ErrTooBig    = errors.New("ingest: delta too large")      // over wire.MaxDeltaBytes
	ErrSchema    = errors.New("ingest: unknown delta schema") // a schema version the server does not speak
	ErrInvalid   = errors.New("ingest: invalid delta")        // well-formed, but a value out of range, a repeated entry, a control character...

	ErrEmpty      = errors.New("ingest: empty delta")                                                   // nothing to count
	ErrPrivacy    = errors.New("ingest: the delta's local noise does not meet the site's privacy mode") // federated+ldp: eps not within (0, the site's]
	ErrNoiseClaim = errors.New("ingest: local noise claimed on a site without local DP")                // eps > 0 or reports, not federated+ldp
	ErrClear      = errors.New("ingest: pairs, items or arms in clear on a federated+ldp site")         // only LDP reports may leave such a device
	ErrReports    = errors.New("ingest: not the LDP reports a device sends")                            // delta.Reports OLH report (or a Hadamard item and pair report)
	ErrNegative   = errors.New("ingest: negative weight outside local DP")                              // only LDP noise makes a weight negative
	ErrMaxWeights = errors.New("ingest: every weight at the maximum")                                   // no session produces that
	ErrPairCount  = errors.New("ingest: more pairs than the items reported could produce")              // n items, max(n, 1)×PairsPerItem pairs at most
	ErrArmCounts  = errors.New("ingest: arm counts beyond what a device reports")                       // sdk/delta's caps
)

// PairsPerItem is how many pairs one item a delta reports can account for:
// a click pairs with the items of the pairWindow steps before it in the
// session (sdk/profile). A delta with no item may carry as many: a device
// names items only through its pairs (sdk/delta), older ones beside them.
const PairsPerItem = 10

// reasons are the tokens of the errors, in the sync response and the
// tailor_syncs_total metric.
var reasons = []struct {
	err    error
	reason string
}{
	{ErrMalformed, "malformed"},
	{ErrTooBig, "too_large"},
	{ErrSchema, "schema"},
	{ErrInvalid, "invalid"},
	{ErrEmpty, "empty"},
	{ErrPrivacy, "privacy"},
	{ErrNoiseClaim, "noise_claimed"},
	{ErrClear, "clear_on_ldp"},
	{ErrReports, "report_count"},
	{ErrNegative, "negative_weight"},
	{ErrMaxWeights, "max_weights"},
	{ErrPairCount, "too_many_pairs"},
	{ErrArmCounts, "arm_counts"},
}

// Reason returns the stable token of an error of Decode or Check, or ""
// for any other error.
func Reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return ""
}

// Reasons returns every token Reason may return, for documentation and
// tests.
func Reasons() []string {
	out := make([]string, len(reasons))
	for i, r := range reasons {
		out[i] = r.reason
	}
	return out
}

// Decode decodes one profile delta with wire's decoder: the schema
// version, every size against the wire limits, ids, finite weights within
// ±wire.MaxDeltaWeight, known arms, LDP report ranges.
func Decode(b []byte) (wire.Delta, error) {
	var d wire.Delta
	if len(b) > wire.MaxDeltaBytes {
		return d, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooBig, len(b), wire.MaxDeltaBytes)
	}
	r := msgp.NewReader(b)
	d.DecodeFrom(r)
	if err := wire.Finish(r, "delta"); err != nil {
		return wire.Delta{}, classify(err)
	}
	return d, nil
}

// classify wraps a decoding error with the package's sentinel for it.
func classify(err error) error {
	var sentinel error
	switch {
	case errors.Is(err, wire.ErrTooBig):
		sentinel = ErrTooBig
	case errors.Is(err, wire.ErrSchema):
		sentinel = ErrSchema
	case errors.Is(err, wire.ErrInvalid), errors.Is(err, msgp.ErrRange), errors.Is(err, msgp.ErrTooLong),
		errors.Is(err, msgp.ErrNotFinite):
		sentinel = ErrInvalid
	default: // msgp.ErrShort, ErrType, ErrDepth, ErrTrailing
		sentinel = ErrMalformed
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// Canonical returns the bytes the store keeps for d: wire's own encoding,
// in which only the fields the server knows exist.
func Canonical(d *wire.Delta) []byte { return wire.Marshal(d) }

// CanonicalTo is Canonical into w, reset first: the sync path reuses
// writers (a delta is encoded on every sync). The bytes are w's until its
// next use.
func CanonicalTo(w *msgp.Writer, d *wire.Delta) []byte {
	w.Reset()
	d.EncodeTo(w)
	return w.Bytes()
}

// Policy is what Check needs of the site a delta names.
type Policy struct {
	Privacy wire.Privacy // federated or federated+ldp (a local site syncs nothing: refused before Check)
	Epsilon float32      // federated+ldp: the budget a delta may spend at most
}

// Check applies the server's policy beyond the wire format, for what an
// honest device never sends and the aggregate must not take:
//   - something to count: pairs, items, arms or LDP reports (ErrEmpty);
//   - local noise matches the site's mode: a federated+ldp delta spends
//     an eps within (0, the site's] (ErrPrivacy), carries no pairs, items
//     or arms in clear (ErrClear), and exactly the reports a device sends,
//     delta.Reports OLH report, or an older guest's Hadamard item and pair
//     (ErrReports: more would multiply one delta's weight); any other
//     delta claims no eps and no reports (ErrNoiseClaim), and has no
//     negative weight (ErrNegative);
//   - a plausible shape: not every weight at ±wire.MaxDeltaWeight
//     (ErrMaxWeights), no more pairs than its n items could produce,
//     max(n, 1)×PairsPerItem (ErrPairCount), per arm no more impressions, clicks
//     and conversions than a device reports in one delta
//     (delta.MaxImpressions, MaxClicks, MaxConversions: ErrArmCounts),
//     and no arm marked exposed without impressions (ErrArmCounts: a
//     device marks the delta that first shows the arm in a session).
//     Clicks may exceed impressions, and conversions clicks, in an honest
//     delta: the impression or the click may have been synced before;
//   - ids valid UTF-8 without control characters, no pair from an item to
//     itself, each pair, item and arm once (ErrInvalid), so that clipping
//     each entry bounds the delta.
func Check(d *wire.Delta, p Policy) error {
	if len(d.Pairs) == 0 && len(d.Items) == 0 && len(d.Arms) == 0 && len(d.Reports) == 0 {
		return ErrEmpty
	}
	if err := checkNoise(d, p); err != nil {
		return err
	}
	if err := checkShape(d); err != nil {
		return err
	}
	return checkEntries(d)
}

func checkNoise(d *wire.Delta, p Policy) error {
	if p.Privacy == wire.PrivacyLDP {
		switch {
		case !(d.Epsilon > 0 && d.Epsilon <= p.Epsilon):
			return fmt.Errorf("%w: the site spends eps %v per delta, the delta %v", ErrPrivacy, p.Epsilon, d.Epsilon)
		case len(d.Pairs) > 0 || len(d.Items) > 0 || len(d.Arms) > 0:
			return fmt.Errorf("%w: %d pairs, %d items, %d arms", ErrClear, len(d.Pairs), len(d.Items), len(d.Arms))
		}
		// A device sends delta.Reports OLH report (Bit 0); a guest from
		// before OLH, still cached, one item and one pair Hadamard report.
		var items, pairs, olh int
		for _, r := range d.Reports {
			if r.Bit == 0 {
				olh++
			} else if r.Kind == wire.ReportItem {
				items++
			} else {
				pairs++
			}
		}
		if !(olh == delta.Reports && items+pairs == 0) && !(olh == 0 && items == 1 && pairs == 1) {
			return fmt.Errorf("%w: %d OLH, %d Hadamard item and %d pair reports, a device sends %d OLH",
				ErrReports, olh, items, pairs, delta.Reports)
		}
		return nil
	}
	switch {
	case d.Epsilon != 0 || len(d.Reports) > 0:
		return fmt.Errorf("%w: eps %v, %d reports", ErrNoiseClaim, d.Epsilon, len(d.Reports))
	}
	for i, q := range d.Pairs {
		if q.W < 0 {
			return fmt.Errorf("%w: pairs[%d]: %v", ErrNegative, i, q.W)
		}
	}
	for i, c := range d.Items {
		if c.N < 0 {
			return fmt.Errorf("%w: items[%d]: %v", ErrNegative, i, c.N)
		}
	}
	return nil
}

func checkShape(d *wire.Delta) error {
	if n := len(d.Pairs) + len(d.Items); n > 0 {
		atMax := 0
		for _, q := range d.Pairs {
			if q.W >= wire.MaxDeltaWeight || q.W <= -wire.MaxDeltaWeight {
				atMax++
			}
		}
		for _, c := range d.Items {
			if c.N >= wire.MaxDeltaWeight || c.N <= -wire.MaxDeltaWeight {
				atMax++
			}
		}
		if atMax == n {
			return fmt.Errorf("%w: all %d at ±%d", ErrMaxWeights, n, wire.MaxDeltaWeight)
		}
	}
	if n := len(d.Items); len(d.Pairs) > max(n, 1)*PairsPerItem {
		return fmt.Errorf("%w: %d pairs from %d items", ErrPairCount, len(d.Pairs), n)
	}
	for i, a := range d.Arms {
		if a.Impressions > delta.MaxImpressions || a.Clicks > delta.MaxClicks || a.Conversions > delta.MaxConversions {
			return fmt.Errorf("%w: arms[%d] (%s): %d impressions, %d clicks, %d conversions; a device reports %d, %d, %d at most",
				ErrArmCounts, i, a.Arm, a.Impressions, a.Clicks, a.Conversions, delta.MaxImpressions, delta.MaxClicks, delta.MaxConversions)
		}
		if a.Exposed && a.Impressions == 0 {
			return fmt.Errorf("%w: arms[%d] (%s) exposed without impressions", ErrArmCounts, i, a.Arm)
		}
	}
	return nil
}

func checkEntries(d *wire.Delta) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if err := checkID("site", d.Site); err != nil {
		return err
	}
	for i, q := range d.Pairs {
		if err := checkID("pairs", q.From); err != nil {
			return err
		}
		if err := checkID("pairs", q.To); err != nil {
			return err
		}
		if q.From == q.To {
			return bad("pairs[%d]: %q leads to itself", i, q.From)
		}
	}
	// Repeats, found by sorting rather than with maps: a delta is checked
	// on every sync (indexes of an honest delta's entries fit on the stack).
	// A device sends its pairs and items sorted (sdk/delta), so a list in
	// strictly increasing order, which holds no repeat, is not sorted again.
	var stack [64]int
	comparePairs := func(a, b int) int {
		pa, pb := &d.Pairs[a], &d.Pairs[b]
		return cmp.Or(strings.Compare(pa.From, pb.From), strings.Compare(pa.To, pb.To))
	}
	if !increasing(len(d.Pairs), comparePairs) {
		pairs := indexes(stack[:0], len(d.Pairs))
		slices.SortFunc(pairs, comparePairs)
		for k := 1; k < len(pairs); k++ {
			if a, b := &d.Pairs[pairs[k-1]], &d.Pairs[pairs[k]]; a.From == b.From && a.To == b.To {
				return bad("pairs[%d]: %q → %q appears twice", pairs[k], b.From, b.To)
			}
		}
	}
	for _, c := range d.Items {
		if err := checkID("items", c.ID); err != nil {
			return err
		}
	}
	compareItems := func(a, b int) int { return strings.Compare(d.Items[a].ID, d.Items[b].ID) }
	if !increasing(len(d.Items), compareItems) {
		items := indexes(stack[:0], len(d.Items))
		slices.SortFunc(items, compareItems)
		for k := 1; k < len(items); k++ {
			if d.Items[items[k-1]].ID == d.Items[items[k]].ID {
				return bad("items[%d]: %q appears twice", items[k], d.Items[items[k]].ID)
			}
		}
	}
	var arms [wire.MaxArms]bool
	for i, a := range d.Arms {
		if arms[a.Arm] {
			return bad("arms[%d]: arm %s appears twice", i, a.Arm)
		}
		arms[a.Arm] = true
	}
	return nil
}

// increasing reports whether the n entries compare strictly increasing,
// each below the next.
func increasing(n int, compare func(a, b int) int) bool {
	for k := 1; k < n; k++ {
		if compare(k-1, k) >= 0 {
			return false
		}
	}
	return true
}

// indexes returns 0, 1, ..., n-1 in buf (grown if need be).
func indexes(buf []int, n int) []int {
	for i := range n {
		buf = append(buf, i)
	}
	return buf
}

func checkID(field, id string) error {
	ascii := true
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: %s: id %q holds a control character", ErrInvalid, field, id)
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if !ascii && !utf8.ValidString(id) {
		return fmt.Errorf("%w: %s: id %q is not UTF-8", ErrInvalid, field, id)
	}
	return nil
}
