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
	"strings"
	"unicode/utf8"

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

// fieldDiff is one field where the observed endpoint differs from the
// desired one: a line of status.drift and a part of the PATCH that corrects
// it, from the one comparison below.
type fieldDiff struct {
	apiField, specField string
	// observed and desired are empty for write-only fields.
	observed, desired string
	writeOnly         bool
}

// providerField maps one field of the API's provider_config to the spec.
type providerField struct {
	typ       cockpitv1alpha1.EndpointType
	api, spec string
	value     func(*krosai.ProviderConfig) string
	// writeOnly fields (SIP credentials) come from Secrets and are never
	// read back: the API may omit, mask or echo them.
	writeOnly bool
}

// providerFields is the whole correspondence between provider_config and
// the spec's provider blocks.
var providerFields = []providerField{
	{cockpitv1alpha1.EndpointTypeVapi, "assistant_id", "spec.vapi.assistantID",
		func(p *krosai.ProviderConfig) string { return p.AssistantID }, false},
	{cockpitv1alpha1.EndpointTypeVapi, "credential_id", "spec.vapi.credentialID",
		func(p *krosai.ProviderConfig) string { return p.CredentialID }, false},
	{cockpitv1alpha1.EndpointTypeVapi, "vapi_phone_number_id", "spec.vapi.phoneNumberID",
		func(p *krosai.ProviderConfig) string { return p.VapiPhoneNumberID }, false},
	{cockpitv1alpha1.EndpointTypeRetell, "agent_id", "spec.retell.agentID",
		func(p *krosai.ProviderConfig) string { return p.AgentID }, false},
	{cockpitv1alpha1.EndpointTypeRetell, "retell_phone_number", "spec.retell.phoneNumber",
		func(p *krosai.ProviderConfig) string { return p.RetellPhoneNumber }, false},
	{cockpitv1alpha1.EndpointTypeElevenLabs, "elevenlabs_agent_id", "spec.elevenLabs.agentID",
		func(p *krosai.ProviderConfig) string { return p.ElevenLabsAgentID }, false},
	{cockpitv1alpha1.EndpointTypeLiveKit, "livekit_agent_name", "spec.liveKit.agentName",
		func(p *krosai.ProviderConfig) string { return p.LiveKitAgentName }, false},
	{cockpitv1alpha1.EndpointTypeLiveKit, "livekit_sip_trunk_id", "spec.liveKit.sipTrunkID",
		func(p *krosai.ProviderConfig) string { return p.LiveKitSIPTrunkID }, false},
	{cockpitv1alpha1.EndpointTypeLiveKit, "livekit_sip_uri", "spec.liveKit.sipURI",
		func(p *krosai.ProviderConfig) string { return p.LiveKitSIPURI }, false},
	{cockpitv1alpha1.EndpointTypeVogent, "vogent_agent_id", "spec.vogent.agentID",
		func(p *krosai.ProviderConfig) string { return p.VogentAgentID }, false},
	{cockpitv1alpha1.EndpointTypeVogent, "vogent_sip_prefix", "spec.vogent.sipPrefix",
		func(p *krosai.ProviderConfig) string { return p.VogentSIPPrefix }, false},
	{cockpitv1alpha1.EndpointTypeVogent, "vogent_sip_username", "spec.vogent.credentialsSecretRef (username)",
		func(p *krosai.ProviderConfig) string { return p.VogentSIPUsername }, true},
	{cockpitv1alpha1.EndpointTypeVogent, "vogent_sip_password", "spec.vogent.credentialsSecretRef (password)",
		func(p *krosai.ProviderConfig) string { return p.VogentSIPPassword }, true},
	{cockpitv1alpha1.EndpointTypeCustomSIP, "sip_uri", "spec.customSIP.sipURI",
		func(p *krosai.ProviderConfig) string { return p.SIPURI }, false},
	{cockpitv1alpha1.EndpointTypeCustomSIP, "username", "spec.customSIP.credentialsSecretRef (username)",
		func(p *krosai.ProviderConfig) string { return p.Username }, true},
	{cockpitv1alpha1.EndpointTypeCustomSIP, "password", "spec.customSIP.credentialsSecretRef (password)",
		func(p *krosai.ProviderConfig) string { return p.Password }, true},
}

