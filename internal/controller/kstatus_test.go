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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/test/fixtures"
)

// The GitOps tests (this file and argocd_health_test.go) build KrosEndpoints
// the way the operator leaves them: only through the condition setters.

const (
	readyMessage    = "endpoint ep-1 is active and matches the spec"
	creatingMessage = "creating the endpoint in KrosAI"
)

// step is one thing that happens to a KrosEndpoint: a setter the operator
// calls, or a change a user makes.
type step func(*cockpitv1alpha1.KrosEndpoint)

// endpointAt returns a KrosEndpoint as the API server serves it at the given
// generation, after steps.
func endpointAt(generation int64, steps ...step) *cockpitv1alpha1.KrosEndpoint {
	ep := fixtures.NewEndpoint("team-a", "sales", elevenLabsSpec("agent-1"))
	ep.TypeMeta = metav1.TypeMeta{APIVersion: cockpitv1alpha1.GroupVersion.String(), Kind: "KrosEndpoint"}
	ep.UID = "8c5e7f0e-2d3b-4f55-9b4e-1f0c2a7d9e11"
	ep.Generation = generation
	ep.CreationTimestamp = metav1.NewTime(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	for _, s := range steps {
		s(ep)
	}
	return ep
}

func ready(ep *cockpitv1alpha1.KrosEndpoint) { markReady(ep, readyMessage) }

// observedWithDrift is an ObserveOnly resource whose endpoint exists and
// differs from the spec, as the operator reports it.
func observedWithDrift(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Spec.ManagementPolicy = cockpitv1alpha1.ManagementPolicyObserveOnly
	markSynced(ep, []cockpitv1alpha1.FieldDrift{{Field: "name", SpecField: "spec.displayName", Observed: "a", Desired: "b"}})
	markReady(ep, readyMessage)
}

// remoteErrorFor reports KrosAI's state error as the operator does, that
// long after it was first seen.
func remoteErrorFor(d time.Duration) step {
	return func(ep *cockpitv1alpha1.KrosEndpoint) {
		markRemoteError(ep, "ep-1", time.Minute, time.Now())
		markRemoteError(ep, "ep-1", time.Minute, time.Now().Add(d))
	}
}

func reconciling(reason, message string) step {
	return func(ep *cockpitv1alpha1.KrosEndpoint) { markReconciling(ep, reason, message) }
}

func stalled(reason, message string) step {
	return func(ep *cockpitv1alpha1.KrosEndpoint) { markStalled(ep, reason, message) }
}

// paused sets the annotation and records it as the operator does.
func paused(ep *cockpitv1alpha1.KrosEndpoint) {
	annotate(cockpitv1alpha1.AnnotationPaused, "true")(ep)
	markPaused(ep)
}

func annotate(key, value string) step {
	return func(ep *cockpitv1alpha1.KrosEndpoint) {
		if ep.Annotations == nil {
			ep.Annotations = map[string]string{}
		}
		ep.Annotations[key] = value
	}
}

// editSpec is a spec change the operator has not handled yet: the API server
// bumps the generation, status stays as it was.
func editSpec(ep *cockpitv1alpha1.KrosEndpoint) { ep.Generation++ }

// deleting is a delete the finalizer holds up.
func deleting(ep *cockpitv1alpha1.KrosEndpoint) {
	now := metav1.NewTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	ep.DeletionTimestamp = &now
	ep.Finalizers = append(ep.Finalizers, cockpitv1alpha1.Finalizer)
}

func toUnstructured(t *testing.T, ep *cockpitv1alpha1.KrosEndpoint) *unstructured.Unstructured {
	t.Helper()
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ep)
	NewWithT(t).Expect(err).NotTo(HaveOccurred(), "convert to unstructured")
	return &unstructured.Unstructured{Object: content}
}

