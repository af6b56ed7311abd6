//go:build !wasip1

package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/internal/browsertest"
)

func TestTraceWasmStages(t *testing.T) {
	ev := func(name string, ts, dur float64) browsertest.TraceEvent {
		return browsertest.TraceEvent{Name: name, Ph: "X", TS: ts, Dur: dur}
	}
	tests := []struct {
		name   string
		trace  browsertest.Trace
		want   string
		wantOK bool
	}{
		{name: "no start mark", trace: browsertest.Trace{ev("wasm.FinishStreaming", 5, 0)}},
		{
			name: "out of order, before the start ignored",
			trace: browsertest.Trace{
				ev("wasm.InstanceBuilder.Build", 130_000, 2_900),
				ev("wasm.StartStreamingCompilation", 1_000, 0), // an earlier page's
				ev("tailor:start", 10_000, 0),
				ev("wasm.FinishStreaming", 105_000, 1_800),
				ev("wasm.StartStreamingCompilation", 46_200, 0),
				ev("wasm.FinishAsyncCompile", 125_000, 400),
				ev("wasm.FinishStreaming", 300_000, 0), // a later one
			},
			want: "streaming begun +36.2, bytes fed -, streaming finished +95.0 (1.8 ms), cache lookup -, cache hit -, " +
				"compile finished +115.0 (0.4 ms), instantiated +120.0 (2.9 ms)",
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.trace.WasmStages()
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("WasmStages() = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestTrace traces a page that marks tailor:start, then compiles and
// instantiates the smallest WebAssembly module by streaming, as the
// loader does tailor.wasm.
func TestTrace(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/m.wasm" {
			w.Header().Set("Content-Type", "application/wasm")
			w.Write([]byte("\x00asm\x01\x00\x00\x00"))
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><title>trace</title><script>
performance.mark("tailor:start");
WebAssembly.instantiateStreaming(fetch("/m.wasm")).then(() => (window.__done = true));
</script>`))
	}))
	defer srv.Close()
	tb := browsertest.New(t)
	// The second load finds the module V8 compiled for the first.
	for i, hit := range []bool{false, true} {
		tr := tb.Trace(browsertest.WasmTraceCategories, func() {
			tb.Open(srv.URL + "/")
			tb.Wait(`window.__done`)
		})
		line, ok := tr.WasmStages()
		if !ok {
			t.Fatalf("load %d: no tailor:start mark among the trace's %d events", i+1, len(tr))
		}
		t.Logf("load %d: %d events; %s", i+1, len(tr), line)
		for _, s := range []string{"streaming begun +", "streaming finished +", "compile finished +", "instantiated +"} {
			if !strings.Contains(line, s) {
				t.Errorf("load %d: wasm stages %q lack %q", i+1, line, s)
			}
		}
		if got := !strings.Contains(line, "cache hit -"); got != hit {
			t.Errorf("load %d: wasm stages %q: cache hit %v, want %v", i+1, line, got, hit)
		}
	}
	tb.NoErrors()
}
