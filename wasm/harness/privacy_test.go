package harness_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/wasm/harness"
	"github.com/tailorhq/tailor/wasm/harness/harnesstest"
)

// takeDelta tracks three clicks at at (a block, sdk/delta Block) and
// returns the decoded delta. The items are named after at: a device sends
// an item once (sdk/delta MaxSent), so each call needs new ones.
func takeDelta(t *testing.T, in *harness.Instance, at time.Time) wire.Delta {
	t.Helper()
	for i, id := range []string{fmt.Sprint("gown-", at.Unix()), fmt.Sprint("heels-", at.Unix()), fmt.Sprint("clutch-", at.Unix())} {
		if err := in.Track(event(wire.KindClick, id, "c", at.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	return harnesstest.Delta(t, in)
}

// TestSameProfileDifferentDevices is issue 9's finding 1 and 2 at the
// source: two devices holding the same stored profile bytes, configured
// alike, must not draw the same delta id nor the same LDP report. Before,
// the profile carried the generator's state, so they drew identical ids
// and identical noise.
func TestSameProfileDifferentDevices(t *testing.T) {
	for _, c := range []wire.Config{cfg(), {Site: "demo", Privacy: wire.PrivacyLDP, Epsilon: 2}} {
		t.Run(c.Privacy.String(), func(t *testing.T) {
			a, b := harnesstest.Instance(t), harnesstest.Instance(t)
			if err := a.Init(c); err != nil {
				t.Fatal(err)
			}
			if err := a.Track(event(wire.KindView, "tent-7", "tents", t0)); err != nil {
				t.Fatal(err)
			}
			saved, err := a.SaveProfile()
			if err != nil {
				t.Fatal(err)
			}
			var ids [][16]byte
			var reports []string // what LDP randomizes: the reports (and, before them, the noisy weights)
			for _, in := range []*harness.Instance{a, b} {
				if err := in.Init(c); err != nil {
					t.Fatal(err)
				}
				if err := in.LoadProfile(saved); err != nil {
					t.Fatal(err)
				}
				d := takeDelta(t, in, t0.Add(time.Hour))
				ids, reports = append(ids, d.ID), append(reports, fmt.Sprint(d.Reports, d.Pairs, d.Items))
			}
			if ids[0] == ids[1] {
				t.Errorf("two devices with the same profile sent the same delta id %x", ids[0])
			}
			if c.Privacy == wire.PrivacyLDP && reports[0] == reports[1] {
				t.Errorf("two devices with the same profile sent the same LDP reports %v", reports[0])
			}
		})
	}
}

// splitmix64 constants: the generator the profile used to carry.
const (
	gamma = 0x9e3779b97f4a7c15
	m1    = 0xbf58476d1ce4e5b9
	m2    = 0x94d049bb133111eb
)

func mix(z uint64) uint64 {
	z = (z ^ z>>30) * m1
	z = (z ^ z>>27) * m2
	return z ^ z>>31
}

// unmix inverts mix: xorshifts undone by repeated shifting, multiplications
// by the constants' inverses modulo 2^64.
func unmix(z uint64) uint64 {
	unshift := func(z uint64, s uint) uint64 {
		for x := z >> s; x != 0; x >>= s {
			z ^= x
		}
		return z
	}
	z = unshift(z, 31)
	z *= inverse(m2)
	z = unshift(z, 27)
	z *= inverse(m1)
	return unshift(z, 30)
}

// inverse returns a's inverse modulo 2^64 (a odd), by Newton's iteration.
func inverse(a uint64) uint64 {
	x := a
	for range 6 {
		x *= 2 - a*x
	}
	return x
}

// predictions is what an operator who inverts splitmix64 from one delta id
// expects the device to draw next: the next n outputs after each half of
// the id, and the first n outputs of a generator reseeded with any of
// those (what forget() did).
func predictions(id [16]byte, n int) map[uint64]bool {
	out := map[uint64]bool{}
	for half := 0; half < 2; half++ {
		s := unmix(binary.LittleEndian.Uint64(id[8*half:]))
		for k := 1; k <= n; k++ {
			o := mix(s + uint64(k)*gamma)
			out[o] = true
			for j := 1; j <= n; j++ {
				out[mix(o+uint64(j)*gamma)] = true
			}
		}
	}
	return out
}

// TestIDsUnpredictable is issue 9's finding 1: the operator inverts
// splitmix64 from one delta id, as the issue did, and tries to recognise
// the same device's next delta (the next day, after a reload) and its
// delta after forget(). With the generator's state in the profile, each
// was a few draws away; now none of the predicted draws may come up.
func TestIDsUnpredictable(t *testing.T) {
	if got := unmix(mix(12345)); got != 12345 {
		t.Fatalf("unmix(mix(12345)) = %d: the attack itself is broken", got)
	}
	in := initialized(t)
	first := takeDelta(t, in, t0)
	guess := predictions(first.ID, 64)

	// The next day, on a new page: the stored profile is loaded.
	saved, err := in.SaveProfile()
	if err != nil {
		t.Fatal(err)
	}
	next := harnesstest.Instance(t)
	if err := next.Init(cfg()); err != nil {
		t.Fatal(err)
	}
	if err := next.LoadProfile(saved); err != nil {
		t.Fatal(err)
	}
	later := takeDelta(t, next, t0.Add(24*time.Hour))
	if err := next.Forget(); err != nil {
		t.Fatal(err)
	}
	forgotten := takeDelta(t, next, t0.Add(25*time.Hour))
	for _, tc := range []struct {
		name string
		id   [16]byte
	}{{"next day", later.ID}, {"after forget", forgotten.ID}} {
		for half := 0; half < 2; half++ {
			if v := binary.LittleEndian.Uint64(tc.id[8*half:]); guess[v] {
				t.Errorf("%s: id half %#x predicted from the first delta's id %x", tc.name, v, first.ID)
			}
		}
	}
}

// TestSeededRandom checks the test-only seeded source: equal seeds give
// equal ids, Seed restarts an instance's stream, a CSPRNG runtime refuses
// Seed.
func TestSeededRandom(t *testing.T) {
	ctx := context.Background()
	rt, err := harness.New(ctx, harnesstest.Wasm(t), harness.WithSeededRandom(7))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	var ids [][16]byte
	for range 2 {
		in, err := rt.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Seed(42); err != nil {
			t.Fatal(err)
		}
		if err := in.Init(cfg()); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, takeDelta(t, in, t0).ID)
	}
	if ids[0] != ids[1] {
		t.Errorf("seed 42 on two instances: ids %x and %x, want equal", ids[0], ids[1])
	}
	if err := harnesstest.Instance(t).Seed(42); err != harness.ErrNotSeeded {
		t.Errorf("Seed on a CSPRNG runtime = %v, want ErrNotSeeded", err)
	}
}
