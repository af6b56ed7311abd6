//go:build !wasip1

package jstest

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/tailorhq/tailor/sdk/wire"
)

// cases is testdata/cases.json: what the Go wire package and the loader's
// JavaScript must agree on.
type cases struct {
	ShardOf []struct {
		ID string `json:"id"`
		N  int    `json:"n"`
	} `json:"shardOf"`
	Documents []struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	} `json:"documents"`
}

// document returns an empty wire value of a case's type.
func document(typ string) (interface {
	wire.Encoder
	wire.Decoder
}, error) {
	switch typ {
	case "event":
		return new(wire.Event), nil
	case "rank":
		return new(wire.RankRequest), nil
	case "config":
		return new(wire.Config), nil
	}
	return nil, fmt.Errorf("unknown document type %q", typ)
}

// TestWireAgreement runs the loader's own modules (sdk/js/src) in
// Chromium against package wire: shardOf against wire.ShardOf, and each
// document encoded by the JavaScript msgpack codec must decode in Go,
// and Go's encoding of it must decode in JavaScript to the same values.
func TestWireAgreement(t *testing.T) {
	b, err := os.ReadFile("testdata/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs cases
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, site{})
	tb := newTab(t)
	tb.Open(srv.URL + "/blank")
	cases := string(b)

	shards := eval[[]int](tb, `import('/src/model.js').then(m => (`+cases+`).shardOf.map(c => m.shardOf(c.id, c.n)))`)
	for i, c := range cs.ShardOf {
		if want := wire.ShardOf(c.ID, c.N); shards[i] != want {
			t.Errorf("shardOf(%q, %d) = %d in JavaScript, %d in Go", c.ID, c.N, shards[i], want)
		}
	}

	encoded := eval[[][]byte](tb, `import('/src/msgpack.js').then(m => (`+cases+`).documents.map(d => btoa(String.fromCharCode(...m.encode(d.value)))))`)
	var again [][]byte
	for i, d := range cs.Documents {
		v, err := document(d.Type)
		if err != nil {
			t.Fatal(err)
		}
		if err := wire.Unmarshal(encoded[i], v, d.Type); err != nil {
			t.Errorf("document %d (%s): Go cannot decode the JavaScript encoding %x: %v", i, d.Type, encoded[i], err)
		}
		again = append(again, wire.Marshal(v))
	}
	arg, _ := json.Marshal(again) // base64 strings
	decoded := eval[[]json.RawMessage](tb, `import('/src/msgpack.js').then(m => `+string(arg)+`.map(s => m.decode(Uint8Array.from(atob(s), c => c.charCodeAt(0)))))`)
	for i, d := range cs.Documents {
		var want, got any
		json.Unmarshal(d.Value, &want)
		json.Unmarshal(decoded[i], &got)
		if err := subset(want, got, d.Type); err != nil {
			t.Errorf("document %d: Go's encoding decoded in JavaScript: %v\n got %s", i, err, decoded[i])
		}
	}
}

// subset checks that every value of want is in got: maps may have more
// keys (Go writes every field), numbers agree to float32 precision, and a
// null or empty want matches got's zero value.
func subset(want, got any, path string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %v, want a map", path, got)
		}
		for k, v := range w {
			if err := subset(v, g[k], path+"."+k); err != nil {
				return err
			}
		}
	case []any:
		g, _ := got.([]any)
		if len(g) != len(w) {
			return fmt.Errorf("%s: %v, want %v", path, got, want)
		}
		for i := range w {
			if err := subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case float64:
		g, _ := got.(float64)
		if math.Abs(g-w) > 1e-6*math.Max(1, math.Abs(w)) {
			return fmt.Errorf("%s: %v, want %v", path, got, want)
		}
	case nil:
		if got != nil {
			return fmt.Errorf("%s: %v, want nil", path, got)
		}
	default:
		if got != want {
			return fmt.Errorf("%s: %v, want %v", path, got, want)
		}
	}
	return nil
}
