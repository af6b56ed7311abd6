// Package errs makes the sentinel errors of the packages the guest links.
//
// It is package errors' New without package errors: errors' init builds a
// reflectlite type for errors.As, which pulls internal/reflectlite into
// tailor.wasm (6.5 KB raw, 229 B brotli when measured with build/size.sh) for
// code the guest never calls. Values from New behave as errors.New's: each
// is distinct, compares by identity, and works with errors.Is on the server.
package errs

// New returns an error whose message is text, unequal to every other.
func New(text string) error { return &errorString{text} }

type errorString struct{ s string }

func (e *errorString) Error() string { return e.s }
