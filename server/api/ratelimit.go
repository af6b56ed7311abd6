package api

import (
	"context"
	"hash/maphash"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// limiter is a token bucket per source address for POST /v1/sync: each
// source may sync rate times a second on average, burst at once. A device
// syncs about once a minute at most, so the defaults of tailor-server
// leave room for many devices behind one address (an office, a carrier's
// NAT) while one client can no longer post thousands of deltas a second.
//
// Buckets are keyed by a 64-bit hash of the address under a seed drawn
// when the process starts: the map holds no address, and nothing here is
// logged or stored. IPv6 sources are keyed by their /64, the block one
// host usually holds. A bucket that has refilled is the same as no bucket,
// so idle ones are pruned; past maxBuckets, arbitrary ones are dropped (a
// dropped source starts again with a full bucket, which only an attacker
// with that many addresses could notice).
//
// # Notes
//
// A limiter is goroutine-safe. A nil *limiter allows everything.
type limiter struct {
	rate, burst float64
	maxBuckets  int
	seed        maphash.Seed

	mu      sync.Mutex
	buckets map[uint64]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// defaultMaxBuckets bounds the limiter's memory: about 100 bytes a bucket.
const defaultMaxBuckets = 100_000

func newLimiter(rate float64, burst int, maxBuckets int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), maxBuckets: maxBuckets, seed: maphash.MakeSeed(),
		buckets: map[uint64]*bucket{}}
}

// allow takes a token from addr's bucket at now; if there is none, it
// reports how long until there is one.
func (l *limiter) allow(addr netip.Addr, now time.Time) (wait time.Duration, ok bool) {
	if l == nil {
		return 0, true
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.WithZone("").Prefix(64)
		addr = p.Addr()
	}
	key := maphash.Comparable(l.seed, addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		l.makeRoom(now)
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
}

// makeRoom prunes the buckets that have refilled, at most once a second
// or when the map is full; if it is still full, it drops arbitrary buckets
// down to nine tenths of the bound, so that a flood of new sources costs
// one sweep per tenth of the bound, not one per source. The caller holds
// mu.
func (l *limiter) makeRoom(now time.Time) {
	full := len(l.buckets) >= l.maxBuckets
	if !full && now.Sub(l.swept) < time.Second {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < l.maxBuckets {
		return
	}
	for k := range l.buckets {
		if len(l.buckets) < l.maxBuckets*9/10 {
			break
		}
		delete(l.buckets, k)
	}
}

// len returns the number of buckets, for tests.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// localKey marks a request the process made itself (Server.Local).
type localKey struct{}

// Local returns the server's handler for requests the process makes
// itself, in memory (the demo's seeding posts thousands of deltas): they
// are not rate limited. Never serve it on a listener.
func (s *Server) Local() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), localKey{}, true)))
	})
}

func isLocal(r *http.Request) bool { return r.Context().Value(localKey{}) != nil }

// clientAddr returns the address a request comes from: the connection's
// peer, or, behind a proxy the operator trusts (WithTrustForwardedFor),
// the last address in X-Forwarded-For, the one that proxy appended.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	if s.trustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return a
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host) // unparsable (an in-process request): the zero Addr, one shared bucket
	return a
}
