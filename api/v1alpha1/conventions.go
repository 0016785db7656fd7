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

// Annotations and finalizers the operator reserves on KrosEndpoints.
const (
	// AnnotationEndpointID holds the remote endpoint's id. It is the source of
	// truth for which endpoint a resource owns (status is not: it does not
	// survive backup/restore or GitOps re-creation). Set it on a new resource
	// to adopt an existing endpoint.
	AnnotationEndpointID = "cockpit.krosai.com/endpoint-id"

	// AnnotationPaused set to "true" stops every API call for the resource.
	AnnotationPaused = "cockpit.krosai.com/paused"

	// AnnotationReconcileRequestedAt forces an immediate sync whenever its
	// value changes (any value; a timestamp by convention, as in Flux).
	AnnotationReconcileRequestedAt = "cockpit.krosai.com/reconcile-requested-at"

	// AnnotationCreatePending records, before a create is sent, when it was
	// sent. The API has no idempotency key: if the operator dies or the
	// response is lost, this is how the next reconcile knows to look for the
	// endpoint it may have created instead of creating a second one.
	AnnotationCreatePending = "cockpit.krosai.com/create-pending"

	// Finalizer keeps a KrosEndpoint until its remote endpoint is handled per
	// its deletionPolicy.
	Finalizer = "cockpit.krosai.com/finalizer"

	// SecretInUseFinalizer keeps a Secret while a KrosEndpoint references it,
	// as pvc-protection keeps a volume claim: deleting a namespace would
	// otherwise remove the credentials before the endpoints that need them to
	// delete their remote counterparts.
	SecretInUseFinalizer = "cockpit.krosai.com/secret-in-use"
)

// Keys the operator reads from referenced Secrets.
const (
	// SecretKeyAPIKey holds the KrosAI API key in an apiKeySecretRef Secret.
	SecretKeyAPIKey = "apiKey"
	// SecretKeyOrganizationID optionally holds the organization UUID beside the API key.
	SecretKeyOrganizationID = "organizationID"
	// SecretKeyDailyQuota optionally holds the key's daily request quota
	// (its plan's: Free 1000, Pro 50000, Business 500000), a whole number.
	SecretKeyDailyQuota = "dailyQuota"
	// SecretKeyUsername holds the SIP username in a credentialsSecretRef Secret
	// (the kubernetes.io/basic-auth layout).
	SecretKeyUsername = "username"
	// SecretKeyPassword holds the SIP password in a credentialsSecretRef Secret.
	SecretKeyPassword = "password"
	// SecretKeySigningSecret holds the webhook signing secret in the Secret the
	// operator writes for webhook endpoints.
	SecretKeySigningSecret = "signingSecret"
)

// Condition types, following the kstatus convention that Flux, Argo CD and
// `kubectl wait --for=condition=Ready` understand.
const (
	// ConditionReady is True when the remote endpoint exists and matches the spec.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the operator creates, updates or retries.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when no retry can help until the spec or a
	// Secret changes.
	ConditionStalled = "Stalled"
	// ConditionSynced is True when the remote endpoint, as last observed,
	// matches the spec in every field that can be compared (status.drift
	// lists the others). It is not a kstatus condition: an ObserveOnly
	// resource with drift is still Ready.
	ConditionSynced = "Synced"
)

