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

// EndpointType says where KrosAI routes a call.
// +kubebuilder:validation:Enum=webhook;vapi;retell;livekit;elevenlabs;vogent;custom_sip
type EndpointType string

// The endpoint types the KrosAI Cockpit API knows.
const (
	EndpointTypeWebhook    EndpointType = "webhook"
	EndpointTypeVapi       EndpointType = "vapi"
	EndpointTypeRetell     EndpointType = "retell"
	EndpointTypeLiveKit    EndpointType = "livekit"
	EndpointTypeElevenLabs EndpointType = "elevenlabs"
	EndpointTypeVogent     EndpointType = "vogent"
	EndpointTypeCustomSIP  EndpointType = "custom_sip"
)

// DeletionPolicy says what happens to the remote endpoint when its KrosEndpoint is deleted.
// +kubebuilder:validation:Enum=Delete;Orphan
type DeletionPolicy string

const (
	// DeletionPolicyDelete deletes the remote endpoint with the resource.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyOrphan leaves the remote endpoint in KrosAI.
	DeletionPolicyOrphan DeletionPolicy = "Orphan"
)

// ManagementPolicy says what the operator may do to the remote endpoint.
// +kubebuilder:validation:Enum=Full;ObserveOnly
type ManagementPolicy string

const (
	// ManagementPolicyFull creates, updates and (per deletionPolicy) deletes
	// the remote endpoint so that it matches the spec.
	ManagementPolicyFull ManagementPolicy = "Full"
	// ManagementPolicyObserveOnly only reads the endpoint named by the
	// cockpit.krosai.com/endpoint-id annotation and reports how it differs
	// from the spec: no create, update or delete, whatever deletionPolicy says.
	ManagementPolicyObserveOnly ManagementPolicy = "ObserveOnly"
)

// EndpointState is the endpoint's status as the KrosAI API reports it.
// +kubebuilder:validation:Enum=active;inactive;error
type EndpointState string

// The states the KrosAI API reports.
const (
	EndpointStateActive   EndpointState = "active"
	EndpointStateInactive EndpointState = "inactive"
	EndpointStateError    EndpointState = "error"
)

// LocalSecretReference names a Secret in the namespace of the object that holds it.
// There is deliberately no namespace field: a KrosEndpoint can only read Secrets
// of its own namespace.
type LocalSecretReference struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// WebhookConfig sends call events to an HTTPS endpoint of the user's.
type WebhookConfig struct {
	// url receives the call events. Only https:// URLs are accepted, without
	// credentials (user:password@): the receiver verifies X-Webhook-Signature
	// instead, and the URL is shown in status and `kubectl get`. Characters a
	// URL must percent-encode (whitespace, quotes, <>\^`{|}) are refused, so
	// every party that parses the URL reads the same one.
	// +required
	// +kubebuilder:validation:MinLength=9
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') && isURL(self)",message="url must be an absolute https:// URL"
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x20\\\\x7f-\\\\x9f\"<>\\\\x5c^`{|}]')",message="url must not contain whitespace, control characters, quotes or any of <>\\^`{|} (percent-encode them)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^https://[^/?#]*@')",message="url must not carry credentials (user:password@host)"
	URL string `json:"url"`

	// eventReceiver marks this webhook as the operator's receiver of KrosAI's
	// endpoint events: KrosAI signs each event it delivers here with the
	// webhook's signing secret, and an event naming an endpoint that a
	// KrosEndpoint owns or observes makes that resource read it within
	// seconds instead of at the next sync. The url must reach the
	// operator's event receiver (--event-receiver-bind-address) at the path
	// /krosai/events/<namespace>/<name> of this resource. A receiver acts
	// for the resources of its own namespace, or, in the operator's
	// namespace, for every namespace (docs/events.md).
	// +optional
	EventReceiver bool `json:"eventReceiver,omitempty"`
}

// VapiConfig routes calls to a Vapi assistant.
type VapiConfig struct {
	// assistantID is the Vapi assistant that answers calls.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="assistantID must not contain control characters"
	AssistantID string `json:"assistantID"`

	// credentialID is the Vapi BYO SIP trunk credential to use.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="credentialID must not contain control characters"
	CredentialID string `json:"credentialID,omitempty"`

	// phoneNumberID is the Vapi phone number used for outbound calls.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="phoneNumberID must not contain control characters"
	PhoneNumberID string `json:"phoneNumberID,omitempty"`
}

