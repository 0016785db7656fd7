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

package tenancy

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
)

var defaults = types.NamespacedName{Namespace: "kros-system", Name: "krosai-credentials"}

func grant(name string, selector map[string]string, secret string, edit ...func(*cockpitv1alpha1.KrosGrantSpec)) cockpitv1alpha1.KrosGrant {
	g := cockpitv1alpha1.KrosGrant{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: cockpitv1alpha1.KrosGrantSpec{NamespaceSelector: metav1.LabelSelector{MatchLabels: selector}}}
	if secret != "" {
		g.Spec.CredentialsSecretRef = &cockpitv1alpha1.LocalSecretReference{Name: secret}
	}
	for _, e := range edit {
		e(&g.Spec)
	}
	return g
}

func TestResolve(t *testing.T) {
	teamA := map[string]string{"team": "a"}
	endpoints := func(ids ...string) func(*cockpitv1alpha1.KrosGrantSpec) {
		return func(s *cockpitv1alpha1.KrosGrantSpec) { s.EndpointIDs = ids }
	}
	tests := []struct {
		name        string
		grants      []cockpitv1alpha1.KrosGrant
		credentials string
		governed    bool
		stalled     bool
		endpoint    bool // e-1 granted
	}{
		{name: "no grant selects it: the default credentials, as before grants",
			grants:      []cockpitv1alpha1.KrosGrant{grant("b", map[string]string{"team": "b"}, "krosai-team-b")},
			credentials: "krosai-credentials", endpoint: true},
		{name: "a grant of nothing (lockdown): no shared credentials", grants: []cockpitv1alpha1.KrosGrant{grant("lockdown", nil, "")},
			governed: true, stalled: true},
		{name: "the default credentials, granted", grants: []cockpitv1alpha1.KrosGrant{grant("lockdown", nil, ""),
			grant("a", teamA, "krosai-credentials", endpoints("e-1"))}, credentials: "krosai-credentials", governed: true, endpoint: true},
		{name: "a Secret of its own before the default credentials, with its own grants only",
			grants:      []cockpitv1alpha1.KrosGrant{grant("all", nil, "krosai-credentials", endpoints("*")), grant("a", teamA, "krosai-team-a")},
			credentials: "krosai-team-a", governed: true},
		{name: "two Secrets of its own: none", grants: []cockpitv1alpha1.KrosGrant{grant("a1", teamA, "one"), grant("a2", teamA, "two")},
			governed: true, stalled: true},
		{name: "a selector that cannot be read fails closed: it selects every namespace and grants nothing",
			grants: []cockpitv1alpha1.KrosGrant{grant("bad", nil, "x", func(s *cockpitv1alpha1.KrosGrantSpec) {
				s.NamespaceSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "team!", Operator: "Exists"}}
			})}, governed: true, stalled: true},
		{name: "by name", grants: []cockpitv1alpha1.KrosGrant{grant("n", map[string]string{"kubernetes.io/metadata.name": "team-a"},
			"krosai-credentials")}, credentials: "krosai-credentials", governed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			a := Resolve("team-a", teamA, tt.grants, defaults)
			g.Expect(a.Governed).To(Equal(tt.governed))
			g.Expect(a.Credentials.Key.Name).To(Equal(tt.credentials))
			g.Expect(a.CredentialsStall() != nil).To(Equal(tt.stalled))
			if !tt.stalled {
				g.Expect(a.EndpointGranted("e-1")).To(Equal(tt.endpoint))
			}
		})
	}
}

func TestStallsSayWhatIsMissing(t *testing.T) {
	g := NewWithT(t)
	a := Resolve("team-a", nil, []cockpitv1alpha1.KrosGrant{grant("team-a", nil, "krosai-credentials",
		func(s *cockpitv1alpha1.KrosGrantSpec) {
			s.OrganizationIDs = []string{"AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA"}
		})}, defaults)
	caseless := a.OrganizationStall("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "") == nil
	g.Expect(caseless).To(BeTrue(), "UUIDs compare without case")
	itsOwn := a.OrganizationStall("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb") == nil
	g.Expect(itsOwn).To(BeTrue(), "the credentials' own organization")
	s := a.OrganizationStall("cccccccc-cccc-4ccc-8ccc-cccccccccccc", "")
	g.Expect(s.Reason).To(Equal(cockpitv1alpha1.ReasonNotGranted))
	g.Expect(s.Message).To(ContainSubstring("spec.organizationIDs"))
	g.Expect(a.PhoneNumberStall("dddddddd-dddd-4ddd-8ddd-dddddddddddd").Message).To(ContainSubstring("spec.phoneNumberIDs"))
	g.Expect(a.EndpointGranted("E-1")).To(BeFalse())

	own := Resolve("team-a", nil, []cockpitv1alpha1.KrosGrant{grant("team-a", nil, "krosai-team-a")}, defaults)
	g.Expect(own.Credentials.Field).To(Equal(`spec.credentialsSecretRef of KrosGrant "team-a"`),
		"a missing Secret is reported as the grant's, not as the default credentials")
	g.Expect(own.Credentials.Key).To(Equal(types.NamespacedName{Namespace: "kros-system", Name: "krosai-team-a"}))

	locked := Resolve("team-a", nil, []cockpitv1alpha1.KrosGrant{grant("lockdown", nil, "")}, defaults)
	g.Expect(locked.CredentialsStall().Message).To(ContainSubstring("(selecting it: lockdown)"))
}