// Condition reasons. Each names one situation a user can act on.
const (
	// ReasonSynced: the remote endpoint matches the spec.
	ReasonSynced = "Synced"
	// ReasonProgressing: a create, update or delete is under way.
	ReasonProgressing = "Progressing"
	// ReasonPaused: the paused annotation stops all API calls.
	ReasonPaused = "Paused"
	// ReasonDeleting: the resource is being deleted.
	ReasonDeleting = "Deleting"

	// ReasonInSync: Synced is True; the remote endpoint matches the spec.
	ReasonInSync = "InSync"
	// ReasonDriftDetected: Synced is False; status.drift lists the fields.
	ReasonDriftDetected = "DriftDetected"
	// ReasonEndpointIDRequired: managementPolicy ObserveOnly needs the
	// cockpit.krosai.com/endpoint-id annotation to know what to observe.
	ReasonEndpointIDRequired = "EndpointIDRequired"

	// ReasonSecretNotFound: a referenced Secret does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretKeyMissing: a referenced Secret lacks a required key or has it empty.
	ReasonSecretKeyMissing = "SecretKeyMissing"
	// ReasonSecretValueInvalid: a value in a referenced Secret is not valid
	// UTF-8, holds a control character, or (organizationID) is not a UUID.
	ReasonSecretValueInvalid = "SecretValueInvalid"
	// ReasonUnauthorized: the API rejected the API key (401).
	ReasonUnauthorized = "Unauthorized"
	// ReasonForbidden: the API key may not do this (403: scope, IP allow-list, expiry).
	ReasonForbidden = "Forbidden"
	// ReasonInvalidRequest: the API rejected the request as invalid (400/422).
	ReasonInvalidRequest = "InvalidRequest"
	// ReasonRateLimited: the API asked the operator to slow down (429).
	ReasonRateLimited = "RateLimited"
	// ReasonDailyLimitExceeded: the API key's daily request quota is spent;
	// nothing is sent with it until the reset the message gives.
	ReasonDailyLimitExceeded = "DailyLimitExceeded"
	// ReasonAPIUnavailable: the API failed or could not be reached; retrying.
	ReasonAPIUnavailable = "APIUnavailable"
	// ReasonStale: KrosAI has not been read for the endpoint for longer than
	// the freshness bound (two sync periods); status shows it as last read.
	ReasonStale = "Stale"
	// ReasonListFailed: listing the organization's endpoints failed (an
	// error, an unreadable answer, a page missing); retrying. A failed list
	// is never taken as evidence that an endpoint was deleted.
	ReasonListFailed = "ListFailed"
	// ReasonAmbiguousCreate: after an interrupted create, more than one remote
	// endpoint could be ours; a person must say which.
	ReasonAmbiguousCreate = "AmbiguousCreate"
	// ReasonAdoptionTargetNotFound: the endpoint-id annotation names an
	// endpoint the API does not have.
	ReasonAdoptionTargetNotFound = "AdoptionTargetNotFound"
	// ReasonEndpointOwnedByAnother: the endpoint-id annotation names an
	// endpoint another KrosEndpoint already owns.
	ReasonEndpointOwnedByAnother = "EndpointOwnedByAnother"
	// ReasonNotGranted: the namespace uses shared credentials, and no
	// KrosGrant selecting it grants what the resource needs: the
	// credentials, its organization, the endpoint it names or its phone
	// number. The message names the grant field; no API call was made.
	ReasonNotGranted = "NotGranted"
	// ReasonPhoneNumberClaimed: another KrosEndpoint claims the phone number
	// spec.phoneNumberID names; a number is attached to one endpoint.
	ReasonPhoneNumberClaimed = "PhoneNumberClaimed"
	// ReasonSigningSecretConflict: the webhook signing Secret's name is taken
	// by a Secret this KrosEndpoint does not own.
	ReasonSigningSecretConflict = "SigningSecretConflict"
	// ReasonRemoteError: the API reports the endpoint in state error. Ready
	// is False while it lasts; after three sync periods Stalled is True too.
	// Both clear when the API reports the endpoint active again.
	ReasonRemoteError = "RemoteError"
	// ReasonOrganizationChanged: the credentials now resolve to another
	// organization than the one the endpoint lives in (status.organizationID),
	// or cannot reach it; no second endpoint is created elsewhere.
	ReasonOrganizationChanged = "OrganizationChanged"
	// ReasonRecreateLimitReached: the endpoint was deleted outside
	// Kubernetes and re-created too often within an hour; the operator waits
	// for a person before creating it again.
	ReasonRecreateLimitReached = "RecreateLimitReached"
)
