package wire_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tailorhq/tailor/sdk/internal/wiretest"
	"github.com/tailorhq/tailor/sdk/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldens are the wire bytes other parties depend on: the loader writes
// events and rank requests, the server reads deltas and writes weights
// and configurations. A change to any of them is a wire format change:
// bump the schema version, then regenerate with go test -update.
var goldens = []struct {
	file string
	v    codec
}{
	{"event.hex", sampleEvent()},
	{"rank_request.hex", sampleRankRequest()},
	{"delta.hex", sampleDelta()},
	{"weights.hex", sampleWeights()},
	{"config.hex", sampleConfig()},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldens {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			got := wire.Marshal(tc.v)
			if *update {
				if err := os.WriteFile(path, []byte(formatHex(got)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := readHex(t, path)
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal = \n%s\nwant (%s)\n%s", formatHex(got), path, formatHex(want))
			}
			v := fresh(tc.v)
			if err := wire.Unmarshal(want, v, tc.file); err != nil {
				t.Fatalf("golden bytes do not decode: %v", err)
			}
			if !wiretest.SameData(v, tc.v) {
				t.Fatalf("golden bytes decode to\n%+v\nwant\n%+v", v, tc.v)
			}
		})
	}
}

// formatHex writes b as lower-case hex, 32 bytes a line, so a diff shows
// where bytes changed.
func formatHex(b []byte) string {
	var s strings.Builder
	for len(b) > 0 {
		n := min(len(b), 32)
		s.WriteString(hex.EncodeToString(b[:n]))
		s.WriteByte('\n')
		b = b[n:]
	}
	return s.String()
}

// readHex reads a golden file written by formatHex; whitespace is ignored.
func readHex(t *testing.T, path string) []byte {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// TestShardOfGolden pins ShardOf's values: the server shards weights with
// it and every device looks shards up with it, so they must never change.
func TestShardOfGolden(t *testing.T) {
	for _, tc := range []struct {
		id   string
		n    int
		want int
	}{
		{"", 0, 0},
		{"gown-1", 0, 0},
		{"gown-1", 1, 0},
		{"gown-1", -3, 0},
		{"", 16, 5},
		{"gown-1", 2, 0},
		{"gown-1", 16, 8},
		{"gown-1", 256, 216},
		{"heels-3", 16, 8},
		{"clutch-2", 16, 15},
		{"coffee-machine-7", 64, 33},
		{"a", 1000, 220},
		{"é", 7, 2},
	} {
		if got := wire.ShardOf(tc.id, tc.n); got != tc.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", tc.id, tc.n, got, tc.want)
		}
	}
}

// TestShardOfIsFNV1a checks ShardOf against the standard library's FNV-1a,
// which a server in any language can reproduce.
func TestShardOfIsFNV1a(t *testing.T) {
	for i := 0; i < 2000; i++ {
		id := "item-" + strconv.Itoa(i)
		h := fnv.New32a()
		h.Write([]byte(id))
		for _, n := range []int{2, 3, 16, 1000} {
			if got, want := wire.ShardOf(id, n), int(h.Sum32()%uint32(n)); got != want {
				t.Fatalf("ShardOf(%q, %d) = %d, FNV-1a gives %d", id, n, got, want)
			}
		}
	}
}

// TestShardOfDistribution checks that typical ids spread evenly: no shard
// holds more than 25% over or under its share.
func TestShardOfDistribution(t *testing.T) {
	const ids, shards = 20000, 16
	var count [shards]int
	for i := 0; i < ids; i++ {
		s := wire.ShardOf("sku-"+strconv.Itoa(i), shards)
		if s < 0 || s >= shards {
			t.Fatalf("ShardOf = %d, out of [0, %d)", s, shards)
		}
		count[s]++
	}
	mean := ids / shards
	for s, c := range count {
		if c < mean*3/4 || c > mean*5/4 {
			t.Errorf("shard %d holds %d ids, want about %d (counts %v)", s, c, mean, count)
		}
	}
}