// RetellConfig routes calls to a Retell agent.
type RetellConfig struct {
	// agentID is the Retell agent that answers calls.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="agentID must not contain control characters"
	AgentID string `json:"agentID"`

	// phoneNumber is the Retell phone number for outbound calls, in E.164 form (+14155550100).
	// +optional
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^\\\\+[1-9][0-9]{1,14}$')",message="phoneNumber must be in E.164 form, e.g. +14155550100"
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

// ElevenLabsConfig routes calls to an ElevenLabs Conversational AI agent.
type ElevenLabsConfig struct {
	// agentID is the ElevenLabs agent that answers calls.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="agentID must not contain control characters"
	AgentID string `json:"agentID"`
}

// LiveKitConfig routes calls to a LiveKit agent through a LiveKit SIP trunk.
type LiveKitConfig struct {
	// agentName is the LiveKit agent to dispatch.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="agentName must not contain control characters"
	AgentName string `json:"agentName,omitempty"`

	// sipTrunkID is the LiveKit SIP trunk.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="sipTrunkID must not contain control characters"
	SIPTrunkID string `json:"sipTrunkID"`

	// sipURI is the full SIP URI from the LiveKit dashboard, e.g. sip:xxxx.sip.livekit.cloud.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^sips?:[^\\\\s]+$')",message="sipURI must be a SIP URI starting with sip: or sips:"
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="sipURI must not contain control characters"
	SIPURI string `json:"sipURI"`
}

// VogentConfig routes calls to a Vogent agent over authenticated SIP.
type VogentConfig struct {
	// agentID is the Vogent agent, kept for reference.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="agentID must not contain control characters"
	AgentID string `json:"agentID,omitempty"`

	// sipPrefix is the SIP prefix from Vogent's call settings.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="sipPrefix must not contain control characters"
	SIPPrefix string `json:"sipPrefix"`

	// credentialsSecretRef names a Secret in this namespace with the SIP
	// `username` and `password` (the kubernetes.io/basic-auth layout).
	// +required
	CredentialsSecretRef LocalSecretReference `json:"credentialsSecretRef"`
}

// CustomSIPConfig routes calls to a SIP URI of the user's.
type CustomSIPConfig struct {
	// sipURI receives the calls, e.g. sip:agent@pbx.example.com.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^sips?:[^\\\\s]+$')",message="sipURI must be a SIP URI starting with sip: or sips:"
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="sipURI must not contain control characters"
	SIPURI string `json:"sipURI"`

	// credentialsSecretRef names a Secret in this namespace with the SIP
	// `username` and `password` (the kubernetes.io/basic-auth layout), when the
	// SIP peer requires authentication.
	// +optional
	CredentialsSecretRef *LocalSecretReference `json:"credentialsSecretRef,omitempty"`
}

// KrosEndpointSpec is the endpoint as the user wants it in KrosAI.
// Exactly one provider block, the one matching type, is set.
// +kubebuilder:validation:XValidation:rule="has(self.webhook) == (self.type == 'webhook')",message="webhook must be set when type is webhook, and only then",fieldPath=".webhook"
// +kubebuilder:validation:XValidation:rule="has(self.vapi) == (self.type == 'vapi')",message="vapi must be set when type is vapi, and only then",fieldPath=".vapi"
// +kubebuilder:validation:XValidation:rule="has(self.retell) == (self.type == 'retell')",message="retell must be set when type is retell, and only then",fieldPath=".retell"
// +kubebuilder:validation:XValidation:rule="has(self.elevenLabs) == (self.type == 'elevenlabs')",message="elevenLabs must be set when type is elevenlabs, and only then",fieldPath=".elevenLabs"
// +kubebuilder:validation:XValidation:rule="has(self.liveKit) == (self.type == 'livekit')",message="liveKit must be set when type is livekit, and only then",fieldPath=".liveKit"
// +kubebuilder:validation:XValidation:rule="has(self.vogent) == (self.type == 'vogent')",message="vogent must be set when type is vogent, and only then",fieldPath=".vogent"
// +kubebuilder:validation:XValidation:rule="has(self.customSIP) == (self.type == 'custom_sip')",message="customSIP must be set when type is custom_sip, and only then",fieldPath=".customSIP"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.phoneNumberID) || (has(self.phoneNumberID) && self.phoneNumberID == oldSelf.phoneNumberID)",message="phoneNumberID is immutable once set",fieldPath=".phoneNumberID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.organizationID) || (has(self.organizationID) && self.organizationID == oldSelf.organizationID)",message="organizationID is immutable once set: an endpoint cannot move between organizations. To move it, set deletionPolicy: Orphan and delete this resource, then create one for the new organization (or adopt an endpoint there by its id)",fieldPath=".organizationID"
type KrosEndpointSpec struct {
	// type says where calls go: a webhook, an AI agent provider, or a custom SIP URI.
	// It cannot change: delete and re-create the KrosEndpoint instead.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="type is immutable; delete and re-create the KrosEndpoint to change it"
	Type EndpointType `json:"type"`

	// displayName is the endpoint's name in KrosAI. Defaults to metadata.name.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x00-\\\\x1f\\\\x7f-\\\\x9f]')",message="displayName must not contain control characters"
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\\\x{061c}\\\\x{200e}\\\\x{200f}\\\\x{202a}-\\\\x{202e}\\\\x{2066}-\\\\x{2069}]')",message="displayName must not contain bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069)"
	DisplayName string `json:"displayName,omitempty"`

	// webhook configures a webhook endpoint; set only when type is webhook.
	// +optional
	Webhook *WebhookConfig `json:"webhook,omitempty"`

	// vapi configures a Vapi endpoint; set only when type is vapi.
	// +optional
	Vapi *VapiConfig `json:"vapi,omitempty"`

	// retell configures a Retell endpoint; set only when type is retell.
	// +optional
	Retell *RetellConfig `json:"retell,omitempty"`

	// elevenLabs configures an ElevenLabs endpoint; set only when type is elevenlabs.
	// +optional
	ElevenLabs *ElevenLabsConfig `json:"elevenLabs,omitempty"`

	// liveKit configures a LiveKit endpoint; set only when type is livekit.
	// +optional
	LiveKit *LiveKitConfig `json:"liveKit,omitempty"`

	// vogent configures a Vogent endpoint; set only when type is vogent.
	// +optional
	Vogent *VogentConfig `json:"vogent,omitempty"`

	// customSIP configures a custom SIP endpoint; set only when type is custom_sip.
	// +optional
	CustomSIP *CustomSIPConfig `json:"customSIP,omitempty"`

	// phoneNumberID is a KrosAI phone number (UUID) to attach when the endpoint
	// is created. The API accepts it only at creation, so it cannot change.
	// +optional
	// +kubebuilder:validation:MaxLength=36
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="phoneNumberID must be a UUID"
	PhoneNumberID string `json:"phoneNumberID,omitempty"`

	// enabled makes the remote endpoint active; false makes it inactive
	// without deleting it.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// deletionPolicy says what happens to the remote endpoint when this
	// resource is deleted: Delete removes it, Orphan leaves it in KrosAI.
	// +optional
	// +kubebuilder:default=Delete
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// managementPolicy says what the operator may do to the remote endpoint:
	// Full (the default) keeps it matching the spec; ObserveOnly only reads
	// the endpoint named by the cockpit.krosai.com/endpoint-id annotation and
	// reports in status.drift how it differs from the spec, and never
	// creates, updates or deletes it, whatever deletionPolicy says. Switching
	// to Full applies the reported drift in one update.
	// +optional
	// +kubebuilder:default=Full
	ManagementPolicy ManagementPolicy `json:"managementPolicy,omitempty"`

	// apiKeySecretRef names a Secret in this namespace with the KrosAI API key
	// under `apiKey` (and optionally `organizationID`). When absent, the
	// operator's default credentials Secret applies.
	// +optional
	APIKeySecretRef *LocalSecretReference `json:"apiKeySecretRef,omitempty"`

	// organizationID is the KrosAI organization (UUID) that owns the endpoint,
	// sent as x-organization-id. It overrides the credentials Secret's
	// organizationID; without either, the API key's first organization applies.
	// It cannot change once set: an endpoint does not move between
	// organizations, and once it exists every call about it goes to the
	// organization it lives in (status.organizationID).
	// +optional
	// +kubebuilder:validation:MaxLength=36
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",message="organizationID must be a UUID"
	OrganizationID string `json:"organizationID,omitempty"`
}

