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
	"github.com/krosai/kros-operator/internal/krosai"
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

// TestResolve checks what a KrosEndpoint's Secrets resolve to, and the
// organization an existing endpoint is kept in.
func TestResolve(t *testing.T) {
	const (
		orgA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
		orgB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	)
	defaults := types.NamespacedName{Namespace: "kros-system", Name: "krosai-credentials"}
	secrets := map[types.NamespacedName]map[string][]byte{
		defaults: {cockpitv1alpha1.SecretKeyAPIKey: []byte("default-key\n")},
		{Namespace: "ns", Name: "own"}: {cockpitv1alpha1.SecretKeyAPIKey: []byte("own-key"),
			cockpitv1alpha1.SecretKeyOrganizationID: []byte(orgA)},
		{Namespace: "ns", Name: "sip"}: {cockpitv1alpha1.SecretKeyUsername: []byte("alice"),
			cockpitv1alpha1.SecretKeyPassword: []byte("pw")},
		{Namespace: "ns", Name: "free"}: {cockpitv1alpha1.SecretKeyAPIKey: []byte("free-key"),
			cockpitv1alpha1.SecretKeyDailyQuota: []byte("1000\n")},
		{Namespace: "ns", Name: "odd-quota"}: {cockpitv1alpha1.SecretKeyAPIKey: []byte("key"),
			cockpitv1alpha1.SecretKeyDailyQuota: []byte("1k")},
	}
	read := func(ref SecretRef) (map[string][]byte, string, error) {
		data, ok := secrets[ref.Key]
		if !ok {
			return nil, "", SecretNotFound(ref)
		}
		return data, "rv-" + ref.Key.Name, nil
	}
	vogent := func(ep *cockpitv1alpha1.KrosEndpoint) {
		ep.Spec.Type = cockpitv1alpha1.EndpointTypeVogent
		ep.Spec.Vogent = &cockpitv1alpha1.VogentConfig{AgentID: "v", SIPPrefix: "p",
			CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "sip"}}
	}
	keyIn := func(name string) func(*cockpitv1alpha1.KrosEndpoint) {
		return func(ep *cockpitv1alpha1.KrosEndpoint) {
			ep.Spec.APIKeySecretRef = &cockpitv1alpha1.LocalSecretReference{Name: name}
		}
	}
	ownKey := keyIn("own")
	livesIn := func(org string) func(*cockpitv1alpha1.KrosEndpoint) {
		return func(ep *cockpitv1alpha1.KrosEndpoint) { ep.Status.ID, ep.Status.OrganizationID = "e-1", org }
	}
	tests := []struct {
		name       string
		mutate     []func(*cockpitv1alpha1.KrosEndpoint)
		apiKeyOnly bool
		want       Resolved
		reason     string
	}{
		{name: "the operator's default key", want: Resolved{Credentials: krosai.Credentials{APIKey: "default-key"}}},
		{name: "its own key and organization", mutate: []func(*cockpitv1alpha1.KrosEndpoint){ownKey},
			want: Resolved{Credentials: krosai.Credentials{APIKey: "own-key", OrganizationID: orgA}, KeyOrganizationID: orgA,
				Versions: []cockpitv1alpha1.SecretResourceVersion{{Name: "own", ResourceVersion: "rv-own"}}}},
		{name: "a SIP login, redacted from the client's errors", mutate: []func(*cockpitv1alpha1.KrosEndpoint){vogent},
			want: Resolved{Credentials: krosai.Credentials{APIKey: "default-key", Redact: []string{"pw"}},
				SIP:      SIPLogin{Username: "alice", Password: "pw"},
				Versions: []cockpitv1alpha1.SecretResourceVersion{{Name: "sip", ResourceVersion: "rv-sip"}}}},
		{name: "the API key only", mutate: []func(*cockpitv1alpha1.KrosEndpoint){vogent}, apiKeyOnly: true,
			want: Resolved{Credentials: krosai.Credentials{APIKey: "default-key"}}},
		{name: "spec.organizationID over the Secret's",
			mutate: []func(*cockpitv1alpha1.KrosEndpoint){ownKey, func(ep *cockpitv1alpha1.KrosEndpoint) { ep.Spec.OrganizationID = orgB }},
			want: Resolved{Credentials: krosai.Credentials{APIKey: "own-key", OrganizationID: orgB}, KeyOrganizationID: orgA,
				Versions: []cockpitv1alpha1.SecretResourceVersion{{Name: "own", ResourceVersion: "rv-own"}}}},
		{name: "credentials naming no organization are pinned to the endpoint's",
			mutate: []func(*cockpitv1alpha1.KrosEndpoint){livesIn(orgB)},
			want:   Resolved{Credentials: krosai.Credentials{APIKey: "default-key", OrganizationID: orgB}, PinnedOrganization: true}},
		{name: "credentials naming another organization stall",
			mutate: []func(*cockpitv1alpha1.KrosEndpoint){ownKey, livesIn(orgB)},
			reason: cockpitv1alpha1.ReasonOrganizationChanged},
		{name: "the key's daily quota",
			mutate: []func(*cockpitv1alpha1.KrosEndpoint){keyIn("free")},
			want: Resolved{Credentials: krosai.Credentials{APIKey: "free-key", DailyQuota: 1000},
				Versions: []cockpitv1alpha1.SecretResourceVersion{{Name: "free", ResourceVersion: "rv-free"}}}},
		{name: "a daily quota that is not a whole number stalls", mutate: []func(*cockpitv1alpha1.KrosEndpoint){keyIn("odd-quota")},
			reason: cockpitv1alpha1.ReasonSecretValueInvalid},
		{name: "a missing Secret stalls",
			mutate: []func(*cockpitv1alpha1.KrosEndpoint){func(ep *cockpitv1alpha1.KrosEndpoint) {
				ep.Spec.APIKeySecretRef = &cockpitv1alpha1.LocalSecretReference{Name: "absent"}
			}},
			reason: cockpitv1alpha1.ReasonSecretNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			ep := endpointWith(elevenLabs())
			for _, m := range tt.mutate {
				m(ep)
			}
			got, err := Resolve(ep, DefaultCredentialsRef(defaults), tt.apiKeyOnly, read)
			if tt.reason != "" {
				stalled, ok := errors.AsType[*Stalled](err)
				g.Expect(ok).To(BeTrue(), "%v", err)
				g.Expect(stalled.Reason).To(Equal(tt.reason))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			tt.want.APIKeyRef = SecretRefs(ep, DefaultCredentialsRef(defaults))[0]
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

// TestSIPLoginSecretChanged: SIP credentials cannot be read back, so a
// resourceVersion of their Secret other than the one status recorded means
// they must be sent.
func TestSIPLoginSecretChanged(t *testing.T) {
	g := NewWithT(t)
	ep := endpointWith(cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointTypeVogent,
		Vogent: &cockpitv1alpha1.VogentConfig{CredentialsSecretRef: cockpitv1alpha1.LocalSecretReference{Name: "sip"}}})
	now := []cockpitv1alpha1.SecretResourceVersion{{Name: "key", ResourceVersion: "1"}, {Name: "sip", ResourceVersion: "7"}}
	g.Expect(SIPLoginSecretChanged(ep, now)).To(BeTrue(), "never pushed")
	ep.Status.SecretResourceVersions = []cockpitv1alpha1.SecretResourceVersion{{Name: "sip", ResourceVersion: "7"}}
	g.Expect(SIPLoginSecretChanged(ep, now)).To(BeFalse(), "pushed at this version")
	now[1].ResourceVersion = "8"
	g.Expect(SIPLoginSecretChanged(ep, now)).To(BeTrue(), "rotated since")
	g.Expect(SIPLoginSecretChanged(endpointWith(elevenLabs()), now)).To(BeFalse(), "no SIP credentials")
}
