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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// GrantAny in a KrosGrant's list grants every organization, endpoint or
// phone number the credentials reach.
const GrantAny = "*"

// KrosGrantSpec says what KrosEndpoints of the selected namespaces may reach
// through shared credentials: credentials the platform team holds in the
// operator's namespace, rather than a Secret of the namespace's own
// (spec.apiKeySecretRef, which reaches what its key reaches).
//
// A namespace no KrosGrant selects uses the operator's default credentials
// and may reach whatever they reach, as before grants existed. A namespace
// some KrosGrant selects is governed by the grants that select it: it uses
// shared credentials only as they grant them, acts only in the organizations
// they grant, and adopts, observes or attaches only the endpoints and phone
// numbers they grant, beside the endpoints its own resources created. A
// KrosGrant without credentialsSecretRef grants nothing: selecting every
// namespace with one turns the default off.
// +kubebuilder:validation:XValidation:rule="has(self.credentialsSecretRef) || (!has(self.organizationIDs) && !has(self.endpointIDs) && !has(self.phoneNumberIDs))",message="organizationIDs, endpointIDs and phoneNumberIDs grant the use of credentials: set credentialsSecretRef"
type KrosGrantSpec struct {
	// namespaceSelector selects the namespaces the grant applies to by their
	// labels; `kubernetes.io/metadata.name: team-a` selects one namespace,
	// and {} selects every namespace.
	// +required
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, (e.operator in ['In', 'NotIn'] && has(e.values) && size(e.values) > 0) || (e.operator in ['Exists', 'DoesNotExist'] && (!has(e.values) || size(e.values) == 0)))",message="each matchExpression's operator is In or NotIn with values, or Exists or DoesNotExist without"
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`

	// credentialsSecretRef names a Secret in the operator's namespace (keys
	// apiKey, optional organizationID and dailyQuota, as the default
	// credentials) that the selected namespaces' KrosEndpoints use when they
	// set no spec.apiKeySecretRef. Name the operator's default credentials
	// (krosai-credentials) to grant those. A namespace granted a Secret
	// other than the default credentials uses it before the default ones.
	// +optional
	CredentialsSecretRef *LocalSecretReference `json:"credentialsSecretRef,omitempty"`

	// organizationIDs are the KrosAI organizations (UUIDs) the selected
	// namespaces may name in spec.organizationID with these credentials,
	// beside the credentials' own organization; "*" grants any.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=36
	// +kubebuilder:validation:XValidation:rule="self.all(id, id == '*' || id.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'))",message="each organizationID must be a UUID or \"*\""
	OrganizationIDs []string `json:"organizationIDs,omitempty"`

	// endpointIDs are the existing KrosAI endpoints the selected namespaces
	// may adopt (managementPolicy Full) or observe (ObserveOnly) with these
	// credentials, beyond those their own KrosEndpoints created; "*" grants
	// any.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.all(id, !id.matches('[\\\\x00-\\\\x20\\\\x7f-\\\\x9f/]'))",message="an endpointID holds no whitespace, control character or slash"
	EndpointIDs []string `json:"endpointIDs,omitempty"`

	// phoneNumberIDs are the KrosAI phone numbers (UUIDs) the selected
	// namespaces' KrosEndpoints may attach (spec.phoneNumberID) with these
	// credentials; "*" grants any.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=36
	// +kubebuilder:validation:XValidation:rule="self.all(id, id == '*' || id.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'))",message="each phoneNumberID must be a UUID or \"*\""
	PhoneNumberIDs []string `json:"phoneNumberIDs,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=krosai
// +kubebuilder:printcolumn:name="Credentials",type=string,JSONPath=`.spec.credentialsSecretRef.name`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// KrosGrant lets the KrosEndpoints of the namespaces it selects use shared
// credentials, and says which organizations, existing endpoints and phone
// numbers they may reach with them. It is cluster-scoped, so that only the
// platform team, never a tenant, grants.
type KrosGrant struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is what the grant allows.
	// +required
	Spec KrosGrantSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// KrosGrantList contains a list of KrosGrant.
type KrosGrantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []KrosGrant `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(scheme *runtime.Scheme) error {
		scheme.AddKnownTypes(SchemeGroupVersion, &KrosGrant{}, &KrosGrantList{})
		return nil
	})
}
