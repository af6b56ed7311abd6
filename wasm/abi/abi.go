// Package abi is the contract between tailor.wasm and its hosts (the
// browser loader and the Go harness): export names, status codes and
// limits. It is imported by the guest, so it stays tiny.
package abi

// Status is what every guest operation returns.
type Status int32

// Statuses. Any status but OK leaves the device's state unchanged and puts
// a message in the output buffer.
const (
	OK       Status = 0
	BadInput Status = 1 // malformed, truncated, oversized or invalid input
	NotReady Status = 2 // tailor_init has not succeeded yet
	Internal Status = 3 // a bug in the guest; the device state is unchanged
)

// MaxInput bounds one input buffer (a rank request with 5,000 candidates
// fits; a whole model version is sent shard by shard).
const MaxInput = 8 << 20

// ErrNotReady is the message of NotReady. It has a type of its own, not
// errors.New: package errors pulls internal/reflectlite into the guest.
var ErrNotReady error = notReady{}

type notReady struct{}

func (notReady) Error() string { return "tailor: not initialized" }

// Export names, for hosts.
const (
	Alloc       = "tailor_alloc"
	Free        = "tailor_free"
	OutPtr      = "tailor_out_ptr"
	OutLen      = "tailor_out_len"
	Init        = "tailor_init"
	Weights     = "tailor_weights"
	Track       = "tailor_track"
	Rank        = "tailor_rank"
	TakeDelta   = "tailor_take_delta"
	SaveProfile = "tailor_save_profile"
	LoadProfile = "tailor_load_profile"
	Forget      = "tailor_forget"
)
