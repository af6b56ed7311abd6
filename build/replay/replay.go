// Package replay is Tailor's quality benchmark on public clickstreams
// (issue 5): it fits every registered method on a training file, replays
// an evaluation file click by click against each (package eval, the
// session-rec protocol) and returns one report.Result per method and mode.
// The command build/cmd/replay wires it to flags and writes the report.
//
// Methods plug in through a registry, so a new one needs no change to the
// command beyond a blank import of the package that registers it:
//
//	func init() {
//		replay.Register("tailor-federated", func(cfg replay.Config) (eval.Method, error) {
//			return newFederated(cfg)
//		})
//	}
//
// A method that knows more about itself than its quality (its mode, its
// LDP epsilon, the bytes each device synced and was shipped) implements
// Annotator. The central baselines live in package baselines.
//
// # Notes
//
// Register is meant for init functions; it is goroutine-safe, and so are
// Names and Lookup. Run fits and evaluates one method at a time.
package replay

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tailorhq/tailor/build/replay/eval"
	"github.com/tailorhq/tailor/build/replay/report"
)

// Config is what a Factory gets to build its method: the facts of the
// run that are not training sessions.
type Config struct {
	// Seed seeds every random choice a method makes; equal seeds give
	// equal results.
	Seed int64
	// Categories maps item id to category id; nil when the dataset has
	// none.
	Categories map[string]string
	// HasClock tells whether click times are clock times; ClockOffset is
	// what to add to them before reading a time of day (see
	// data.Dataset).
	HasClock    bool
	ClockOffset time.Duration
	// Workers bounds the goroutines a method may use while fitting.
	Workers int
	// FitProgress, when not nil, may be called during Fit with work done
	// and total (e.g. training sessions replayed as devices); the command
	// draws it as a progress bar. Calls must not overlap.
	FitProgress func(done, total int)
}

// Factory builds a fresh, unfitted method for one run.
type Factory func(Config) (eval.Method, error)

// Annotator is implemented by methods that fill in more of their Result
// after evaluation: Mode (report.ModeFederated, ModeLocal, ModeLDP),
// Epsilon, BytesSynced, ModelBytes, Notes. Run sets Mode to
// report.ModeCentral before calling Annotate.
type Annotator interface {
	Annotate(r *report.Result)
}

var (
	mu        sync.Mutex
	factories = map[string]Factory{}
	order     []string // registration order
)

// Register makes a method available under name, for -methods and for the
// default of running every registered method. It panics if name is empty
// or taken, or f is nil: registration happens in init functions, where a
// clash is a programming error.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if name == "" || f == nil {
		panic("replay: Register with an empty name or nil factory")
	}
	if _, dup := factories[name]; dup {
		panic("replay: Register called twice for " + name)
	}
	factories[name] = f
	order = append(order, name)
}

// Names returns the registered names in registration order (Go runs the
// init functions of imported packages in a fixed order, so this order is
// stable from run to run).
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(order)
}

// Lookup returns the factory registered under name.
func Lookup(name string) (Factory, bool) {
	mu.Lock()
	defer mu.Unlock()
	f, ok := factories[name]
	return f, ok
}

// UnknownError reports method names nobody registered.
type UnknownError struct {
	Names      []string
	Registered []string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("replay: unknown method(s) %q; registered: %q", e.Names, e.Registered)
}

// Resolve checks names against the registry; empty names means all.
func Resolve(names []string) ([]string, error) {
	if len(names) == 0 {
		return Names(), nil
	}
	var unknown []string
	for _, n := range names {
		if _, ok := Lookup(n); !ok {
			unknown = append(unknown, n)
		}
	}
	if unknown != nil {
		return nil, &UnknownError{Names: unknown, Registered: Names()}
	}
	return names, nil
}
