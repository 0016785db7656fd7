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

package controller

import (
	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
)

// desiredEndpoint maps the spec and the resolved Secret values to the API's
// create request: the endpoint as it should be.
func desiredEndpoint(ep *cockpitv1alpha1.KrosEndpoint, res *resolved) krosai.EndpointCreate {
	req := krosai.EndpointCreate{
		Name:          ep.Spec.DisplayName,
		Type:          string(ep.Spec.Type),
		PhoneNumberID: ep.Spec.PhoneNumberID,
	}
	if req.Name == "" {
		req.Name = ep.Name
	}
	spec := ep.Spec
	switch {
	case spec.Webhook != nil:
		req.URL = spec.Webhook.URL
	case spec.Vapi != nil:
		req.ProviderConfig = &krosai.ProviderConfig{
			AssistantID:       spec.Vapi.AssistantID,
			CredentialID:      spec.Vapi.CredentialID,
			VapiPhoneNumberID: spec.Vapi.PhoneNumberID,
		}
	case spec.Retell != nil:
		req.ProviderConfig = &krosai.ProviderConfig{AgentID: spec.Retell.AgentID, RetellPhoneNumber: spec.Retell.PhoneNumber}
	case spec.ElevenLabs != nil:
		req.ProviderConfig = &krosai.ProviderConfig{ElevenLabsAgentID: spec.ElevenLabs.AgentID}
	case spec.LiveKit != nil:
		req.ProviderConfig = &krosai.ProviderConfig{
			LiveKitAgentName:  spec.LiveKit.AgentName,
			LiveKitSIPTrunkID: spec.LiveKit.SIPTrunkID,
			LiveKitSIPURI:     spec.LiveKit.SIPURI,
		}
	case spec.Vogent != nil:
		req.ProviderConfig = &krosai.ProviderConfig{
			VogentAgentID:     spec.Vogent.AgentID,
			VogentSIPPrefix:   spec.Vogent.SIPPrefix,
			VogentSIPUsername: res.sipUsername,
			VogentSIPPassword: res.sipPassword,
		}
	case spec.CustomSIP != nil:
		req.URL = spec.CustomSIP.SIPURI
		req.ProviderConfig = &krosai.ProviderConfig{SIPURI: spec.CustomSIP.SIPURI, Username: res.sipUsername, Password: res.sipPassword}
	}
	return req
}

// desiredStatus is the remote status the spec asks for.
func desiredStatus(ep *cockpitv1alpha1.KrosEndpoint) string {
	if ep.Spec.Enabled != nil && !*ep.Spec.Enabled {
		return krosai.StatusInactive
	}
	return krosai.StatusActive
}

// diff returns the PATCH that makes observed match desired, or nil when they
// already match: at rest, nothing is written.
//
// SIP usernames and passwords are write-only in the API and cannot be
// compared; credentialsChanged (the Secret's resourceVersion moved since the
// last push) sends them instead. The provider config is sent whole, since the
// API replaces it whole.
func diff(desired krosai.EndpointCreate, wantStatus string, observed *krosai.Endpoint, credentialsChanged bool) *krosai.EndpointUpdate {
	var update krosai.EndpointUpdate
	changed := false
	if desired.Name != observed.Name {
		update.Name, changed = &desired.Name, true
	}
	// For AI providers the API generates the URL; only webhook and custom SIP
	// URLs are ours to set.
	if desired.URL != "" && desired.URL != observed.URL {
		update.URL, changed = &desired.URL, true
	}
	// An endpoint in state error is left to the API: no document says what
	// causes it or whether a PATCH clears it.
	if observed.Status != krosai.StatusError && wantStatus != observed.Status {
		update.Status, changed = &wantStatus, true
	}
	if desired.ProviderConfig != nil && (credentialsChanged || !sameReadableConfig(*desired.ProviderConfig, observed.ProviderConfig)) {
		update.ProviderConfig, changed = desired.ProviderConfig, true
	}
	if !changed {
		return nil
	}
	return &update
}

func sameReadableConfig(a, b krosai.ProviderConfig) bool {
	return withoutSIPCredentials(a) == withoutSIPCredentials(b)
}

// withoutSIPCredentials drops the SIP usernames and passwords, which the API
// does not reliably return (it may omit, mask or echo them).
func withoutSIPCredentials(pc krosai.ProviderConfig) krosai.ProviderConfig {
	pc.VogentSIPUsername, pc.VogentSIPPassword, pc.Username, pc.Password = "", "", "", ""
	return pc
}

// readableEndpoint is what a create request sets that the API returns as
// sent: the url only for the types whose url the caller gives (for AI
// providers the API generates it), the provider config without SIP
// credentials.
type readableEndpoint struct {
	Name           string                `json:"name"`
	Type           string                `json:"type"`
	URL            string                `json:"url,omitempty"`
	ProviderConfig krosai.ProviderConfig `json:"provider_config"`
}

func readableOfRequest(req krosai.EndpointCreate) readableEndpoint {
	r := readableEndpoint{Name: req.Name, Type: req.Type, URL: req.URL}
	if req.ProviderConfig != nil {
		r.ProviderConfig = withoutSIPCredentials(*req.ProviderConfig)
	}
	return r
}

func readableOfEndpoint(e krosai.Endpoint) readableEndpoint {
	r := readableEndpoint{Name: e.Name, Type: e.Type, ProviderConfig: withoutSIPCredentials(e.ProviderConfig)}
	if e.Type == krosai.TypeWebhook || e.Type == krosai.TypeCustomSIP {
		r.URL = e.URL
	}
	return r
}

// credentialsChanged reports whether the SIP credentials must be pushed.
// This process knows what its own writes carried; after a restart, a moved
// resourceVersion of the credentials Secret is the only sign.
func (r *KrosEndpointReconciler) credentialsChanged(ep *cockpitv1alpha1.KrosEndpoint, res *resolved, obs observation) bool {
	if obs.writtenFor == ep.UID {
		return obs.credentials != res.credentialsDigest()
	}
	var name string
	switch {
	case ep.Spec.Vogent != nil:
		name = ep.Spec.Vogent.CredentialsSecretRef.Name
	case ep.Spec.CustomSIP != nil && ep.Spec.CustomSIP.CredentialsSecretRef != nil:
		name = ep.Spec.CustomSIP.CredentialsSecretRef.Name
	default:
		return false
	}
	return resourceVersionOf(ep.Status.SecretResourceVersions, name) != resourceVersionOf(res.versions, name)
}

func resourceVersionOf(versions []cockpitv1alpha1.SecretResourceVersion, name string) string {
	for _, v := range versions {
		if v.Name == name {
			return v.ResourceVersion
		}
	}
	return ""
}