// SecretResourceVersion is the resourceVersion of a Secret as last used.
type SecretResourceVersion struct {
	// name of the Secret, in the KrosEndpoint's namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// resourceVersion of the Secret when its values were last pushed.
	// +required
	// +kubebuilder:validation:MaxLength=64
	ResourceVersion string `json:"resourceVersion"`
}

// FieldDrift is one field where the remote endpoint differs from what the
// spec asks.
type FieldDrift struct {
	// field is the API's field, e.g. provider_config.assistant_id.
	// +required
	// +kubebuilder:validation:MaxLength=64
	Field string `json:"field"`

	// specField is the spec field that sets it, e.g. spec.vapi.assistantID.
	// +required
	// +kubebuilder:validation:MaxLength=128
	SpecField string `json:"specField"`

	// observed is the value KrosAI holds. Empty for write-only fields.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Observed string `json:"observed,omitempty"`

	// desired is the value the spec asks for. Empty for write-only fields.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Desired string `json:"desired,omitempty"`

	// writeOnly marks a field the API never returns (a SIP username or
	// password), listed because the operator cannot know whether it matches:
	// under ObserveOnly, or before the operator has pushed it. It carries no
	// value, and does not make Synced False.
	// +optional
	WriteOnly bool `json:"writeOnly,omitempty"`
}

