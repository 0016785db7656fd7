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

package mapping

import (
	"errors"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

func TestSigningSecretName(t *testing.T) {
	g := NewWithT(t)
	ep := endpointWith(elevenLabs())
	ep.Name = "hook"
	g.Expect(SigningSecretName(ep)).To(Equal("hook-webhook-signing"))
	name, ok := SigningWebhookName("hook-webhook-signing")
	g.Expect(ok).To(BeTrue())
	g.Expect(name).To(Equal("hook"))
	_, ok = SigningWebhookName("hook-credentials")
	g.Expect(ok).To(BeFalse())

	ep.Name = strings.Repeat("a", 253)
	g.Expect(SigningSecretName(ep)).To(HaveLen(253), "a Secret name has at most 253 characters")
	g.Expect(SigningSecretName(ep)).To(HaveSuffix("-webhook-signing"))

	stalled := SigningSecretConflict("hook-webhook-signing")
	g.Expect(stalled.Reason).To(Equal(cockpitv1alpha1.ReasonSigningSecretConflict))
	g.Expect(stalled.Message).To(ContainSubstring(`Secret "hook-webhook-signing" exists and is not owned`))
}

func TestSecretReadFailed(t *testing.T) {
	g := NewWithT(t)
	ref := SecretRef{Key: types.NamespacedName{Namespace: "team", Name: "sip"}, Field: "spec.vogent.credentialsSecretRef"}

	gone := SecretReadFailed(ref, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, "sip"))
	stalled, ok := errors.AsType[*Stalled](gone)
	g.Expect(ok).To(BeTrue(), "a missing Secret stalls: a person must create it")
	g.Expect(stalled.Reason).To(Equal(cockpitv1alpha1.ReasonSecretNotFound))

	failed := SecretReadFailed(ref, apierrors.NewServiceUnavailable("etcd"))
	_, ok = errors.AsType[*Stalled](failed)
	g.Expect(ok).To(BeFalse(), "the cluster's failure is retried")
	g.Expect(failed.Error()).To(HavePrefix("read Secret team/sip: "))
}
