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

package operator_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/pkg/operator"
)

func TestSetupNeedsDefaultCredentials(t *testing.T) {
	// The manager is not touched before the options are checked.
	if err := operator.Setup(nil, operator.Options{}); err == nil {
		t.Error("Setup without DefaultCredentials: no error")
	}
}

func TestNewSchemeKnowsKrosEndpointAndSecret(t *testing.T) {
	s := operator.NewScheme()
	for _, kind := range []string{"KrosEndpoint", "KrosEndpointList"} {
		if !s.Recognizes(cockpitv1alpha1.GroupVersion.WithKind(kind)) {
			t.Errorf("%s unknown", kind)
		}
	}
	if !s.Recognizes(corev1.SchemeGroupVersion.WithKind("Secret")) {
		t.Error("Secret unknown")
	}
}