// KrosEndpointStatus is the endpoint as the KrosAI API last reported it.
type KrosEndpointStatus struct {
	// id is the endpoint's id in KrosAI, mirrored from the
	// cockpit.krosai.com/endpoint-id annotation.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	ID string `json:"id,omitempty"`

	// url is what the API reports: the webhook URL, or the SIP URI it generated.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url,omitempty"`

	// sipURI is the SIP URI calls are routed to; empty for webhooks.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	SIPURI string `json:"sipURI,omitempty"`

	// state is the endpoint's status in KrosAI.
	// +optional
	State EndpointState `json:"state,omitempty"`

	// organizationID is the KrosAI organization that owns the endpoint.
	// +optional
	// +kubebuilder:validation:MaxLength=36
	OrganizationID string `json:"organizationID,omitempty"`

	// drift lists the fields where the remote endpoint, as last observed,
	// differs from the spec. Under Full it is corrected at once, so it is
	// empty once Ready; under ObserveOnly it is what switching to Full would
	// change. The Synced condition summarises it.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Drift []FieldDrift `json:"drift,omitempty"`

	// signingSecretName is the Secret holding the webhook signing secret under
	// `signingSecret`, for receivers that verify X-Webhook-Signature. Webhooks only.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	SigningSecretName string `json:"signingSecretName,omitempty"`

	// secretResourceVersions records the resourceVersion of each Secret whose
	// values were last pushed to KrosAI. Passwords are write-only in the API,
	// so a changed resourceVersion is how a rotation is detected; no value or
	// hash of a value is ever kept here.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=4
	SecretResourceVersions []SecretResourceVersion `json:"secretResourceVersions,omitempty"`

	// lastHandledReconcileAt is the last value of the
	// cockpit.krosai.com/reconcile-requested-at annotation that was acted on.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`

	// observedGeneration is the generation of the spec that was last fully
	// reconciled. It defaults to 0 so that a resource the operator has not
	// seen yet reads as in progress to kstatus (Flux, kubectl wait), not as
	// current.
	// +optional
	// +kubebuilder:default=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions say whether the endpoint is Ready, still Reconciling, or
	// Stalled on an error that needs a person (the kstatus convention).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=kep,categories=krosai
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Policy",type=string,JSONPath=`.spec.managementPolicy`,priority=1
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Receiver",type=boolean,JSONPath=`.spec.webhook.eventReceiver`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.id`,priority=1
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1

// KrosEndpoint is a KrosAI call-routing endpoint declared in Kubernetes: the
// operator creates, updates and deletes the matching endpoint through the
// KrosAI Cockpit API and reports its id, SIP URI and state.
type KrosEndpoint struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is the endpoint as the user wants it.
	// +required
	Spec KrosEndpointSpec `json:"spec"`

	// status is the endpoint as KrosAI last reported it.
	// +optional
	// +kubebuilder:default={}
	Status KrosEndpointStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// KrosEndpointList contains a list of KrosEndpoint.
type KrosEndpointList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []KrosEndpoint `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(scheme *runtime.Scheme) error {
		scheme.AddKnownTypes(SchemeGroupVersion, &KrosEndpoint{}, &KrosEndpointList{})
		return nil
	})
}
