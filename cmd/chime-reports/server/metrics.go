package server

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/store"
)

// metrics are the Prometheus series of one server. Each server has its own
// registry (tests build many servers in one process), holding the Go and
// process collectors, the database pool and the HTTP series below. Routes
// are labelled by their pattern (/Chime/Report/:name), never by the raw
// path, so the number of series stays bounded whatever clients send.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	bytes    *prometheus.CounterVec
	rows     *prometheus.CounterVec
	inFlight prometheus.Gauge
}

func newMetrics(db *sql.DB) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chime_http_requests_total", Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chime_http_request_duration_seconds", Help: "Time from request to the end of the answer, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"route"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chime_http_response_bytes_total", Help: "Bytes of answer bodies written, by route pattern.",
		}, []string{"route"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chime_report_rows_total", Help: "Report and log rows written to clients, by route pattern.",
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chime_http_requests_in_flight", Help: "Requests being answered now.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.bytes, m.rows, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db, "chime"))
	}
	return m
}

// middleware observes every request once it is answered.
func (m *metrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		// Deferred: a stream cut half-way (a panic) is counted too.
		defer m.observe(c, start)
		c.Next()
	}
}

// observe counts a request once it has ended.
func (m *metrics) observe(c *gin.Context, start time.Time) {
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, methodLabel(c.Request.Method), strconv.Itoa(c.Writer.Status())).Inc()
	m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	m.bytes.WithLabelValues(route).Add(float64(max(c.Writer.Size(), 0)))
	if n := keys.RowsWritten(c.Request.Context()); n > 0 {
		m.rows.WithLabelValues(route).Add(float64(n))
	}
}

// methodLabel bounds the method label: net/http accepts any token as a
// method, and a label per invented method would grow the series forever.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// auditStats exports the counters of the audit writer.
func (m *metrics) auditStats(stats func() keys.AuditStats) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_audit_records_written_total", Help: "Audit records inserted into audit_log.",
		}, func() float64 { return float64(stats().Written) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_audit_records_dropped_total", Help: "Audit records lost: queue full, or not written by shutdown.",
		}, func() float64 { return float64(stats().Dropped) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chime_audit_records_pending", Help: "Audit records queued or being retried, not yet in audit_log.",
		}, func() float64 { return float64(stats().Pending) }),
	)
}

// answerStats exports the answer cache's counters.
func (m *metrics) answerStats(stats func() reports.AnswerStats) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_answer_cache_hits_total", Help: "Lookups served from the answer cache: answers, data fingerprints, and each day of a daily series.",
		}, func() float64 { return float64(stats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_answer_cache_misses_total", Help: "Lookups not in the answer cache at the current data version (a daily series looks up each of its days).",
		}, func() float64 { return float64(stats().Misses) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_answer_cache_computed_total", Help: "Computations run for misses (concurrent misses of one question share one).",
		}, func() float64 { return float64(stats().Computed) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chime_answer_cache_bytes", Help: "Estimated size of the answers held.",
		}, func() float64 { return float64(stats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chime_answer_cache_entries", Help: "Answers and fingerprints held.",
		}, func() float64 { return float64(stats().Entries) }),
	)
}

// storeStats exports the interval store's maintenance: what the passes
// cost and how far the store is behind.
func (m *metrics) storeStats(totals func() store.Totals) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_store_passes_total", Help: "Maintenance passes of the interval store run by this process.",
		}, func() float64 { return float64(totals().Passes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_store_pass_failures_total", Help: "Maintenance passes that failed.",
		}, func() float64 { return float64(totals().Failed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_store_pass_seconds_total", Help: "Wall time of the maintenance passes.",
		}, func() float64 { return totals().Time.Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_store_captured_sessions_total", Help: "Sessions captured by the passes (a session within the watermark margin is captured by every pass).",
		}, func() float64 { return float64(totals().Captured) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_store_recomputed_ranges_total", Help: "Interval ranges recomputed from raw rows by the passes.",
		}, func() float64 { return float64(totals().Recomputed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "chime_store_retries_total", Help: "Transactions of the passes run again after a deadlock or lock wait time-out.",
		}, func() float64 { return float64(totals().Retries) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chime_store_last_pass_seconds", Help: "Wall time of the last successful pass.",
		}, func() float64 { return totals().LastTook.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chime_store_dirty_intervals", Help: "Dirty intervals left by the last successful pass.",
		}, func() float64 { return float64(totals().DirtyLeft) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "chime_store_watermark_age_seconds", Help: "How far the session watermark is behind now: sessions updated since are read from raw rows (0 before the first pass).",
		}, func() float64 {
			t := totals()
			if t.Watermark.IsZero() {
				return 0
			}
			return time.Since(t.Watermark).Seconds()
		}),
	)
}
