package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// samples are a benchmark run's figures: benchmark name (without the
// GOMAXPROCS suffix) → unit → one value per count, in order.
type samples map[string]map[string][]float64

// parseBench reads `go test -bench` output: each result line is a name,
// an iteration count, then value-unit pairs.
func parseBench(r io.Reader) (samples, error) {
	out := samples{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if out[name] == nil {
			out[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", name, f[i], err)
			}
			out[name][f[i+1]] = append(out[name][f[i+1]], v)
		}
	}
	return out, sc.Err()
}

// median returns the median of xs (0 for none); it does not change xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// get returns the median of a benchmark's unit, and whether it ran.
func (s samples) get(name, unit string) (float64, bool) {
	xs := s[name][unit]
	return median(xs), len(xs) > 0
}

// count returns how many values a benchmark's unit has.
func (s samples) count(name, unit string) int { return len(s[name][unit]) }

// goBench runs `go test -run '^$' -bench re -count n -benchtime t pkg`
// in dir and parses its results. A benchmark that fails fails it.
func goBench(ctx context.Context, dir, goCmd, pkg, re string, n int, benchtime string) (samples, error) {
	args := []string{"test", "-run", "^$", "-bench", re, "-count", strconv.Itoa(n)}
	if benchtime != "" {
		args = append(args, "-benchtime", benchtime)
	}
	cmd := exec.CommandContext(ctx, goCmd, append(args, pkg)...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(append(args, pkg), " "), err, tail(out.Bytes(), 2000))
	}
	return parseBench(&out)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// tail returns the last n bytes of b, for an error message.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
