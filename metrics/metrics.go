// Package metrics is what duban reports on /metrics, in Prometheus's format.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the daemon's counters, on a registry of their own so that tests and several
// daemons in one process never collide.
type Metrics struct {
	registry *prometheus.Registry

	sends          *prometheus.CounterVec
	updates        *prometheus.CounterVec
	handlerSeconds *prometheus.HistogramVec
	storeErrors    prometheus.Counter
	refusals       prometheus.Counter
	answersDropped *prometheus.CounterVec
}

// New registers every metric.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "duban_telegram_sends_total",
			Help: "Outcomes of sendMessage calls: sent (accepted by Telegram), retry (5xx or a refused connection, tried again), ambiguous (the request went out and its answer was lost, so the retry may deliver a duplicate), 429 (rate limited, waited), forbidden (bot removed), failed (given up).",
		}, []string{"outcome"}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "duban_updates_handled_total",
			Help: "Telegram updates handled, by kind (message, edit, button, membership, other, panic).",
		}, []string{"kind"}),
		handlerSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "duban_update_handler_seconds",
			Help:    "Time to handle one Telegram update: storing it and queueing its answer (the answer goes out on its own).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"kind"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "duban_store_errors_total",
			Help: "Store calls that failed: updates held back for retry and failed health checks.",
		}),
		refusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "duban_refusals_dropped_total",
			Help: "\"Not bound\" answers not sent: the chat, bound to no department, was told so within the last few minutes (a flood collapses to one answer).",
		}),
		answersDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "duban_answers_dropped_total",
			Help: "Answers (acknowledgements, notices) not sent, by reason: queue_full (too many waiting for one chat), shutdown (still queued when the daemon stopped). What they answer is recorded.",
		}, []string{"reason"}),
	}
	m.registry.MustRegister(m.sends, m.updates, m.handlerSeconds, m.storeErrors, m.refusals, m.answersDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, outcome := range []string{"sent", "retry", "ambiguous", "429", "forbidden", "failed"} {
		m.sends.WithLabelValues(outcome) // show every outcome from the start, at 0
	}
	for _, reason := range []string{"queue_full", "shutdown"} {
		m.answersDropped.WithLabelValues(reason)
	}
	return m
}

// ObserveSend counts one outcome of a send.
func (m *Metrics) ObserveSend(outcome string) { m.sends.WithLabelValues(outcome).Inc() }

// ObserveUpdate counts a handled update and how long it took.
func (m *Metrics) ObserveUpdate(kind string, took time.Duration) {
	m.updates.WithLabelValues(kind).Inc()
	m.handlerSeconds.WithLabelValues(kind).Observe(took.Seconds())
}

// AnswerDropped counts one answer not sent: "refusal" (a collapsed "not bound"), or why an
// answer was given up ("queue_full", "shutdown").
func (m *Metrics) AnswerDropped(reason string) {
	if reason == "refusal" {
		m.refusals.Inc()
		return
	}
	m.answersDropped.WithLabelValues(reason).Inc()
}

// StoreError counts one failed store call.
func (m *Metrics) StoreError() { m.storeErrors.Inc() }

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
