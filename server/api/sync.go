package api

import (
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tailorhq/tailor/sdk/msgp"
	"github.com/tailorhq/tailor/sdk/wire"
	"github.com/tailorhq/tailor/server/ingest"
	"github.com/tailorhq/tailor/server/store"
)

// Sync results: the reason token of every response of POST /v1/sync, in
// the response body and in the tailor_syncs_total metric. The refusals of
// the delta's content are ingest's (ingest.Reasons).
const (
	reasonAccepted        = "accepted"
	reasonDuplicate       = "duplicate"
	reasonRateLimited     = "rate_limited"
	reasonMediaType       = "media_type"
	reasonContentEncoding = "content_encoding"
	reasonTooLarge        = "too_large"
	reasonMalformed       = "malformed"
	reasonUnknownSite     = "unknown_site"
	reasonOrigin          = "origin"
	reasonLocalMode       = "local_mode"
	reasonUnknownModel    = "unknown_model"
	reasonStaleModel      = "stale_model"
	reasonConflict        = "id_conflict"
	reasonUnavailable     = "unavailable"
)

// syncMediaTypes are the content types a delta may come with: msgpack's,
// and text/plain (or none), which navigator.sendBeacon and a "simple"
// fetch send cross-origin without a CORS preflight.
var syncMediaTypes = map[string]bool{"": true, "application/msgpack": true, "application/x-msgpack": true,
	"application/vnd.msgpack": true, "text/plain": true, "application/octet-stream": true}

var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, MaxBodyBytes+1); return &b }}

// canonicalPool holds the writers deltas are re-encoded with: the store
// copies what it keeps (store.Store.Append does not retain the body).
var canonicalPool = sync.Pool{New: func() any { return msgp.NewWriter(4 << 10) }}

// SyncStatusHeader is the header of a 202 Accepted that says the delta
// was recorded before: "duplicate", a retry. A sync that records its delta
// now answers a bare 202, with no header of its own and no body: a device
// sends the delta with sendBeacon or a no-cors fetch and never reads the
// answer, and each header cost every sync CPU on both ends (RATIONALE.md,
// "What does a durable sync cost, against a bare handler?").
const SyncStatusHeader = "Tailor-Sync-Status"

// hdrDuplicate is SyncStatusHeader's value, shared: net/http only reads it.
var hdrDuplicate = []string{reasonDuplicate}

// handleSync accepts one profile delta. It answers 202 only once the delta
// is durable; what it stores is the delta re-encoded (ingest.Canonical),
// never the body, so a retry of a recorded delta (same id, same canonical
// bytes) answers 202 with SyncStatusHeader "duplicate" and counts nothing
// twice. Refusals store nothing. Neither 202 says Cache-Control: no cache
// keeps a 202 to a POST without explicit freshness (RFC 9111, 3 and 4.2.2).
func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	var key string      // the site, once known
	now := s.arrival(w) // the sync's one time, as the rate limit, the store and the console see it
	reason, code, err := s.sync(w, r, &key, now)
	s.metrics.sync(result(code), reason).Inc()
	if key != "" {
		s.siteSyncs.add(key, reason, now)
	}
	if err != nil {
		if code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
			s.log.Error("sync", "err", err)
		}
		writeError(w, code, reason, err)
		return
	}
	if reason == reasonDuplicate {
		w.Header()[SyncStatusHeader] = hdrDuplicate
		w.WriteHeader(code)
		return
	}
	writeEmpty(w, code)
}

func result(code int) string {
	if code == http.StatusAccepted {
		return "accepted"
	}
	return "rejected"
}

