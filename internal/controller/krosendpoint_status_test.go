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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/operatortest"
)

func TestConditionSetters(t *testing.T) {
	type want struct{ ready, reconciling, stalled metav1.ConditionStatus }
	const absent = metav1.ConditionStatus("")
	tests := []struct {
		name               string
		set                func(*cockpitv1alpha1.KrosEndpoint)
		want               want
		reason             string
		observesGeneration bool
	}{
		{"ready", func(ep *cockpitv1alpha1.KrosEndpoint) { markReady(ep, "ok") },
			want{metav1.ConditionTrue, absent, absent}, cockpitv1alpha1.ReasonSynced, true},
		{"reconciling", func(ep *cockpitv1alpha1.KrosEndpoint) {
			markReconciling(ep, cockpitv1alpha1.ReasonAPIUnavailable, "down")
		}, want{metav1.ConditionFalse, metav1.ConditionTrue, absent}, cockpitv1alpha1.ReasonAPIUnavailable, false},
		{"stalled", func(ep *cockpitv1alpha1.KrosEndpoint) {
			markStalled(ep, cockpitv1alpha1.ReasonUnauthorized, "bad key")
		}, want{metav1.ConditionFalse, absent, metav1.ConditionTrue}, cockpitv1alpha1.ReasonUnauthorized, true},
		{"paused", markPaused, want{metav1.ConditionFalse, absent, absent}, cockpitv1alpha1.ReasonPaused, false},
	}
	for _, tt := range tests {
		// Each setter must leave a consistent set whatever came before it.
		for _, before := range tests {
			t.Run(before.name+" then "+tt.name, func(t *testing.T) {
				g := NewWithT(t)
				ep := &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
				ep.Status.ObservedGeneration = 2
				before.set(ep)
				ep.Status.ObservedGeneration = 2
				tt.set(ep)
				status := func(conditionType string) metav1.ConditionStatus {
					if c := meta.FindStatusCondition(ep.Status.Conditions, conditionType); c != nil {
						g.Expect(c.ObservedGeneration).To(Equal(int64(3)))
						return c.Status
					}
					return absent
				}
				g.Expect(status(cockpitv1alpha1.ConditionReady)).To(Equal(tt.want.ready))
				g.Expect(status(cockpitv1alpha1.ConditionReconciling)).To(Equal(tt.want.reconciling))
				g.Expect(status(cockpitv1alpha1.ConditionStalled)).To(Equal(tt.want.stalled))
				g.Expect(meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionReady).Reason).To(Equal(tt.reason))
				if tt.observesGeneration {
					g.Expect(ep.Status.ObservedGeneration).To(Equal(int64(3)))
				} else {
					g.Expect(ep.Status.ObservedGeneration).To(Equal(int64(2)), "work in progress does not claim the generation")
				}
				if tt.want.ready == metav1.ConditionTrue {
					g.Expect(ep).To(operatortest.BeReady())
				} else {
					g.Expect(ep).NotTo(operatortest.BeReady())
				}
			})
		}
	}
}

// TestRemoteErrorStallsAfterThreeSyncs follows an endpoint KrosAI keeps in
// state error: in progress at first, Stalled (kstatus: Failed) once it has
// lasted three sync periods, and Ready again as soon as it is active.
func TestRemoteErrorStallsAfterThreeSyncs(t *testing.T) {
	g := NewWithT(t)
	const period = 10 * time.Minute
	ep := &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
	markPaused(ep) // whatever came before, the error's clock starts when it is first seen
	start := time.Now()
	reason := func(conditionType string) string {
		if c := meta.FindStatusCondition(ep.Status.Conditions, conditionType); c != nil && c.Status == metav1.ConditionTrue {
			return c.Reason
		}
		return ""
	}

	markRemoteError(ep, "ep-1", period, start)
	g.Expect(reason(cockpitv1alpha1.ConditionReconciling)).To(Equal(cockpitv1alpha1.ReasonRemoteError))
	g.Expect(reason(cockpitv1alpha1.ConditionStalled)).To(BeEmpty())
	since := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionReconciling).LastTransitionTime

	markRemoteError(ep, "ep-1", period, since.Add(3*period-time.Second))
	g.Expect(reason(cockpitv1alpha1.ConditionStalled)).To(BeEmpty(), "not yet three syncs")
	g.Expect(meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionReconciling).LastTransitionTime).
		To(Equal(since), "the clock is not restarted by each sync")

	markRemoteError(ep, "ep-1", period, since.Add(3*period))
	g.Expect(reason(cockpitv1alpha1.ConditionStalled)).To(Equal(cockpitv1alpha1.ReasonRemoteError))
	g.Expect(reason(cockpitv1alpha1.ConditionReconciling)).To(BeEmpty())
	g.Expect(meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionReady).Message).To(ContainSubstring("since"))

	markRemoteError(ep, "ep-1", period, since.Add(4*period))
	g.Expect(reason(cockpitv1alpha1.ConditionStalled)).To(Equal(cockpitv1alpha1.ReasonRemoteError), "stays stalled while it lasts")

	markReady(ep, "active again")
	g.Expect(reason(cockpitv1alpha1.ConditionStalled)).To(BeEmpty())
	g.Expect(ep).To(operatortest.BeReady())

	markRemoteError(ep, "ep-1", period, since.Add(5*period))
	g.Expect(reason(cockpitv1alpha1.ConditionStalled)).To(BeEmpty(), "a new error starts a new clock")
}
