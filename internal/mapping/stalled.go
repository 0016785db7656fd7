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
	"fmt"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
)

// Stalled is a reason the operator stops until a person changes the spec, a
// Secret or the endpoints in KrosAI: no retry helps. Reason and Message are
// the Stalled condition's; Message never holds a secret value.
type Stalled struct {
	Reason, Message string
}

func (s *Stalled) Error() string { return s.Message }

// OwnedByAnother stalls ep on an endpoint that owner already claims: an
// endpoint has one owner, or anyone who can read owner's status could
// reroute, or delete, its calls.
func OwnedByAnother(ep *cockpitv1alpha1.KrosEndpoint, id string, owner *cockpitv1alpha1.KrosEndpoint) *Stalled {
	return &Stalled{Reason: cockpitv1alpha1.ReasonEndpointOwnedByAnother, Message: fmt.Sprintf(
		"endpoint %q named by the annotation %s is owned by %s; an endpoint has one owner",
		id, cockpitv1alpha1.AnnotationEndpointID, Describe(ep, owner))}
}

// PhoneNumberClaimedByAnother stalls ep on a phone number that claimant
// attached, or declared first.
func PhoneNumberClaimedByAnother(ep, claimant *cockpitv1alpha1.KrosEndpoint) *Stalled {
	return &Stalled{Reason: cockpitv1alpha1.ReasonPhoneNumberClaimed, Message: fmt.Sprintf(
		"phone number %q named by spec.phoneNumberID is claimed by %s, which declared it first; a number is attached "+
			"to one endpoint", ep.Spec.PhoneNumberID, Describe(ep, claimant))}
}

// Describe names other as a message about ep may: by name within ep's own
// namespace, and not at all in another, whose resources a tenant of ep's
// namespace has no business learning of.
func Describe(ep, other *cockpitv1alpha1.KrosEndpoint) string {
	if other.Namespace == ep.Namespace {
		return fmt.Sprintf("KrosEndpoint %q of this namespace", other.Name)
	}
	return "a KrosEndpoint in another namespace"
}

// AdoptionTargetNotFound stalls on an id the organization does not hold.
// observeOnly says why no endpoint is created instead.
func AdoptionTargetNotFound(id string, cred krosai.Credentials, observeOnly bool) *Stalled {
	message := fmt.Sprintf("endpoint %q named by the annotation %s does not exist in KrosAI organization %q",
		id, cockpitv1alpha1.AnnotationEndpointID, OrganizationName(cred))
	if observeOnly {
		message += "; managementPolicy ObserveOnly never creates one"
	}
	return &Stalled{Reason: cockpitv1alpha1.ReasonAdoptionTargetNotFound, Message: message}
}

// EndpointIDRequired stalls on an ObserveOnly resource that names no
// endpoint.
func EndpointIDRequired() *Stalled {
	return &Stalled{Reason: cockpitv1alpha1.ReasonEndpointIDRequired, Message: fmt.Sprintf(
		"managementPolicy ObserveOnly needs the annotation %s naming the endpoint to observe; "+
			"find its id in the KrosAI dashboard and set it", cockpitv1alpha1.AnnotationEndpointID)}
}

// OrganizationName is the organization credentials act in, for messages.
func OrganizationName(cred krosai.Credentials) string {
	if cred.OrganizationID == "" {
		return "(the API key's default)"
	}
	return cred.OrganizationID
}
