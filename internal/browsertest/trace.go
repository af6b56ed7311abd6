//go:build !wasip1

package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// WasmTraceCategories are the trace categories that show where a page
// waits for tailor.wasm: the page's tasks (parsing, layout, scripts),
// its requests, user timing marks (tailor:start) and V8's streaming
// compilation, code cache lookup and instantiation.
var WasmTraceCategories = []string{
	"devtools.timeline", "disabled-by-default-devtools.timeline", "toplevel", "loading",
	"blink.user_timing", "v8", "v8.wasm", "disabled-by-default-v8.wasm.detailed",
}

// TraceEvent is one event of a Chromium trace (the Trace Event Format):
// times in microseconds on the browser's clock, Dur for complete ("X")
// events only, TDur the CPU time its thread spent in it (on a busy
// machine, Dur less the time the thread waited for a core).
type TraceEvent struct {
	Name string         `json:"name"`
	Ph   string         `json:"ph"`
	TS   float64        `json:"ts"`
	Dur  float64        `json:"dur"`
	TDur float64        `json:"tdur"`
	PID  int            `json:"pid"`
	TID  int            `json:"tid"`
	Args map[string]any `json:"args"`
}

// Trace is a recorded Chromium trace.
type Trace []TraceEvent

// traceWait bounds how long Chromium may take to hand over a trace once
// it was stopped (seconds on a loaded machine for a few MB of events).
const traceWait = 30 * time.Second

// Trace records a Chromium trace of the given categories while do runs
// in the test's goroutine (a load, say: tb.Open(url) then ReadStart), and
// returns its events. The trace covers the browser's every process, so
// one recording shows a page's main thread, its workers and V8's
// background threads side by side.
func (tb *Tab) Trace(categories []string, do func()) Trace {
	tb.t.Helper()
	var (
		mu     sync.Mutex
		events Trace
		bad    error
	)
	done := make(chan struct{})
	lctx, stop := context.WithCancel(tb.ctx)
	defer stop()
	tb.Do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		// The listener lives as long as lctx, past this action.
		if err := chromedp.Listen(lctx, func(ev any) {
			switch e := ev.(type) {
			case *tracing.EventDataCollected:
				mu.Lock()
				defer mu.Unlock()
				for _, v := range e.Value {
					b, err := json.Marshal(v)
					var te TraceEvent
					if err == nil {
						err = json.Unmarshal(b, &te)
					}
					if err != nil {
						bad = err
						continue
					}
					events = append(events, te)
				}
			case *tracing.EventTracingComplete:
				close(done)
			}
		}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, tracing.Start, tracing.StartParams{TraceConfig: &tracing.TraceConfig{IncludedCategories: categories}})
		return err
	}))
	do()
	tb.Do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, tracing.End, cdp.Empty{})
		return err
	}))
	select {
	case <-done:
	case <-time.After(traceWait):
		tb.t.Fatalf("Chromium did not hand over the trace within %v", traceWait)
	}
	mu.Lock()
	defer mu.Unlock()
	if bad != nil {
		tb.t.Fatalf("reading the trace: %v", bad)
	}
	return events
}

// first returns the earliest event named name at or after since (µs),
// ok false when the trace holds none. Chromium hands events over in no
// particular order.
func (tr Trace) first(name string, since float64) (e TraceEvent, ok bool) {
	for _, x := range tr {
		if x.Name == name && x.TS >= since && (!ok || x.TS < e.TS) {
			e, ok = x, true
		}
	}
	return e, ok
}

// WasmStages are the events WasmStages reads, in the order a start of
// tailor.wasm usually reaches them, as it names them: the page's
// performance mark tailor:start, V8's streaming compilation begun, fed
// its first bytes, finished (its last), V8's lookup of the same module
// compiled before and its hit (absent when V8 compiles the module anew:
// a first visit, or a code cache not written yet), the compilation
// finished on the page's thread, the instance built.
var WasmStages = []struct{ Name, Event string }{
	{"streaming begun", "wasm.StartStreamingCompilation"},
	{"bytes fed", "v8.wasm.streamFromResponseCallback"},
	{"streaming finished", "wasm.FinishStreaming"},
	{"cache lookup", "wasm.GetNativeModuleFromCache"},
	{"cache hit", "CacheHit"},
	{"compile finished", "wasm.FinishAsyncCompile"},
	{"instantiated", "wasm.InstanceBuilder.Build"},
}

// WasmStages reads, from a trace of one page load, when each of
// WasmStages first happened after the page's tailor:start mark (ms) and
// how long it took (ms, 0 for an instant event), as one line:
//
//	streaming begun +36.2, bytes fed +36.3, ... instantiated +126.0 (2.9 ms)
//
// A stage the trace lacks reads "-". ok is false without a tailor:start.
func (tr Trace) WasmStages() (line string, ok bool) {
	start, ok := tr.first("tailor:start", 0)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for i, s := range WasmStages {
		if i > 0 {
			b.WriteString(", ")
		}
		e, ok := tr.first(s.Event, start.TS)
		if !ok {
			fmt.Fprintf(&b, "%s -", s.Name)
			continue
		}
		fmt.Fprintf(&b, "%s +%.1f", s.Name, (e.TS-start.TS)/1000)
		if e.Dur > 0 {
			fmt.Fprintf(&b, " (%.1f ms)", e.Dur/1000)
		}
	}
	return b.String(), true
}
