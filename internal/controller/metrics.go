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

package controller

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// metrics are the reconciler's Prometheus metrics. Labels carry types,
// states and error classes only: never names, ids or anything secret.
type metrics struct {
	reconcileErrors *prometheus.CounterVec
	timeToReady     prometheus.Histogram

	mu     sync.Mutex
	states map[types.NamespacedName]endpointState
	gauge  *prometheus.Desc
}

type endpointState struct{ endpointType, state string }

func newMetrics() *metrics {
	return &metrics{
		reconcileErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kros_operator_reconcile_errors_total",
			Help: "Reconcile errors by class: stalled (needs a person), rate_limited, transient (retried with backoff).",
		}, []string{"class"}),
		timeToReady: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kros_operator_endpoint_time_to_ready_seconds",
			Help:    "Time from a KrosEndpoint's creation to its first Ready.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 12),
		}),
		states: map[types.NamespacedName]endpointState{},
		gauge: prometheus.NewDesc("kros_operator_endpoints",
			"KrosEndpoints by type and remote state (unknown before the first observation).",
			[]string{"type", "state"}, nil),
	}
}

// register adds the metrics to reg (controller-runtime's registry in the manager).
func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.reconcileErrors, m.timeToReady, m} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// observe records a reconcile's outcome: the endpoint's state, and the time
// to Ready the first time it becomes Ready.
func (m *metrics) observe(ep, before *cockpitv1alpha1.KrosEndpoint) {
	key := types.NamespacedName{Namespace: ep.Namespace, Name: ep.Name}
	m.mu.Lock()
	if ep.DeletionTimestamp.IsZero() {
		state := string(ep.Status.State)
		if state == "" {
			state = "unknown"
		}
		m.states[key] = endpointState{endpointType: string(ep.Spec.Type), state: state}
	} else {
		delete(m.states, key)
	}
	m.mu.Unlock()
	firstReady := before.Status.ID == "" &&
		!meta.IsStatusConditionTrue(before.Status.Conditions, cockpitv1alpha1.ConditionReady) &&
		meta.IsStatusConditionTrue(ep.Status.Conditions, cockpitv1alpha1.ConditionReady)
	if firstReady {
		m.timeToReady.Observe(metav1.Now().Sub(ep.CreationTimestamp.Time).Seconds())
	}
}

// forget drops a resource that no longer exists.
func (m *metrics) forget(key types.NamespacedName) {
	m.mu.Lock()
	delete(m.states, key)
	m.mu.Unlock()
}

// Describe implements prometheus.Collector for the endpoints gauge.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.gauge }

// Collect implements prometheus.Collector: it counts endpoints at scrape time.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	counts := map[endpointState]int{}
	for _, s := range m.states {
		counts[s]++
	}
	m.mu.Unlock()
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(m.gauge, prometheus.GaugeValue, float64(n), s.endpointType, s.state)
	}
}