func (s *Server) sync(w http.ResponseWriter, r *http.Request, key *string, now time.Time) (reason string, code int, err error) {
	// Until the body names the site, an origin some site allows may read
	// the answer (a refusal's message helps its developers); once it does,
	// only that site's origins may.
	origin := r.Header.Get("Origin")
	if origin != "" && s.sites.AnyAllowsOrigin(origin) {
		allowOrigin(w, origin)
	}
	if !isLocal(r) {
		if wait, ok := s.limiter.allow(s.clientAddr(r), now); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(1, math.Ceil(wait.Seconds())))))
			w.Header().Set("Connection", "close")
			return reasonRateLimited, http.StatusTooManyRequests,
				fmt.Errorf("%w: retry in %v", ErrRateLimited, wait.Round(time.Millisecond))
		}
	}
	// A device sends the delta as written: a Content-Encoding would make
	// the size cap apply to compressed bytes, and it is never needed.
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return reasonContentEncoding, http.StatusUnsupportedMediaType,
			fmt.Errorf("%w %q: send the delta uncompressed", ErrContentEncoding, ce)
	}
	if ct := r.Header.Get("Content-Type"); !syncMediaTypes[ct] { // parsed unless it is one exactly
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !syncMediaTypes[mt] {
			return reasonMediaType, http.StatusUnsupportedMediaType,
				fmt.Errorf("%w %q: send application/msgpack (or text/plain, for sendBeacon)", ErrMediaType, ct)
		}
	}
	if r.ContentLength > MaxBodyBytes {
		// Refuse without reading, and close: a client waiting on "Expect:
		// 100-continue" then never sends the body.
		w.Header().Set("Connection", "close")
		return reasonTooLarge, http.StatusRequestEntityTooLarge,
			fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, r.ContentLength, MaxBodyBytes)
	}
	bp := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(bp)
	body, err := readBody((*bp)[:0], r.Body)
	*bp = body[:0]
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return reasonTooLarge, http.StatusRequestEntityTooLarge,
				fmt.Errorf("%w: over %d bytes", ErrTooLarge, MaxBodyBytes)
		}
		return reasonMalformed, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	d, err := ingest.Decode(body)
	if err != nil {
		return refusal(err)
	}
	conf, ok := s.sites.Get(d.Site) // its site's configuration
	if !ok {
		return reasonUnknownSite, http.StatusForbidden, fmt.Errorf("%w %q", ErrUnknownSite, d.Site)
	}
	*key = d.Site
	if origin != "" && !conf.AllowsOrigin(origin) {
		w.Header().Del("Access-Control-Allow-Origin")
		return reasonOrigin, http.StatusForbidden, fmt.Errorf("%w %q: %q", ErrOrigin, d.Site, origin)
	}
	if conf.Privacy == wire.PrivacyLocal {
		return reasonLocalMode, http.StatusForbidden, fmt.Errorf("%w (site %q)", ErrLocalMode, d.Site)
	}
	if err := ingest.Check(&d, ingest.Policy{Privacy: conf.Privacy, Epsilon: conf.Epsilon}); err != nil {
		return refusal(err)
	}
	cur, ok := s.agg.Current(d.Site)
	switch {
	case !ok:
		return reasonUnavailable, http.StatusServiceUnavailable, fmt.Errorf("site %q has no model yet", d.Site)
	case d.Model > cur.Number:
		return reasonUnknownModel, http.StatusUnprocessableEntity,
			fmt.Errorf("%w: %d (site %q is at version %d)", ErrUnknownModel, d.Model, d.Site, cur.Number)
	case cur.Number-d.Model > s.maxLag:
		return reasonStaleModel, http.StatusConflict,
			fmt.Errorf("%w: %d, the oldest accepted is %d: fetch /v1/model and sync again", ErrStaleModel, d.Model, cur.Number-s.maxLag)
	}
	cw := canonicalPool.Get().(*msgp.Writer)
	defer canonicalPool.Put(cw)
	canonical := ingest.CanonicalTo(cw, &d)
	// The leader's fold takes d rather than decoding the stored body
	// again; from here on d is only read.
	offered := s.agg.Offer(&d, canonical)
	a, err := s.store.Append(r.Context(), store.Delta{Site: d.Site, ID: d.ID, Model: d.Model, Received: now.UTC(),
		Body: canonical})
	if offered && (err != nil || a.Duplicate) {
		s.agg.Withdraw(&d)
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		return reasonConflict, http.StatusConflict, fmt.Errorf("delta id %x was already recorded with other content", d.ID)
	case err != nil:
		return reasonUnavailable, http.StatusServiceUnavailable, fmt.Errorf("record delta: %w", err)
	case a.Duplicate:
		return reasonDuplicate, http.StatusAccepted, nil
	}
	s.agg.Notify()
	return reasonAccepted, http.StatusAccepted, nil
}

// refusal is the reason token and status of an error of ingest.Decode or
// ingest.Check: 400 for bytes that are not a delta, 413 for too many, 422
// for a delta the server does not take.
func refusal(err error) (reason string, code int, _ error) {
	switch reason := ingest.Reason(err); reason {
	case reasonMalformed:
		return reason, http.StatusBadRequest, err
	case reasonTooLarge:
		return reason, http.StatusRequestEntityTooLarge, err
	case "":
		return reasonMalformed, http.StatusBadRequest, err
	default:
		return reason, http.StatusUnprocessableEntity, err
	}
}

// readBody reads a body (capped by the middleware's MaxBytesReader) into b.
func readBody(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// allowOrigin lets a browser at origin read the response; it never allows
// credentials.
func allowOrigin(w http.ResponseWriter, origin string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
}

// handleSyncPreflight answers the CORS preflight of a fetch that sends
// Content-Type: application/msgpack. A preflight carries no site key, so
// an origin any site allows passes; the sync itself checks its site's.
func (s *Server) handleSyncPreflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	h := w.Header()
	h.Add("Vary", "Origin")
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	if origin == "" || !s.sites.AnyAllowsOrigin(origin) || r.Header.Get("Access-Control-Request-Method") != http.MethodPost {
		writeError(w, http.StatusForbidden, reasonOrigin, fmt.Errorf("%w: %q", ErrOrigin, origin))
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
