// Package signal turns page events into evidence of interest: how strongly
// an event says "I like this" and which attributes ("traits") of an item it
// speaks for. The profile learns from this evidence and the model scores
// candidates by the same traits, so both sides read items the same way.
package signal

import "github.com/tailorhq/tailor/sdk/wire"

// Strength returns how much interest an event shows, on a scale where a
// click is 1. Dwell counts from 2 s and saturates at 30 s; a scroll counts
// only for a page read past half way.
func Strength(e *wire.Event) float32 {
	switch e.Kind {
	case wire.KindView:
		return 0.5
	case wire.KindClick:
		return 1
	case wire.KindCart:
		return 2
	case wire.KindPurchase:
		return 3
	case wire.KindDwell:
		if e.Dwell < 2000 {
			return 0
		}
		return min(float32(e.Dwell)/10000, 3)
	case wire.KindScroll:
		if e.Scroll < 50 {
			return 0
		}
		return float32(e.Scroll) / 100
	case wire.KindSearch:
		return 1
	}
	return 0
}

// Price bands: upper bounds of bands 1-5; band 6 is above the last.
var priceBands = [...]float32{25, 50, 100, 250, 500}

// PriceBand returns the item's price band, 1-6, or 0 when the price is unknown.
func PriceBand(price float32) int {
	if price <= 0 {
		return 0
	}
	for i, b := range priceBands {
		if price < b {
			return i + 1
		}
	}
	return len(priceBands) + 1
}

// Traits returns the keys of an item's attributes ("cat:shoes",
// "tag:red", "price:3") into dst.
func Traits(dst []string, it *wire.Item) []string {
	if it.Category != "" {
		dst = append(dst, "cat:"+it.Category)
	}
	for _, t := range it.Tags {
		if t != "" {
			dst = append(dst, "tag:"+t)
		}
	}
	if b := PriceBand(it.Price); b > 0 {
		// b is 1-6; string(rune) would link the runtime's UTF-8 encoder.
		dst = append(dst, "price:"+"0123456789"[b:b+1])
	}
	return dst
}

// Terms splits a search query into lower-case terms of two to
// wire.MaxIDLen bytes, at most 8, as trait keys ("q:gown"). Longer words
// are dropped: the profile stores each term in keys it bounds on load.
func Terms(query string) []string {
	var out []string
	for _, f := range words(query) {
		if len(f) >= 2 && len(f) <= wire.MaxIDLen && len(out) < 8 {
			out = append(out, "q:"+f)
		}
	}
	return out
}

// MatchesTerm reports whether an item answers a search term key ("q:gown"):
// a word of its category or of one of its tags starts with the term (or,
// for words of four letters or more, the term starts with the word, so
// "gowns" finds "gown").
func MatchesTerm(it *wire.Item, term string) bool {
	t := term[min(2, len(term)):]
	if hasWordPrefix(it.Category, t) {
		return true
	}
	for _, tag := range it.Tags {
		if hasWordPrefix(tag, t) {
			return true
		}
	}
	return false
}

func hasWordPrefix(s, t string) bool {
	for _, w := range words(s) {
		if hasPrefix(w, t) || hasPrefix(t, w) && len(w) >= 4 {
			return true
		}
	}
	return false
}

// SplitTrait splits a trait key into its kind and value ("cat:shoes" →
// "cat", "shoes"); a key without a kind returns "", key.
func SplitTrait(key string) (kind, value string) {
	for i := 0; i < len(key); i++ {
		if key[i] == ':' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}
