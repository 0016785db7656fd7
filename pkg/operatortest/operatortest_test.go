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

package operatortest_test

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/operator"
	"github.com/krosai/kros-operator/pkg/operatortest"
)

const (
	apiKey   = "kros_test_abcdefghijklmnopqrstuvwxyz0123"
	password = "pw-0123456789abcdefghij"
)

// endpoint is a KrosEndpoint at generation 2 with the given conditions
// and status.observedGeneration.
func endpoint(observed int64, conds ...metav1.Condition) *cockpitv1alpha1.KrosEndpoint {
	return &cockpitv1alpha1.KrosEndpoint{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "support", Generation: 2},
		Status:     cockpitv1alpha1.KrosEndpointStatus{ObservedGeneration: observed, Conditions: conds},
	}
}

func cond(typ string, status metav1.ConditionStatus, reason string, generation int64) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, ObservedGeneration: generation, Message: "m"}
}

func TestBeReady(t *testing.T) {
	ready := cond(cockpitv1alpha1.ConditionReady, metav1.ConditionTrue, cockpitv1alpha1.ReasonSynced, 2)
	for _, tc := range []struct {
		name string
		ep   any
		want bool
	}{
		{"ready at its generation", endpoint(2, ready), true},
		{"as a value", *endpoint(2, ready), true},
		{"status behind", endpoint(1, ready), false},
		{"condition behind", endpoint(2, cond(cockpitv1alpha1.ConditionReady, metav1.ConditionTrue, "Synced", 1)), false},
		{"not ready", endpoint(2, cond(cockpitv1alpha1.ConditionReady, metav1.ConditionFalse, "Progressing", 2)), false},
		{"no conditions", endpoint(2), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := operatortest.BeReady().Match(tc.ep)
			if err != nil || got != tc.want {
				t.Errorf("Match: %v %v, want %v", got, err, tc.want)
			}
		})
	}
	if _, err := operatortest.BeReady().Match("support"); err == nil {
		t.Error("a string matched without an error")
	}
	msg := operatortest.BeReady().FailureMessage(endpoint(1, ready))
	for _, want := range []string{"team-a/support", "to be Ready", "status.observedGeneration 1", "Ready=True Synced"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message %q lacks %q", msg, want)
		}
	}
	if msg := operatortest.BeReady().NegatedFailureMessage(endpoint(2)); !strings.Contains(msg, "not to be Ready") ||
		!strings.Contains(msg, "(none)") {
		t.Errorf("negated failure message %q", msg)
	}
}

func TestBeStalled(t *testing.T) {
	stalled := cond(cockpitv1alpha1.ConditionStalled, metav1.ConditionTrue, cockpitv1alpha1.ReasonSecretNotFound, 2)
	notReady := cond(cockpitv1alpha1.ConditionReady, metav1.ConditionFalse, cockpitv1alpha1.ReasonSecretNotFound, 2)
	ready := cond(cockpitv1alpha1.ConditionReady, metav1.ConditionTrue, cockpitv1alpha1.ReasonSynced, 2)
	for _, tc := range []struct {
		name string
		ep   *cockpitv1alpha1.KrosEndpoint
		want bool
	}{
		{"stalled with the reason", endpoint(2, stalled, notReady), true},
		{"stalled, Ready not written", endpoint(2, stalled), false},
		{"another reason", endpoint(2, cond(stalled.Type, metav1.ConditionTrue, "Unauthorized", 2)), false},
		{"stalled yet ready", endpoint(2, stalled, ready), false},
		{"not stalled", endpoint(2, cond(stalled.Type, metav1.ConditionFalse, "SecretNotFound", 2)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := operatortest.BeStalled(cockpitv1alpha1.ReasonSecretNotFound).Match(tc.ep)
			if err != nil || got != tc.want {
				t.Errorf("Match: %v %v, want %v", got, err, tc.want)
			}
		})
	}
}

func TestWaits(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ready := endpoint(2, cond(cockpitv1alpha1.ConditionReady, metav1.ConditionTrue, cockpitv1alpha1.ReasonSynced, 2))
	stalled := endpoint(2, cond(cockpitv1alpha1.ConditionStalled, metav1.ConditionTrue, "Unauthorized", 2),
		cond(cockpitv1alpha1.ConditionReady, metav1.ConditionFalse, "Unauthorized", 2))
	stalled.Name = "refused"
	c := fake.NewClientBuilder().WithScheme(operator.NewScheme()).WithObjects(ready, stalled).Build()

	got := operatortest.WaitReady(ctx, g, c, ready, "1s", "10ms")
	g.Expect(got.Name).To(Equal("support"))
	cnd := operatortest.WaitStalled(ctx, g, c, stalled, "Unauthorized", "1s", "10ms")
	g.Expect(cnd.Reason).To(Equal("Unauthorized"))
	g.Eventually(operatortest.Get(ctx, c, stalled)).ShouldNot(operatortest.BeReady())

	// A failed wait fails the test it was given, quoting the conditions.
	var failure string
	failing := NewGomega(func(message string, _ ...int) { failure = message })
	operatortest.WaitReady(ctx, failing, c, stalled, "50ms", "10ms")
	g.Expect(failure).To(ContainSubstring("Stalled=True Unauthorized"))
}