// diffFields compares the endpoint the spec asks for with the one observed,
// field by field. SIP credentials cannot be read back: unless the operator
// knows the credentials it pushed are current (credentialsKnown), they are
// listed as write-only, without values. An endpoint in state error keeps its
// status: no document says what causes it or whether a PATCH clears it.
func diffFields(ep *cockpitv1alpha1.KrosEndpoint, desired krosai.EndpointCreate, wantStatus string,
	observed *krosai.Endpoint, credentialsKnown bool) []fieldDiff {
	var out []fieldDiff
	compare := func(api, spec, got, want string) {
		if got != want {
			out = append(out, fieldDiff{apiField: api, specField: spec, observed: got, desired: want})
		}
	}
	compare("name", "spec.displayName", observed.Name, desired.Name)
	// For AI providers the API generates the URL; only webhook and custom
	// SIP URLs are ours to set.
	if desired.URL != "" {
		field := "spec.webhook.url"
		if ep.Spec.Type == cockpitv1alpha1.EndpointTypeCustomSIP {
			field = "spec.customSIP.sipURI"
		}
		compare("url", field, observed.URL, desired.URL)
	}
	if observed.Status != krosai.StatusError {
		compare("status", "spec.enabled", observed.Status, wantStatus)
	}
	if desired.ProviderConfig == nil {
		return out
	}
	for _, f := range providerFields {
		switch {
		case f.typ != ep.Spec.Type:
		case !f.writeOnly:
			compare("provider_config."+f.api, f.spec, f.value(&observed.ProviderConfig), f.value(desired.ProviderConfig))
		case !credentialsKnown && hasSIPCredentials(ep):
			out = append(out, fieldDiff{apiField: "provider_config." + f.api, specField: f.spec, writeOnly: true})
		}
	}
	return out
}

// hasSIPCredentials reports a spec whose SIP credentials come from a Secret.
func hasSIPCredentials(ep *cockpitv1alpha1.KrosEndpoint) bool {
	return ep.Spec.Vogent != nil || (ep.Spec.CustomSIP != nil && ep.Spec.CustomSIP.CredentialsSecretRef != nil)
}

// patchFor is the PATCH that corrects diffs, or nil when there are none: at
// rest, nothing is written. The provider config is sent whole, since the
// API replaces it whole.
func patchFor(desired krosai.EndpointCreate, wantStatus string, diffs []fieldDiff) *krosai.EndpointUpdate {
	if len(diffs) == 0 {
		return nil
	}
	var update krosai.EndpointUpdate
	for _, d := range diffs {
		switch d.apiField {
		case "name":
			update.Name = &desired.Name
		case "url":
			update.URL = &desired.URL
		case "status":
			update.Status = &wantStatus
		default:
			update.ProviderConfig = desired.ProviderConfig
		}
	}
	return &update
}

// fieldNames names the fields of diffs, never their values.
func fieldNames(diffs []fieldDiff) string {
	names := make([]string, 0, len(diffs))
	for _, d := range diffs {
		names = append(names, d.apiField)
	}
	return strings.Join(names, ", ")
}

// driftOf is diffs as status reports them.
func driftOf(diffs []fieldDiff) []cockpitv1alpha1.FieldDrift {
	if len(diffs) == 0 {
		return nil
	}
	out := make([]cockpitv1alpha1.FieldDrift, 0, len(diffs))
	for _, d := range diffs {
		out = append(out, cockpitv1alpha1.FieldDrift{Field: d.apiField, SpecField: d.specField,
			Observed: truncate(d.observed, 2048), Desired: truncate(d.desired, 2048), WriteOnly: d.writeOnly})
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
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
