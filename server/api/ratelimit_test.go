package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// TestLimiter drives the token bucket on a made-up clock: a source gets
// its burst, then rate a second; another source is unaffected; an IPv6
// host is one source across its /64.
func TestLimiter(t *testing.T) {
	l := newLimiter(2, 5, 100)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a, b := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("198.51.100.1")
	for i := range 5 {
		if _, ok := l.allow(a, t0); !ok {
			t.Fatalf("sync %d of the burst refused", i+1)
		}
	}
	wait, ok := l.allow(a, t0)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("past the burst: ok %v, wait %v; want refused, 500ms", ok, wait)
	}
	if _, ok := l.allow(b, t0); !ok {
		t.Fatal("another address was refused")
	}
	if _, ok := l.allow(a, t0.Add(499*time.Millisecond)); ok {
		t.Fatal("a token before it refilled")
	}
	if _, ok := l.allow(a, t0.Add(500*time.Millisecond)); !ok {
		t.Fatal("no token once refilled")
	}
	// 2 a second, sustained, over a minute: 120 more, not 121.
	n := 0
	for ms := 1000; ms <= 60_500; ms += 10 {
		if _, ok := l.allow(a, t0.Add(time.Duration(ms)*time.Millisecond)); ok {
			n++
		}
	}
	if n != 120 {
		t.Errorf("%d syncs allowed over 60 s at 2/s", n)
	}

	v6 := newLimiter(1, 1, 100)
	if _, ok := v6.allow(netip.MustParseAddr("2001:db8:1:2::1"), t0); !ok {
		t.Fatal("first IPv6 sync refused")
	}
	if _, ok := v6.allow(netip.MustParseAddr("2001:db8:1:2:ffff::9"), t0); ok {
		t.Error("another address of the same /64 got a bucket of its own")
	}
	if _, ok := v6.allow(netip.MustParseAddr("2001:db8:1:3::1"), t0); !ok {
		t.Error("another /64 was refused")
	}
	if _, ok := v6.allow(netip.MustParseAddr("::ffff:203.0.113.7"), t0); !ok {
		t.Error("an IPv4-mapped address was refused")
	}
	if _, ok := v6.allow(netip.MustParseAddr("203.0.113.7"), t0); ok {
		t.Error("an IPv4 address and its mapped form got two buckets")
	}
}

// TestLimiterBounded: a flood of fresh addresses never holds more than
// the bound, and buckets that refilled are pruned.
func TestLimiterBounded(t *testing.T) {
	const max = 1000
	l := newLimiter(1, 10, max)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := range 50_000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.allow(a, t0.Add(time.Duration(i)*time.Microsecond))
		if n := l.len(); n > max {
			t.Fatalf("%d buckets after %d addresses, the bound is %d", n, i+1, max)
		}
	}
	// Ten seconds later every bucket has refilled: one new source prunes them.
	l.allow(netip.MustParseAddr("192.0.2.1"), t0.Add(20*time.Second))
	if n := l.len(); n != 1 {
		t.Errorf("%d buckets after every other one refilled, want 1", n)
	}
}

// TestClientAddr: X-Forwarded-For counts only when trusted, and then its
// last entry, the one the proxy appended.
func TestClientAddr(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/sync", nil)
	r.RemoteAddr = "192.0.2.10:5555"
	r.Header.Add("X-Forwarded-For", "1.2.3.4, 198.51.100.9")
	s := &Server{}
	if got := s.clientAddr(r); got != netip.MustParseAddr("192.0.2.10") {
		t.Errorf("untrusted: %v", got)
	}
	s.trustForwardedFor = true
	if got := s.clientAddr(r); got != netip.MustParseAddr("198.51.100.9") {
		t.Errorf("trusted: %v", got)
	}
	r.Header.Add("X-Forwarded-For", "203.0.113.5")
	if got := s.clientAddr(r); got != netip.MustParseAddr("203.0.113.5") {
		t.Errorf("trusted, two headers: %v", got)
	}
	r.Header.Set("X-Forwarded-For", "garbage")
	if got := s.clientAddr(r); got != netip.MustParseAddr("192.0.2.10") {
		t.Errorf("trusted, unparsable: %v", got)
	}
}
