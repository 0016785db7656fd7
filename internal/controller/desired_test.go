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
)

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
