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
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// The condition setters below are the only code that writes conditions. They
// keep the three kstatus conditions consistent with each other: at most one of
// Ready, Reconciling and Stalled is True at a time.

// markReady records that the remote endpoint exists and matches the spec.
func markReady(ep *cockpitv1alpha1.KrosEndpoint, message string) {
	setCondition(ep, cockpitv1alpha1.ConditionReady, metav1.ConditionTrue, cockpitv1alpha1.ReasonSynced, message)
	meta.RemoveStatusCondition(&ep.Status.Conditions, cockpitv1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(&ep.Status.Conditions, cockpitv1alpha1.ConditionStalled)
	ep.Status.ObservedGeneration = ep.Generation
}

// markReconciling records work in progress or a retry after a transient error.
func markReconciling(ep *cockpitv1alpha1.KrosEndpoint, reason, message string) {
	setCondition(ep, cockpitv1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
	setCondition(ep, cockpitv1alpha1.ConditionReconciling, metav1.ConditionTrue, reason, message)
	meta.RemoveStatusCondition(&ep.Status.Conditions, cockpitv1alpha1.ConditionStalled)
}

// markStalled records an error no retry can fix until the spec or a Secret
// changes. The generation counts as handled: there is nothing more to do for it.
func markStalled(ep *cockpitv1alpha1.KrosEndpoint, reason, message string) {
	setCondition(ep, cockpitv1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
	setCondition(ep, cockpitv1alpha1.ConditionStalled, metav1.ConditionTrue, reason, message)
	meta.RemoveStatusCondition(&ep.Status.Conditions, cockpitv1alpha1.ConditionReconciling)
	ep.Status.ObservedGeneration = ep.Generation
}

// markRemoteError records that KrosAI reports the endpoint in state error:
// in progress at first, since KrosAI may recover it by itself, and Stalled
// once that has lasted three sync periods, so that kstatus, Flux and Argo CD
// read it as failed rather than progressing forever. The Reconciling
// condition's lastTransitionTime says since when. markReady clears both.
func markRemoteError(ep *cockpitv1alpha1.KrosEndpoint, id string, syncPeriod time.Duration, now time.Time) {
	const advice = "; see docs/troubleshooting.md#remote-error. The operator re-checks it every sync (%s) and reports " +
		"Ready by itself once KrosAI reports it active"
	if c := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionStalled); c != nil &&
		c.Status == metav1.ConditionTrue && c.Reason == cockpitv1alpha1.ReasonRemoteError {
		return // already stalled on it, with its message
	}
	rec := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionReconciling)
	if rec == nil || rec.Status != metav1.ConditionTrue || rec.Reason != cockpitv1alpha1.ReasonRemoteError {
		// A new situation starts its own clock.
		meta.RemoveStatusCondition(&ep.Status.Conditions, cockpitv1alpha1.ConditionReconciling)
		markReconciling(ep, cockpitv1alpha1.ReasonRemoteError,
			fmt.Sprintf("KrosAI reports endpoint %s in state error"+advice, id, syncPeriod))
		return
	}
	if since := rec.LastTransitionTime.Time; now.Sub(since) >= 3*syncPeriod {
		markStalled(ep, cockpitv1alpha1.ReasonRemoteError, fmt.Sprintf(
			"KrosAI has reported endpoint %s in state error since %s, for more than three syncs"+advice,
			id, since.UTC().Format(time.RFC3339), syncPeriod))
	}
}

// markSynced records the drift between the remote endpoint and the spec,
// and the Synced condition that summarises it: False when a field that can
// be compared differs. Write-only fields are listed without making it False.
func markSynced(ep *cockpitv1alpha1.KrosEndpoint, drift []cockpitv1alpha1.FieldDrift) {
	ep.Status.Drift = drift
	var differ []string
	for _, d := range drift {
		if !d.WriteOnly {
			differ = append(differ, d.Field)
		}
	}
	if len(differ) > 0 {
		setCondition(ep, cockpitv1alpha1.ConditionSynced, metav1.ConditionFalse, cockpitv1alpha1.ReasonDriftDetected,
			fmt.Sprintf("%d fields differ from the spec: %s; see status.drift", len(differ), strings.Join(differ, ", ")))
		return
	}
	message := "the endpoint matches the spec"
	if len(drift) > 0 {
		message += "; its SIP credentials are write-only and cannot be compared"
	}
	setCondition(ep, cockpitv1alpha1.ConditionSynced, metav1.ConditionTrue, cockpitv1alpha1.ReasonInSync, message)
}

// syncedMessage is the Synced condition's message, for the Ready one.
func syncedMessage(ep *cockpitv1alpha1.KrosEndpoint) string {
	if c := meta.FindStatusCondition(ep.Status.Conditions, cockpitv1alpha1.ConditionSynced); c != nil {
		return c.Message
	}
	return ""
}

// markPaused records that the paused annotation stops all API calls. The
// resource is neither progressing nor stuck on an error.
func markPaused(ep *cockpitv1alpha1.KrosEndpoint) {
	const message = "reconciliation is paused by the " + cockpitv1alpha1.AnnotationPaused + " annotation; no API calls are made"
	setCondition(ep, cockpitv1alpha1.ConditionReady, metav1.ConditionFalse, cockpitv1alpha1.ReasonPaused, message)
	meta.RemoveStatusCondition(&ep.Status.Conditions, cockpitv1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(&ep.Status.Conditions, cockpitv1alpha1.ConditionStalled)
}

func setCondition(ep *cockpitv1alpha1.KrosEndpoint, conditionType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&ep.Status.Conditions, metav1.Condition{
		Type:               conditionType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: ep.Generation,
	})
}
