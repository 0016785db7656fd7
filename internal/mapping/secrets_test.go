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
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

// TestSecretValue is the one rule for every value read from a Secret.
func TestSecretValue(t *testing.T) {
	ref := SecretRef{Key: types.NamespacedName{Namespace: "ns", Name: "sip"}, Field: "spec.vogent.credentialsSecretRef"}
	tests := []struct {
		name     string
		raw      []byte
		required bool
		want     string
		reason   string
	}{
		{"as written", []byte("p4ss word"), true, "p4ss word", ""},
		{"one trailing newline dropped (kubectl --from-file, echo)", []byte("p4ss\n"), true, "p4ss", ""},
		{"one trailing CRLF dropped", []byte("p4ss\r\n"), true, "p4ss", ""},
		{"only one newline dropped", []byte("p4ss\n\n"), true, "", cockpitv1alpha1.ReasonSecretValueInvalid},
		{"a lone trailing CR is a control character", []byte("p4ss\r"), true, "", cockpitv1alpha1.ReasonSecretValueInvalid},
		{"not UTF-8", []byte("p4ss\xff\xfe"), true, "", cockpitv1alpha1.ReasonSecretValueInvalid},
		{"a control character inside", []byte("p4\x00ss"), true, "", cockpitv1alpha1.ReasonSecretValueInvalid},
		{"a newline inside", []byte("p4\nss"), true, "", cockpitv1alpha1.ReasonSecretValueInvalid},
		{"UTF-8 beyond ASCII is fine", []byte("pässwörd✓"), true, "pässwörd✓", ""},
		{"required and empty", []byte(""), true, "", cockpitv1alpha1.ReasonSecretKeyMissing},
		{"required and only a newline", []byte("\n"), true, "", cockpitv1alpha1.ReasonSecretKeyMissing},
		{"optional and absent", nil, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			data := map[string][]byte{}
			if tt.raw != nil {
				data["password"] = tt.raw
			}
			got, err := SecretValue(data, "password", ref, tt.required)
			if tt.reason == "" {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(got).To(Equal(tt.want))
				return
			}
			problem, ok := errors.AsType[*Stalled](err)
			g.Expect(ok).To(BeTrue(), "%v", err)
			g.Expect(problem.Reason).To(Equal(tt.reason))
			g.Expect(problem.Message).To(ContainSubstring(`"password"`))
			g.Expect(problem.Message).To(ContainSubstring(`"sip"`))
			if len(tt.raw) > 1 {
				g.Expect(problem.Message).NotTo(ContainSubstring(string(tt.raw[:2])), "the value is never shown")
			}
		})
	}
}

func TestIsUUID(t *testing.T) {
	g := NewWithT(t)
	for _, ok := range []string{"11111111-1111-4111-8111-111111111111", "ABCDEF01-2345-6789-abcd-ef0123456789"} {
		g.Expect(IsUUID(ok)).To(BeTrue(), ok)
	}
	for _, bad := range []string{"", "org-a", "11111111111141118111111111111111", "11111111-1111-4111-8111-11111111111g",
		"{11111111-1111-4111-8111-111111111111}", "11111111-1111-4111-8111-111111111111\n"} {
		g.Expect(IsUUID(bad)).To(BeFalse(), bad)
	}
}