// TestKstatus pins what kstatus, the library Flux, kubectl-based tooling and
// cli-utils use to decide whether a resource is done, computes for every
// state the setters produce.
func TestKstatus(t *testing.T) {
	const (
		unauthorized   = "the API rejected the API key (401); check the apiKey in Secret team-a/krosai (apiKeySecretRef)"
		secretNotFound = "Secret team-a/krosai not found"
		ambiguous      = "an interrupted create left 2 candidate endpoints (ep-1, ep-2); set cockpit.krosai.com/endpoint-id"
	)
	tests := []struct {
		name string
		ep   *cockpitv1alpha1.KrosEndpoint
		// served adjusts the object as served, for states the typed object
		// cannot express.
		served  func(map[string]any)
		want    kstatus.Status
		message string
	}{
		{name: "ready", ep: endpointAt(1, ready), want: kstatus.CurrentStatus},
		{name: "ready after an update", ep: endpointAt(4, ready), want: kstatus.CurrentStatus},

		{name: "creating", ep: endpointAt(1, reconciling(cockpitv1alpha1.ReasonProgressing, creatingMessage)),
			want: kstatus.InProgressStatus, message: creatingMessage},
		{name: "retrying after an outage", ep: endpointAt(1, reconciling(cockpitv1alpha1.ReasonAPIUnavailable, "503 from the API")),
			want: kstatus.InProgressStatus, message: "503 from the API"},
		// Freshness by exception: not read for over two syncs is not Current.
		{name: "stale: KrosAI not read for two syncs", ep: endpointAt(1, ready, reconciling(cockpitv1alpha1.ReasonStale,
			"KrosAI has not been read for this endpoint since 2026-03-02T09:00:00Z")),
			want: kstatus.InProgressStatus, message: "KrosAI has not been read for this endpoint since 2026-03-02T09:00:00Z"},
		{name: "rate limited", ep: endpointAt(2, ready, editSpec, reconciling(cockpitv1alpha1.ReasonRateLimited, "retrying in 2s")),
			want: kstatus.InProgressStatus},
		{name: "observed only, with drift: Current, drift reported apart", ep: endpointAt(1, observedWithDrift),
			want: kstatus.CurrentStatus},
		{name: "remote endpoint in state error", ep: endpointAt(1, ready, remoteErrorFor(time.Minute)),
			want: kstatus.InProgressStatus},
		{name: "remote endpoint in state error for three syncs", ep: endpointAt(1, ready, remoteErrorFor(3*time.Minute)),
			want: kstatus.FailedStatus},
		{name: "updating a ready endpoint", ep: endpointAt(1, ready, editSpec, reconciling(cockpitv1alpha1.ReasonProgressing, "updating")),
			want: kstatus.InProgressStatus},

		// A KNOWN GAP. Without conditions or status.observedGeneration,
		// kstatus has nothing to go on and assumes Current. That is what a
		// KrosEndpoint looks like between `kubectl apply` and the operator's
		// first status write -- and for as long as the operator is not
		// running -- so `flux ... wait: true` and other kstatus waiters can
		// pass before the endpoint exists. The Argo CD health check does not
		// share the gap (it says Progressing). See the next row for the fix.
		{name: "brand-new, no status at all", ep: endpointAt(1), want: kstatus.CurrentStatus},
		// What the fix would serve: status.observedGeneration present as 0
		// (a CRD default on status; the typed object cannot express it
		// because the field is omitempty).
		{name: "brand-new, status.observedGeneration served as 0", ep: endpointAt(1),
			served: func(o map[string]any) {
				if err := unstructured.SetNestedField(o, int64(0), "status", "observedGeneration"); err != nil {
					panic(err)
				}
			},
			want: kstatus.InProgressStatus},

		{name: "stalled: Unauthorized", ep: endpointAt(1, stalled(cockpitv1alpha1.ReasonUnauthorized, unauthorized)),
			want: kstatus.FailedStatus, message: unauthorized},
		{name: "stalled: SecretNotFound", ep: endpointAt(3, ready, editSpec, stalled(cockpitv1alpha1.ReasonSecretNotFound, secretNotFound)),
			want: kstatus.FailedStatus, message: secretNotFound},
		{name: "stalled: AmbiguousCreate", ep: endpointAt(1, reconciling(cockpitv1alpha1.ReasonProgressing, creatingMessage),
			stalled(cockpitv1alpha1.ReasonAmbiguousCreate, ambiguous)),
			want: kstatus.FailedStatus, message: ambiguous},
		// The generation check comes first: an edit may be the fix.
		{name: "stalled, spec edited since", ep: endpointAt(1, stalled(cockpitv1alpha1.ReasonInvalidRequest, "400"), editSpec),
			want: kstatus.InProgressStatus, message: "KrosEndpoint generation is 2, but latest observed generation is 1"},

		{name: "ready, spec edited since", ep: endpointAt(1, ready, editSpec),
			want: kstatus.InProgressStatus, message: "KrosEndpoint generation is 2, but latest observed generation is 1"},

		// Paused is InProgress, whatever came before: markPaused leaves
		// Ready=False (reason Paused) and neither Reconciling nor Stalled, and
		// kstatus reads Ready=False as InProgress. That is the honest answer
		// -- nothing makes the remote endpoint match the spec while paused --
		// and kstatus has no Suspended. The cost: a Flux Kustomization with
		// wait: true that contains a paused KrosEndpoint times out
		// (docs/gitops.md says so).
		{name: "paused after ready", ep: endpointAt(1, ready, paused),
			want: kstatus.InProgressStatus, message: "reconciliation is paused by the cockpit.krosai.com/paused annotation; no API calls are made"},
		{name: "paused from creation", ep: endpointAt(1, paused), want: kstatus.InProgressStatus},
		{name: "paused, spec edited while paused", ep: endpointAt(1, ready, paused, editSpec), want: kstatus.InProgressStatus},
		{name: "paused while stalled", ep: endpointAt(1, stalled(cockpitv1alpha1.ReasonUnauthorized, unauthorized), paused),
			want: kstatus.InProgressStatus},

		{name: "deleting a ready endpoint", ep: endpointAt(1, ready, deleting), want: kstatus.TerminatingStatus},
		{name: "deleting, remote delete stalled", ep: endpointAt(1, deleting, stalled(cockpitv1alpha1.ReasonUnauthorized, unauthorized)),
			want: kstatus.TerminatingStatus},
		{name: "deleting a paused endpoint", ep: endpointAt(1, ready, paused, deleting), want: kstatus.TerminatingStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			u := toUnstructured(t, tt.ep)
			if tt.served != nil {
				tt.served(u.Object)
			}
			res, err := kstatus.Compute(u)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Status).To(Equal(tt.want), res.Message)
			if tt.message != "" {
				g.Expect(res.Message).To(Equal(tt.message))
			}
		})
	}
}
