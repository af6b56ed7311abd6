// Package aggregate is the math of a site's aggregate: it folds the profile
// deltas devices sync into the site's global weights (State), and builds
// the model's items and shards from them. It is pure: no store, no
// goroutines; package publish runs it over the store's delta log.
//
// Devices are untrusted, so every delta is bounded before it counts: each
// positive pair and item counts once, whatever weight it claims (binary
// counting; non-positive weights count nothing); what its pairs put into
// or out of any one item is capped (ClipItem), its L1 norm too (ClipL1),
// only MaxPairs and MaxItems entries count, and each of its arm counts is
// capped (not kept within each other: a click often syncs in a later delta
// than its impression, a purchase than its click). Sums decay with a half-life (HalfLife), so bad input fades.
// Nothing derived from a delta is published before MinCohort distinct
// deltas contributed to the same pair or item, a pair also needs a share
// of its from-item's support (PairShare, up to PairCap deltas), and of its
// to-item's to count in the to-item's list as co-occurrence, and an
// optional central DP mode adds Gaussian noise to every released sum and
// selects the keys published by their noisy sums; Params says what one
// release costs in zCDP (Rho) and (ε, δ), which package publish accounts
// over the versions of a window.
//
// federated+ldp sites send ε-LDP reports instead (package sdk/ldp): they
// are folded into count-mean sketches and estimated over the site's public
// catalogue (site.Site.Catalog) at publication.
//
// Memory is bounded per site (KeepBytes, KeepPairs, KeepItems, and half
// of KeepBytes for entries still below k): the entries with the fewest
// contributors are pruned first, with the ids only they used.
package aggregate
