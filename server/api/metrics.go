package api

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tailorhq/tailor/server/publish"
)

// metrics are the server's Prometheus metrics.
type metrics struct {
	syncs       *prometheus.CounterVec   // by result and reason
	requestsVec *prometheus.CounterVec   // by route and code
	latency     *prometheus.HistogramVec // by route
	bytesIn     *prometheus.CounterVec   // by route
	bytesOut    *prometheus.CounterVec   // by route
	inflight    prometheus.Gauge
	handler     http.Handler

	// The children of the vectors above that requests count in, by
	// route (*routeMetrics) and by a sync's result and reason
	// (prometheus.Counter): WithLabelValues hashes and looks up its
	// labels on every call, four or five times a request (1.2 µs of a
	// sync's CPU, BenchmarkSyncHandler). Both are bounded: routes are
	// the mux's patterns, reasons the handler's tokens.
	routes  sync.Map // string → *routeMetrics
	results sync.Map // syncResult → prometheus.Counter
}

// routeMetrics are a route's children of the request metrics.
type routeMetrics struct {
	latency           prometheus.Observer
	bytesIn, bytesOut prometheus.Counter
	codes             sync.Map // int → prometheus.Counter (tailor_http_requests_total)
}

// syncResult is a sync's labels in tailor_syncs_total.
type syncResult struct{ result, reason string }

// route returns a route's metrics.
func (m *metrics) route(pattern string) *routeMetrics {
	if rm, ok := m.routes.Load(pattern); ok {
		return rm.(*routeMetrics)
	}
	rm, _ := m.routes.LoadOrStore(pattern, &routeMetrics{latency: m.latency.WithLabelValues(pattern),
		bytesIn: m.bytesIn.WithLabelValues(pattern), bytesOut: m.bytesOut.WithLabelValues(pattern)})
	return rm.(*routeMetrics)
}

// requests returns the counter of a route's answers with code.
func (m *metrics) requests(rm *routeMetrics, pattern string, code int) prometheus.Counter {
	if c, ok := rm.codes.Load(code); ok {
		return c.(prometheus.Counter)
	}
	c, _ := rm.codes.LoadOrStore(code, m.requestsVec.WithLabelValues(pattern, strconv.Itoa(code)))
	return c.(prometheus.Counter)
}

// sync returns the counter of syncs with a result and reason.
func (m *metrics) sync(result, reason string) prometheus.Counter {
	k := syncResult{result, reason}
	if c, ok := m.results.Load(k); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.results.LoadOrStore(k, m.syncs.WithLabelValues(result, reason))
	return c.(prometheus.Counter)
}

func newMetrics(reg *prometheus.Registry, agg *publish.Aggregator) (*metrics, error) {
	m := &metrics{
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tailor_syncs_total",
			Help: "Profile delta syncs by result (accepted, rejected) and reason (accepted, duplicate, malformed, origin, ...)."},
			[]string{"result", "reason"}),
		requestsVec: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tailor_http_requests_total",
			Help: "HTTP requests by route pattern and status code."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tailor_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12)}, []string{"route"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tailor_http_request_bytes_total",
			Help: "Request body bytes read, by route pattern."}, []string{"route"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tailor_http_response_bytes_total",
			Help: "Response body bytes written, by route pattern."}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tailor_http_requests_in_flight",
			Help: "HTTP requests being served."}),
	}
	for _, c := range []prometheus.Collector{m.syncs, m.requestsVec, m.latency, m.bytesIn, m.bytesOut, m.inflight,
		&aggCollector{agg}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m, nil
}

// handleMetrics serves the Prometheus metrics to the admin token only:
// they count each site's traffic.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r, nil) {
		unauthorized(w, "GET /metrics (the admin token)")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.metrics.handler.ServeHTTP(w, r)
}

// aggCollector reports each site's model and aggregation status.
type aggCollector struct{ agg *publish.Aggregator }

