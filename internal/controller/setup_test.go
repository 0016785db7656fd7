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

	. "github.com/onsi/gomega"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/cluster"
)

func TestSecretNewsSkipsOurOwnFinalizer(t *testing.T) {
	const other = "example.com/keep"
	inUse := cockpitv1alpha1.SecretInUseFinalizer
	secret := func(rv string, finalizers []string, mutate ...func(*metav1.PartialObjectMetadata)) *metav1.PartialObjectMetadata {
		s := cluster.SecretMetadata()
		s.Namespace, s.Name, s.ResourceVersion = "team", "sip", rv
		s.Labels = map[string]string{"app": "pbx"}
		s.Finalizers = finalizers
		for _, m := range mutate {
			m(s)
		}
		return s
	}
	now := metav1.Now()
	tests := []struct {
		name     string
		old, new *metav1.PartialObjectMetadata
		passes   bool
	}{
		{"our finalizer added, nothing else", secret("1", nil), secret("2", []string{inUse}), false},
		{"our finalizer added beside another", secret("1", []string{other}), secret("2", []string{other, inUse}), false},
		{"data changed (only the resourceVersion shows it)", secret("1", []string{inUse}), secret("2", []string{inUse}), true},
		{"our finalizer removed", secret("1", []string{inUse}), secret("2", nil), true},
		{"another finalizer added", secret("1", nil), secret("2", []string{other}), true},
		{"our finalizer added with a label change", secret("1", nil),
			secret("2", []string{inUse}, func(s *metav1.PartialObjectMetadata) { s.Labels["app"] = "pbx-2" }), true},
		{"our finalizer added with an annotation", secret("1", nil),
			secret("2", []string{inUse}, func(s *metav1.PartialObjectMetadata) { s.Annotations = map[string]string{"a": "b"} }), true},
		{"our finalizer added as the Secret is deleted", secret("1", nil),
			secret("2", []string{inUse}, func(s *metav1.PartialObjectMetadata) { s.DeletionTimestamp = &now }), true},
		{"our finalizer added with an owner", secret("1", nil),
			secret("2", []string{inUse}, func(s *metav1.PartialObjectMetadata) {
				s.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "u"}}
			}), true},
	}
	p := secretNews()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(p.Update(event.UpdateEvent{ObjectOld: tt.old, ObjectNew: tt.new})).To(Equal(tt.passes))
		})
	}
}

func TestSecretNewsSkipsTheCreationOfASigningSecret(t *testing.T) {
	owned := cluster.SecretMetadata()
	owned.Namespace, owned.Name = "team", "hook-webhook-signing"
	owned.OwnerReferences = []metav1.OwnerReference{{APIVersion: cockpitv1alpha1.GroupVersion.String(),
		Kind: "KrosEndpoint", Name: "hook", UID: "u", Controller: new(true)}}
	otherOwner := owned.DeepCopy()
	otherOwner.OwnerReferences[0].Kind, otherOwner.OwnerReferences[0].APIVersion = "Deployment", "apps/v1"
	plain := cluster.SecretMetadata()
	plain.Namespace, plain.Name = "team", "sip"

	g := NewWithT(t)
	p := secretNews()
	g.Expect(p.Create(event.CreateEvent{Object: owned})).To(BeFalse(),
		"the creation of a signing Secret a KrosEndpoint controls woke its owner")
	for name, s := range map[string]*metav1.PartialObjectMetadata{"another controller's": otherOwner, "a user's": plain} {
		g.Expect(p.Create(event.CreateEvent{Object: s})).To(BeTrue(), "the creation of %s Secret was dropped", name)
	}
	g.Expect(p.Delete(event.DeleteEvent{Object: owned})).To(BeTrue(),
		"the deletion of a signing Secret was dropped: it would not be rewritten")
}

func TestUserAnnotationsChanged(t *testing.T) {
	withAnnotations := func(a map[string]string) *cockpitv1alpha1.KrosEndpoint {
		return &cockpitv1alpha1.KrosEndpoint{ObjectMeta: metav1.ObjectMeta{Annotations: a}}
	}
	const (
		id      = cockpitv1alpha1.AnnotationEndpointID
		pending = cockpitv1alpha1.AnnotationCreatePending
	)
	tests := []struct {
		name     string
		old, new map[string]string
		want     bool
	}{
		{"paused set", nil, map[string]string{cockpitv1alpha1.AnnotationPaused: "true"}, true},
		{"reconcile requested", nil, map[string]string{cockpitv1alpha1.AnnotationReconcileRequestedAt: "now"}, true},
		{"an unrelated annotation", nil, map[string]string{"team": "a"}, false},
		{"the operator records pending before a create", nil, map[string]string{pending: "t"}, false},
		{"the operator records the id after a create", map[string]string{pending: "t"}, map[string]string{id: "1"}, false},
		{"a person names the endpoint after an ambiguous create",
			map[string]string{pending: "t"}, map[string]string{pending: "t", id: "1"}, true},
		{"a person changes the id", map[string]string{id: "1"}, map[string]string{id: "2"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := userAnnotationsChanged().Update(event.UpdateEvent{ObjectOld: withAnnotations(tt.old), ObjectNew: withAnnotations(tt.new)})
			NewWithT(t).Expect(got).To(Equal(tt.want))
		})
	}
}
