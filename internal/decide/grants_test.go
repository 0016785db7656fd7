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

package decide

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
	"github.com/krosai/kros-operator/internal/tenancy"
)

const (
	otherOrg = "22222222-2222-4222-8222-222222222222"
	number   = "33333333-3333-4333-8333-333333333333"
)

var defaultCredentials = types.NamespacedName{Namespace: "kros-system", Name: "krosai-credentials"}

// granting is the access of namespace team under one KrosGrant "team" that
// grants the default credentials and, with edit, more.
func granting(edit ...func(*cockpitv1alpha1.KrosGrantSpec)) func(*Facts) {
	return func(f *Facts) {
		g := cockpitv1alpha1.KrosGrant{ObjectMeta: metav1.ObjectMeta{Name: "team"}, Spec: cockpitv1alpha1.KrosGrantSpec{
			NamespaceSelector:    metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "team"}},
			CredentialsSecretRef: &cockpitv1alpha1.LocalSecretReference{Name: defaultCredentials.Name}}}
		for _, e := range edit {
			e(&g.Spec)
		}
		f.Access = Access{Read: true, Access: tenancy.Resolve("team", nil, []cockpitv1alpha1.KrosGrant{g}, defaultCredentials)}
	}
}

// keyOrganization is the organization the shared credentials' Secret names.
func keyOrganization(f *Facts) { f.Secrets.KeyOrganizationID = org }

// withPhone declares the phone number, on a resource created at createdAt.
func withPhone(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Spec.PhoneNumberID, ep.CreationTimestamp = number, metav1.Time{Time: createdAt}
}

func ownKey(ep *cockpitv1alpha1.KrosEndpoint) {
	ep.Spec.APIKeySecretRef = &cockpitv1alpha1.LocalSecretReference{Name: "key"}
}

