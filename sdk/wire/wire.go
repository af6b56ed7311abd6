// Package wire holds every type that crosses a boundary in Tailor: between
// the JavaScript loader and tailor.wasm (events, rank requests and results,
// site configuration) and between devices and the server (profile deltas,
// model weights). Both the guest and the server import it, so the two sides
// cannot drift.
//
// Everything is MessagePack written with package msgp: maps with short
// string keys, so fields can be added without breaking older peers (unknown
// keys are skipped). Decoders treat input as hostile: every count and string
// is bounded, floats must be finite, and enumerations must be known.
//
// # Notes
//
// Values are plain data: safe to share between goroutines once built, not
// safe to mutate concurrently.
package wire

import (
	"github.com/tailorhq/tailor/sdk/internal/errs"
	"github.com/tailorhq/tailor/sdk/msgp"
)

// Schema versions. A peer rejects a document whose version it does not know.
const (
	DeltaSchema   = 2
	WeightsSchema = 1
	ConfigSchema  = 1
	ProfileSchema = 2 // 1: no session intent apart (sdk/profile still decodes it)
)

// Limits on what a decoder accepts. Every one bounds memory: a document
// within them cannot cost more than a small multiple of its own size.
const (
	MaxIDLen        = 64      // item, rule and slot ids
	MaxTextLen      = 256     // search queries, rule names, attribute values
	MaxTags         = 16      // tags per item
	MaxCandidates   = 5000    // items in one rank request
	MaxRules        = 256     // rules in a site configuration
	MaxConds        = 16      // conditions in one rule
	MaxValues       = 64      // values in one condition or selector
	MaxAttrs        = 32      // declared visitor attributes
	MaxDeltaBytes   = 16384   // hard cap on an encoded profile delta
	MaxDeltaPairs   = 400     // item transitions in one delta
	MaxDeltaItems   = 200     // item counts in one delta
	MaxArms         = 4       // arms in one delta
	MaxArmCount     = 1 << 20 // each count (impressions, clicks, conversions) of one arm in one delta
	MaxDeltaReports = 16      // LDP reports in one delta
	MaxNeighbors    = 100     // neighbours of one item in the weights
	MaxWeightsItems = 200000
)

// Errors returned by decoders, wrapped with the field that failed.
var (
	ErrSchema  = errs.New("wire: unknown schema version")
	ErrInvalid = errs.New("wire: invalid value")
	ErrTooBig  = errs.New("wire: document too large")
)

// fieldError names the field a decode failed on without pulling fmt into
// the guest.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// Finish checks that r read one whole document and annotates its first
// error with the document's name.
func Finish(r *msgp.Reader, what string) error {
	if err := r.Finish(); err != nil {
		return &fieldError{field: "decode " + what, err: err}
	}
	return nil
}

// readIDs reads an array of at most max ids.
func readIDs(r *msgp.Reader, max int) []string { return readStrings(r, max, MaxIDLen) }

// WriteStrings writes s as an array of strings.
func WriteStrings(w *msgp.Writer, s []string) {
	w.ArrayHeader(len(s))
	for _, v := range s {
		w.String(v)
	}
}

// oneOf reads a string that must be one of the allowed values.
func oneOf(r *msgp.Reader, allowed ...string) string {
	s := r.StringMax(MaxIDLen)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	r.Fail(ErrInvalid)
	return ""
}

// unit reads a finite float in [0, 1].
func unit(r *msgp.Reader) float32 {
	f := r.Float32()
	if f < 0 || f > 1 {
		r.Fail(ErrInvalid)
		return 0
	}
	return f
}
