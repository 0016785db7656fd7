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

// Package tenancy reads KrosGrants: which shared credentials a namespace
// uses, and which organizations, existing endpoints and phone numbers it may
// reach with them. The controller and `kubectl krosai plan` both resolve a
// namespace's Access here and let decide.Next apply it, so a tenant is
// refused the same way by both. Nothing here does I/O.
package tenancy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/mapping"
)

// Access is what one namespace's KrosEndpoints may reach through shared
// credentials (those without spec.apiKeySecretRef).
type Access struct {
	// Namespace is the namespace the access is for.
	Namespace string
	// Governed reports that some KrosGrant selects the namespace. A namespace
	// no grant selects uses the operator's default credentials, and reaches
	// what they reach, as before grants existed.
	Governed bool
	// Credentials is the credentials Secret the namespace's KrosEndpoints use
	// when they name none, and what grants it (for messages); zero when the
	// grants grant none.
	Credentials mapping.SecretRef
	// Grants are the KrosGrants that select the namespace, by name.
	Grants []string
	// Conflict says why the grants grant no credentials although some name
	// them: they name different Secrets.
	Conflict string

	organizations, endpoints, phoneNumbers []string
}

// Resolve is the access of namespace, whose labels are namespaceLabels,
// under grants. A governed namespace uses the Secret its grants name; when
// some name the operator's default credentials and others another Secret,
// the other one, which the platform gave the namespace of its own. Its
// permissions are those of the grants that name the Secret it uses.
func Resolve(namespace string, namespaceLabels map[string]string, grants []cockpitv1alpha1.KrosGrant,
	defaultCredentials types.NamespacedName,
) Access {
	a := Access{Namespace: namespace}
	var selecting []*cockpitv1alpha1.KrosGrant
	for i := range grants {
		g := &grants[i]
		selected, readable := selects(g, namespace, namespaceLabels)
		if selected {
			a.Grants = append(a.Grants, g.Name)
		}
		if selected && readable {
			selecting = append(selecting, g)
		}
	}
	slices.Sort(a.Grants)
	if len(a.Grants) == 0 {
		return Access{Namespace: namespace, Credentials: mapping.DefaultCredentialsRef(defaultCredentials)}
	}
	a.Governed = true
	var own []string
	for _, g := range selecting {
		if ref := g.Spec.CredentialsSecretRef; ref != nil && ref.Name != defaultCredentials.Name && !slices.Contains(own, ref.Name) {
			own = append(own, ref.Name)
		}
	}
	slices.Sort(own)
	switch {
	case len(own) > 1:
		a.Conflict = fmt.Sprintf("the KrosGrants selecting namespace %q (%s) grant different credentials Secrets (%s); "+
			"a namespace has one: set spec.apiKeySecretRef, or ask the platform team to grant one",
			namespace, strings.Join(a.Grants, ", "), strings.Join(own, ", "))
		return a
	case len(own) == 1:
		a.Credentials = mapping.SecretRef{Key: types.NamespacedName{Namespace: defaultCredentials.Namespace, Name: own[0]}}
	case slices.ContainsFunc(selecting, func(g *cockpitv1alpha1.KrosGrant) bool { return g.Spec.CredentialsSecretRef != nil }):
		a.Credentials = mapping.DefaultCredentialsRef(defaultCredentials)
	default:
		return a
	}
	var naming []string
	for _, g := range selecting {
		if ref := g.Spec.CredentialsSecretRef; ref != nil && ref.Name == a.Credentials.Key.Name {
			naming = append(naming, g.Name)
			a.organizations = append(a.organizations, g.Spec.OrganizationIDs...)
			a.endpoints = append(a.endpoints, g.Spec.EndpointIDs...)
			a.phoneNumbers = append(a.phoneNumbers, g.Spec.PhoneNumberIDs...)
		}
	}
	if len(own) == 1 {
		a.Credentials.Field = fmt.Sprintf("spec.credentialsSecretRef of KrosGrant %q", naming[0])
	}
	return a
}