// TestNextUnderGrants: a namespace that KrosGrants govern reaches, through
// shared credentials, only what they grant, and is refused before anything
// is read of KrosAI.
func TestNextUnderGrants(t *testing.T) {
	grantsNothing := func(f *Facts) {
		g := cockpitv1alpha1.KrosGrant{ObjectMeta: metav1.ObjectMeta{Name: "lockdown"}}
		f.Access = Access{Read: true, Access: tenancy.Resolve("team", nil, []cockpitv1alpha1.KrosGrant{g}, defaultCredentials)}
	}
	endpointsGranted := func(ids ...string) func(*cockpitv1alpha1.KrosGrantSpec) {
		return func(s *cockpitv1alpha1.KrosGrantSpec) { s.EndpointIDs = ids }
	}
	olderClaimant := resource(withPhone, func(ep *cockpitv1alpha1.KrosEndpoint) {
		ep.Namespace, ep.Name = "elsewhere", "first"
		ep.CreationTimestamp = metav1.Time{Time: createdAt.Add(-time.Hour)}
	})
	tests := []struct {
		name  string
		facts Facts
		want  outcome
	}{
		{"no grant gives credentials: stalled before the Secrets", facts(resource(), secretsUnread, grantsNothing),
			stalledOn(cockpitv1alpha1.ReasonNotGranted)},
		{"a key of its own needs no grant", facts(resource(ownKey), grantsNothing), outcome{Action: ActionCreate, Fields: created}},
		{"granted credentials: create", facts(resource(), granting()), outcome{Action: ActionCreate, Fields: created}},
		{"an organization not granted", facts(resource(func(ep *cockpitv1alpha1.KrosEndpoint) {
			ep.Spec.OrganizationID = otherOrg
		}), granting(), keyOrganization), stalledOn(cockpitv1alpha1.ReasonNotGranted)},
		{"the credentials' own organization needs no grant", facts(resource(func(ep *cockpitv1alpha1.KrosEndpoint) {
			ep.Spec.OrganizationID = org
		}), granting(), keyOrganization), outcome{Action: ActionCreate, Fields: created}},
		{"a granted organization", facts(resource(func(ep *cockpitv1alpha1.KrosEndpoint) { ep.Spec.OrganizationID = otherOrg }),
			granting(func(s *cockpitv1alpha1.KrosGrantSpec) { s.OrganizationIDs = []string{otherOrg} }), keyOrganization),
			outcome{Action: ActionCreate, Fields: created}},
		{"adopting without a grant: stalled before the claims or a read", facts(resource(naming), granting(), claimsUnread),
			stalledOn(cockpitv1alpha1.ReasonNotGranted)},
		{"adopting, granted: the claims, then a GET", facts(resource(naming), granting(endpointsGranted("e-1")), claimsUnread),
			readOf(FactClaims)},
		{"adopting, granted by \"*\"", facts(resource(naming), granting(endpointsGranted("*")), found(remote("e-1"))),
			outcome{Action: ActionAdopt, EndpointID: "e-1"}},
		{"its own endpoint needs no grant", facts(resource(owning), granting(), found(remote("e-1"))),
			outcome{Action: ActionNone, Why: WhyInSync, EndpointID: "e-1"}},
		{"observing without a grant", facts(resource(naming, observeOnlyPolicy), granting()),
			stalledOn(cockpitv1alpha1.ReasonNotGranted)},
		{"a phone number not granted", facts(resource(withPhone), granting()), stalledOn(cockpitv1alpha1.ReasonNotGranted)},
		{"a granted phone number: who else claims it, first", facts(resource(withPhone), claimsUnread,
			granting(func(s *cockpitv1alpha1.KrosGrantSpec) { s.PhoneNumberIDs = []string{number} })), readOf(FactClaims)},
		{"a phone number another declared first", facts(resource(withPhone), claimedBy(olderClaimant),
			granting(func(s *cockpitv1alpha1.KrosGrantSpec) { s.PhoneNumberIDs = []string{"*"} })),
			stalledOn(cockpitv1alpha1.ReasonPhoneNumberClaimed)},
		{"a phone number another declared first, with a key of its own", facts(resource(withPhone, ownKey), claimedBy(olderClaimant)),
			stalledOn(cockpitv1alpha1.ReasonPhoneNumberClaimed)},
		{"an interrupted create recovers nothing made before the resource was",
			facts(resource(annotated(cockpitv1alpha1.AnnotationCreatePending, pendingRecord), func(ep *cockpitv1alpha1.KrosEndpoint) {
				ep.CreationTimestamp = metav1.Time{Time: createdAt.Add(time.Hour)}
			}), granting(), listing(remote("e-1"))), outcome{Action: ActionCreate, Fields: created}},
		{"deleted, never adopted and not granted: orphaned", facts(resource(naming, deleting), granting()),
			outcome{Action: ActionOrphan, Why: WhyNotGranted, EndpointID: "e-1", Release: true}},
		{"deleted, its own: delete", facts(resource(owning, deleting), granting()),
			outcome{Action: ActionDelete, EndpointID: "e-1", Release: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			d := Next(tt.facts)
			g.Expect(outcomeOf(d)).To(Equal(tt.want), "%+v", d.Failure)
		})
	}
}

// TestNotGrantedSaysWhichGrant: a refusal names the grant field and the
// grants that select the namespace, and nothing of the endpoint.
func TestNotGrantedSaysWhichGrant(t *testing.T) {
	g := NewWithT(t)
	d := Next(facts(resource(naming), granting(), found(remote("e-1", func(e *krosai.Endpoint) { e.Name = "Secret agent" }))))
	g.Expect(d.Failure.Message).To(Equal(`endpoint "e-1" named by the annotation cockpit.krosai.com/endpoint-id, which no ` +
		`KrosEndpoint of this namespace created, is not granted to namespace "team": the platform team grants it by listing ` +
		`it in spec.endpointIDs of a KrosGrant that selects this namespace and names the credentials Secret ` +
		`"krosai-credentials" (selecting it: team)`))
}