var (
	descVersion = prometheus.NewDesc("tailor_model_version", "Newest published model version.", []string{"site"}, nil)
	descDeltas  = prometheus.NewDesc("tailor_model_deltas", "Profile deltas folded into the newest version.", []string{"site"}, nil)
	descBytes   = prometheus.NewDesc("tailor_model_bytes", "Bytes of the newest version's weight shards.", []string{"site"}, nil)
	descLag     = prometheus.NewDesc("tailor_aggregation_lag_seconds",
		"Age of the oldest folded delta not yet in a published version (0: none pending).", []string{"site"}, nil)
	descPublish = prometheus.NewDesc("tailor_publish_duration_seconds", "How long the last publication took.", []string{"site"}, nil)
	descFoldErr = prometheus.NewDesc("tailor_fold_errors_total", "Stored deltas that failed to decode when folded.", []string{"site"}, nil)
)

func (c *aggCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descVersion, descDeltas, descBytes, descLag, descPublish, descFoldErr} {
		ch <- d
	}
}

func (c *aggCollector) Collect(ch chan<- prometheus.Metric) {
	for _, key := range c.agg.Sites() {
		in, _ := c.agg.Info(key)
		ch <- prometheus.MustNewConstMetric(descVersion, prometheus.GaugeValue, float64(in.Version), key)
		ch <- prometheus.MustNewConstMetric(descDeltas, prometheus.GaugeValue, float64(in.Deltas), key)
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(in.Bytes), key)
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, in.Lag.Seconds(), key)
		ch <- prometheus.MustNewConstMetric(descPublish, prometheus.GaugeValue, in.LastPublish.Seconds(), key)
		ch <- prometheus.MustNewConstMetric(descFoldErr, prometheus.CounterValue, float64(in.FoldErrors), key)
	}
}

// instrument caps every request body at MaxBodyBytes and records each
// request's route, status, latency and bytes. It also refuses to let any
// handler but the console's set a cookie, and adds the security headers
// (secureHeaders).
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inflight.Inc()
		defer s.metrics.inflight.Dec()
		// One allocation for the recorder and the body's counter.
		rec := &recorder{ResponseWriter: w, code: http.StatusOK, cookies: inConsole(r.URL.Path), start: start}
		rec.body.r = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		r.Body = &rec.body
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		rm := s.metrics.route(route)
		s.metrics.requests(rm, route, rec.code).Inc()
		rm.latency.Observe(time.Since(start).Seconds())
		rm.bytesIn.Add(float64(rec.body.n))
		rm.bytesOut.Add(float64(rec.n))
	})
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

// recorder records a response's status and size.
type recorder struct {
	http.ResponseWriter
	code    int
	n       int64
	wrote   bool
	cookies bool           // the console's answer: its session cookie passes
	body    countingReader // the request's body, counted
	start   time.Time      // when the request came (arrival)
}

// arrival returns when the request answered on w came: the clock's
// (WithClock), else the time instrument read, rather than another read
// of the clock (a few hundred ns on this VM, and a sync read it three
// times).
func (s *Server) arrival(w http.ResponseWriter) time.Time {
	if s.now != nil {
		return s.now()
	}
	if rec, ok := w.(*recorder); ok {
		return rec.start
	}
	return time.Now()
}

// writeEmpty answers code with neither a body nor a header of its own
// (net/http adds Date and Content-Length): a recorded sync's 202. It
// leaves out secureHeaders, whose nosniff protects a body, and thereby
// any use of the header map, which net/http copies at WriteHeader once a
// handler touched it (3 allocations). Headers set before, such as CORS's,
// are still written. Nothing may be written after it.
func writeEmpty(w http.ResponseWriter, code int) {
	if rec, ok := w.(*recorder); ok {
		rec.code, rec.wrote = code, true
		w = rec.ResponseWriter
	}
	w.WriteHeader(code)
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
		if !r.cookies {
			r.Header().Del("Set-Cookie")
		}
		secureHeaders(r.Header())
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wrote {
		if r.Header().Get("Content-Type") == "" {
			// What net/http would sniff after WriteHeader, now, so that
			// secureHeaders sees an HTML page as one.
			r.Header().Set("Content-Type", http.DetectContentType(p))
		}
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(p)
	r.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