// selects reports whether g selects the namespace, and whether its
// selector could be read. One that cannot (admission checks its operators,
// not every label key) fails closed: it selects every namespace and grants
// nothing, as the grant of nothing does, so that a broken lockdown locks
// down and a broken grant gives nothing, and the stall names it.
func selects(g *cockpitv1alpha1.KrosGrant, namespace string, namespaceLabels map[string]string) (selected, readable bool) {
	selector, err := metav1.LabelSelectorAsSelector(&g.Spec.NamespaceSelector)
	if err != nil {
		return true, false
	}
	set := labels.Set{}
	maps.Copy(set, namespaceLabels)
	// The API server sets this label on every namespace; a test's fake may not.
	set["kubernetes.io/metadata.name"] = namespace
	return selector.Matches(set), true
}

// Shared reports whether ep uses shared credentials: it names no Secret of
// its own namespace for its API key.
func Shared(ep *cockpitv1alpha1.KrosEndpoint) bool { return ep.Spec.APIKeySecretRef == nil }

// CredentialsStall is why a governed namespace's KrosEndpoint that names no
// credentials of its own cannot use shared ones; nil when it can.
func (a Access) CredentialsStall() *mapping.Stalled {
	switch {
	case !a.Governed || a.Credentials.Key.Name != "":
		return nil
	case a.Conflict != "":
		return notGranted(a.Conflict)
	}
	return notGranted(fmt.Sprintf("no KrosGrant selecting namespace %q grants credentials (selecting it: %s); set "+
		"spec.apiKeySecretRef to a Secret of this namespace holding an API key, or ask the platform team for a "+
		"KrosGrant with spec.credentialsSecretRef that selects this namespace", a.Namespace, strings.Join(a.Grants, ", ")))
}

// OrganizationStall is why ep may not act in organization org with the
// shared credentials whose Secret names keyOrganization (empty: the key's
// default); nil when it may. The credentials' own organization needs no
// grant: the platform put it there.
func (a Access) OrganizationStall(org, keyOrganization string) *mapping.Stalled {
	if !a.Governed || org == "" || strings.EqualFold(org, keyOrganization) || granted(a.organizations, org, strings.EqualFold) {
		return nil
	}
	return a.missing(fmt.Sprintf("organization %q named by spec.organizationID", org), "organizationIDs")
}

// EndpointStall is why the namespace may not adopt or observe endpoint id,
// which none of its KrosEndpoints created; nil when it may.
func (a Access) EndpointStall(id string) *mapping.Stalled {
	if !a.Governed || granted(a.endpoints, id, func(a, b string) bool { return a == b }) {
		return nil
	}
	return a.missing(fmt.Sprintf("endpoint %q named by the annotation %s, which no KrosEndpoint of this namespace "+
		"created,", id, cockpitv1alpha1.AnnotationEndpointID), "endpointIDs")
}

// EndpointGranted reports whether the namespace may take over endpoint id.
func (a Access) EndpointGranted(id string) bool { return a.EndpointStall(id) == nil }

// PhoneNumberStall is why the namespace may not attach phone number id; nil
// when it may.
func (a Access) PhoneNumberStall(id string) *mapping.Stalled {
	if !a.Governed || id == "" || granted(a.phoneNumbers, id, strings.EqualFold) {
		return nil
	}
	return a.missing(fmt.Sprintf("phone number %q named by spec.phoneNumberID", id), "phoneNumberIDs")
}

// missing says what is not granted and which grant field would grant it,
// and nothing of what, if anything, the id names in KrosAI.
func (a Access) missing(what, field string) *mapping.Stalled {
	return notGranted(fmt.Sprintf("%s is not granted to namespace %q: the platform team grants it by listing it in "+
		"spec.%s of a KrosGrant that selects this namespace and names the credentials Secret %q (selecting it: %s)",
		what, a.Namespace, field, a.Credentials.Key.Name, strings.Join(a.Grants, ", ")))
}

// granted reports whether list grants id; UUIDs compare without regard to
// case, endpoint ids exactly.
func granted(list []string, id string, same func(a, b string) bool) bool {
	return slices.ContainsFunc(list, func(g string) bool { return g == cockpitv1alpha1.GrantAny || same(g, id) })
}

func notGranted(message string) *mapping.Stalled {
	return &mapping.Stalled{Reason: cockpitv1alpha1.ReasonNotGranted, Message: message}
}