func TestFind(t *testing.T) {
	var s operatortest.Secrets
	s.Add(apiKey, "API key")
	s.Add(password, "SIP password")
	s.Add("abc", "ignored: under 8 bytes, and so is its base64")
	if s.Len() != 4 { // two values, two base64 forms
		t.Errorf("Len %d, want 4", s.Len())
	}
	text := []byte("line one\n" +
		`{"msg":"x","auth":"Bearer ` + apiKey + `"}` + "\n" +
		password[:len(password)-1] + " is one byte short\n" +
		`data: {"password":"` + base64.StdEncoding.EncodeToString([]byte(password)) + `"}` + "\n" +
		apiKey + " again\n" +
		"short")
	leaks := s.Find("logs", text)
	if len(leaks) != 2 {
		t.Fatalf("want the key and the base64 password, once each; got %d: %+v", len(leaks), leaks)
	}
	if leaks[0].What != "API key" || leaks[0].Context != `{"msg":"x","auth":"Bearer <API key>"}` {
		t.Errorf("first leak: %+v", leaks[0])
	}
	if leaks[1].What != "SIP password (base64)" || leaks[1].Context != `data: {"password":"<SIP password (base64)>"}` {
		t.Errorf("second leak: %+v", leaks[1])
	}
	got := leaks[0].String()
	if got != `API key in logs: {"msg":"x","auth":"Bearer <API key>"}` || strings.Contains(got, apiKey) {
		t.Errorf("String() %q", got)
	}
	long := []byte(strings.Repeat("x", 400) + apiKey)
	if l := s.Find("long", long); len(l) != 1 || len(l[0].Context) > 310 || strings.Contains(l[0].Context, apiKey[:12]) {
		t.Errorf("a long line: %+v", l)
	}
}

func TestScan(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	var s operatortest.Secrets
	s.Add(apiKey, "API key")
	s.Add(password, "SIP password")

	leaky := endpoint(2, cond(cockpitv1alpha1.ConditionReady, metav1.ConditionFalse, "Unauthorized", 2))
	leaky.Status.Conditions[0].Message = "key " + apiKey + " refused"
	clean := endpoint(2)
	clean.Name = "clean"
	objs := []client.Object{
		leaky, clean,
		&eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "e1"}, Note: "pushed " + password,
			EventTime: metav1.NowMicro(), ReportingController: "c", ReportingInstance: "i", Action: "a", Reason: "r"},
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "e2"}, Message: "nothing to see"},
	}
	c := fake.NewClientBuilder().WithScheme(operator.NewScheme()).WithObjects(objs...).Build()
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "leaky_total", Help: "h"}, []string{"key"})
	counter.WithLabelValues(apiKey).Inc()
	reg.MustRegister(counter)

	r, err := s.Scan(ctx, c, operatortest.Sources{Logs: []byte("clean log\n"), Metrics: reg})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.LogBytes).To(Equal(10))
	g.Expect(r.Events).To(Equal(1))
	g.Expect(r.CoreEvents).To(Equal(1))
	g.Expect(r.KrosEndpoints).To(Equal(2))
	g.Expect(r.Metrics).To(ConsistOf("leaky_total"))
	where := make([]string, 0, len(r.Leaks))
	for _, l := range r.Leaks {
		where = append(where, l.What+" @ "+l.Where)
		g.Expect(l.String()).NotTo(ContainSubstring(apiKey))
		g.Expect(l.String()).NotTo(ContainSubstring(password))
	}
	g.Expect(where).To(ConsistOf(
		"API key @ KrosEndpoint team-a/support",
		"SIP password @ events.k8s.io/v1 Event team-a/e1",
		"API key @ metric leaky_total",
	))

	r, err = s.Scan(ctx, c, operatortest.Sources{Namespace: "team-b"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.Leaks).To(BeEmpty())
	g.Expect(r.CoreEvents).To(Equal(1))
	g.Expect(r.Metrics).To(BeEmpty())
}

func TestLogBufferTakesConcurrentWrites(t *testing.T) {
	g := NewWithT(t)
	var b operatortest.LogBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("line\n"))
			}
		})
	}
	wg.Wait()
	g.Expect(b.Bytes()).To(HaveLen(8 * 100 * len("line\n")))
	g.Expect(b.String()).To(HavePrefix("line\nline\n"))
	copied := b.Bytes()
	copied[0] = 'X'
	g.Expect(b.String()).To(HavePrefix("line"), "Bytes returns a copy")
}
