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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// metrics are the reconciler's Prometheus metrics. Labels carry types,
// states and error classes only: never names, ids or anything secret.
type metrics struct {
	reconcileErrors  *prometheus.CounterVec
	timeToReady      prometheus.Histogram
	driftCorrections *prometheus.CounterVec
	recreations      *prometheus.CounterVec
	eventAnswered    prometheus.Histogram

	mu         sync.Mutex
	states     map[types.NamespacedName]endpointState
	gauge      *prometheus.Desc
	conditions *prometheus.Desc

	// freshness reports each organization's last read; nil reports none.
	freshness  func() []orgFreshness
	lastRead   *prometheus.Desc
	syncPeriod *prometheus.Desc
}

// endpointState is what the gauges count of one resource.
type endpointState struct {
	endpointType, state string
	// conditions are the kstatus conditions present, as type -> status/reason.
	conditions [3]conditionState
}

type conditionState struct{ status, reason string }

// gaugedConditions are the conditions the conditions gauge counts, in the
// order of endpointState.conditions.
var gaugedConditions = [3]string{
	cockpitv1alpha1.ConditionReady, cockpitv1alpha1.ConditionReconciling, cockpitv1alpha1.ConditionStalled,
}

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
		driftCorrections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kros_operator_drift_corrections_total",
			Help: "PATCHes sent while the resource's spec was unchanged since it was last synced " +
				"(dashboard edits undone, rotated SIP credentials pushed), by namespace. A steady rate is a write loop.",
		}, []string{"namespace"}),
		recreations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kros_operator_endpoint_recreations_total",
			Help: "Remote endpoints created again after KrosAI confirmed them deleted outside Kubernetes, by namespace.",
		}, []string{"namespace"}),
		eventAnswered: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kros_operator_event_to_status_seconds",
			Help: "Time from a KrosAI event delivery to the end of the reconcile whose read of the endpoint " +
				"answered it, status written: how soon an event reaches status.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}),
		states: map[types.NamespacedName]endpointState{},
		gauge: prometheus.NewDesc("kros_operator_endpoints",
			"KrosEndpoints by type and remote state (unknown before KrosAI was first read).",
			[]string{"type", "state"}, nil),
		conditions: prometheus.NewDesc("kros_operator_endpoint_conditions",
			"KrosEndpoints by kstatus condition (Ready, Reconciling, Stalled), its status and its reason.",
			[]string{"condition", "status", "reason"}, nil),
		lastRead: prometheus.NewDesc("kros_operator_organization_last_read_timestamp_seconds",
			"When the organization's endpoints were last listed successfully (Unix time; 0: not yet by this process), "+
				"for each organization a KrosEndpoint uses (\"default\": the API key's own). Older than two "+
				"effective sync periods, its resources say Stale.",
			[]string{"organization"}, nil),
		syncPeriod: prometheus.NewDesc("kros_operator_effective_sync_period_seconds",
			"How often the organization's endpoints are listed: the sync period, or longer to keep within the "+
				"API key's daily quota.",
			[]string{"organization"}, nil),
	}
}

// register adds the metrics to reg (controller-runtime's registry in the manager).
func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.reconcileErrors, m.timeToReady, m.driftCorrections, m.recreations,
		m.eventAnswered, m} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// recordEventAnswered records how long after delivered a reconcile that
// answered an event finished, its status written without error.
func (m *metrics) recordEventAnswered(delivered time.Time, err error, now time.Time) {
	if !delivered.IsZero() && err == nil {
		m.eventAnswered.Observe(now.Sub(delivered).Seconds())
	}
}

// recordOutcome records a reconcile's outcome: the endpoint's state and
// conditions, and the time to Ready the first time it becomes Ready.
func (m *metrics) recordOutcome(ep, before *cockpitv1alpha1.KrosEndpoint) {
	key := types.NamespacedName{Namespace: ep.Namespace, Name: ep.Name}
	m.mu.Lock()
	if ep.DeletionTimestamp.IsZero() {
		state := string(ep.Status.State)
		if state == "" {
			state = "unknown"
		}
		s := endpointState{endpointType: string(ep.Spec.Type), state: state}
		for i, t := range gaugedConditions {
			if c := meta.FindStatusCondition(ep.Status.Conditions, t); c != nil {
				s.conditions[i] = conditionState{status: string(c.Status), reason: c.Reason}
			}
		}
		m.states[key] = s
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

// Describe implements prometheus.Collector for the gauges.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.gauge
	ch <- m.conditions
	ch <- m.lastRead
	ch <- m.syncPeriod
}

// Collect implements prometheus.Collector: it counts endpoints at scrape time.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	type byCondition struct{ condition, status, reason string }
	m.mu.Lock()
	states := map[[2]string]int{}
	conditions := map[byCondition]int{}
	for _, s := range m.states {
		states[[2]string{s.endpointType, s.state}]++
		for i, c := range s.conditions {
			if c.status != "" {
				conditions[byCondition{gaugedConditions[i], c.status, c.reason}]++
			}
		}
	}
	m.mu.Unlock()
	for s, n := range states {
		ch <- prometheus.MustNewConstMetric(m.gauge, prometheus.GaugeValue, float64(n), s[0], s[1])
	}
	for c, n := range conditions {
		ch <- prometheus.MustNewConstMetric(m.conditions, prometheus.GaugeValue, float64(n), c.condition, c.status, c.reason)
	}
	m.collectFreshness(ch)
}

// collectFreshness reports each organization's last read. Several API keys
// may read one organization (or each its own "default"): the organization's
// series then says the oldest read and the longest period, so that an alert
// on it never misses the staler one.
func (m *metrics) collectFreshness(ch chan<- prometheus.Metric) {
	if m.freshness == nil {
		return
	}
	byOrg := map[string]orgFreshness{}
	for _, f := range m.freshness() {
		if seen, ok := byOrg[f.organization]; ok {
			f.period = max(f.period, seen.period)
			if seen.lastRead.Before(f.lastRead) {
				f.lastRead = seen.lastRead
			}
		}
		byOrg[f.organization] = f
	}
	for org, f := range byOrg {
		lastRead := 0.0
		if !f.lastRead.IsZero() {
			lastRead = float64(f.lastRead.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(m.lastRead, prometheus.GaugeValue, lastRead, org)
		ch <- prometheus.MustNewConstMetric(m.syncPeriod, prometheus.GaugeValue, f.period.Seconds(), org)
	}
}
