/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package krosai

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the client's Prometheus collectors. A nil *metrics records
// nothing, for a Client built without a Registerer.
type metrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	waitSeconds   prometheus.Counter
	rateLimited   *prometheus.CounterVec
	limit         *prometheus.GaugeVec
	remaining     *prometheus.GaugeVec
	resetUnixTime *prometheus.GaugeVec
	refusals      *prometheus.CounterVec
	outage        *prometheus.GaugeVec
	pausedUntil   *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	const ns, sub, op = "krosai", "client", "operation"
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help},
			[]string{"organization"})
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "requests_total", Help: "HTTP requests sent to the KrosAI API, retries included, by operation and status code (\"error\" when no response)."},
			[]string{op, "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "request_duration_seconds", Help: "Duration of one HTTP request to the KrosAI API, body read included.",
			Buckets: prometheus.DefBuckets}, []string{op}),
		waitSeconds: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "rate_limit_wait_seconds_total", Help: "Time requests spent waiting on the client's token bucket and on the API's 429s."}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "rate_limited_total", Help: "429 responses from the KrosAI API, by operation."}, []string{op}),
		limit:         gauge("rate_limit_limit", "Last X-RateLimit-Limit seen, by organization."),
		remaining:     gauge("rate_limit_remaining", "Last X-RateLimit-Remaining seen, by organization."),
		resetUnixTime: gauge("rate_limit_reset_timestamp_seconds", "Last X-RateLimit-Reset seen (Unix time), by organization."),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "refused_total", Help: "Calls the client refused without sending a request, by operation and reason " +
				"(rate_limited, daily_limit, unavailable)."}, []string{op, "reason"}),
		outage: gauge("unavailable", "1 while the API has been failing for the organization (one probe per step is sent), else 0."),
		pausedUntil: gauge("paused_until_timestamp_seconds", "When the pause ordered by a 429 ends (Unix time), "+
			"by the organization of the call that drew it; 0 when not paused."),
	}
	var err error
	// A second Client on the same registry shares the first one's collectors.
	m.requests, err = register(reg, m.requests, err)
	m.duration, err = register(reg, m.duration, err)
	m.waitSeconds, err = register(reg, m.waitSeconds, err)
	m.rateLimited, err = register(reg, m.rateLimited, err)
	m.limit, err = register(reg, m.limit, err)
	m.remaining, err = register(reg, m.remaining, err)
	m.resetUnixTime, err = register(reg, m.resetUnixTime, err)
	m.refusals, err = register(reg, m.refusals, err)
	m.outage, err = register(reg, m.outage, err)
	m.pausedUntil, err = register(reg, m.pausedUntil, err)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the identical collector already
// registered. It does nothing after an earlier error, so calls chain.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, err error) (C, error) {
	if err != nil {
		return c, err
	}
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

func (m *metrics) request(op, code string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(op, code).Inc()
	m.duration.WithLabelValues(op).Observe(d.Seconds())
}

func (m *metrics) waited(d time.Duration) {
	if m == nil {
		return
	}
	m.waitSeconds.Add(d.Seconds())
}

func (m *metrics) limited(op string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(op).Inc()
}

func (m *metrics) rateLimit(org string, figures rateLimit) {
	if m == nil {
		return
	}
	m.limit.WithLabelValues(org).Set(float64(figures.limit))
	m.remaining.WithLabelValues(org).Set(float64(figures.remaining))
	m.resetUnixTime.WithLabelValues(org).Set(float64(figures.reset.UnixNano()) / 1e9)
}

func (m *metrics) refused(op, reason string) {
	if m == nil {
		return
	}
	m.refusals.WithLabelValues(op, reason).Inc()
}

func (m *metrics) unavailable(org string, down bool) {
	if m == nil {
		return
	}
	v := 0.0
	if down {
		v = 1
	}
	m.outage.WithLabelValues(org).Set(v)
}

func (m *metrics) paused(org string, until time.Time) {
	if m == nil {
		return
	}
	v := 0.0
	if !until.IsZero() {
		v = float64(until.UnixNano()) / 1e9
	}
	m.pausedUntil.WithLabelValues(org).Set(v)
}
