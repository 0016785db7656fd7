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

// Package mapping is the one place that knows how a KrosEndpoint and a
// KrosAI endpoint correspond: the spec mapped to the API's request (Desired),
// the field-level comparison of what the spec asks with what KrosAI holds
// (Diff), the PATCH and the status.drift that comparison makes, and the
// inverse, an endpoint mapped back to a spec (SpecOf). The controller and any
// tool that predicts what the controller does use it, so the prediction is
// the behaviour. It imports the API types and the client's types, nothing of
// controller-runtime.
package mapping

import (
	"strings"
	"unicode/utf8"

	cockpitv1alpha1 "github.com/krosai/kros-operator/api/v1alpha1"
	"github.com/krosai/kros-operator/internal/krosai"
)

// SIPLogin is the SIP username and password read from the Secret a spec's
// credentialsSecretRef names, for the types that have one. ("Credentials"
// are the API key and organization: krosai.Credentials.)
type SIPLogin struct {
	Username, Password string
}

// Desired maps the spec and the SIP login read from its Secret to the
// API's create request: the endpoint as it should be.
func Desired(ep *cockpitv1alpha1.KrosEndpoint, sip SIPLogin) krosai.EndpointCreate {
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
			VogentSIPUsername: sip.Username,
			VogentSIPPassword: sip.Password,
		}
	case spec.CustomSIP != nil:
		req.URL = spec.CustomSIP.SIPURI
		req.ProviderConfig = &krosai.ProviderConfig{SIPURI: spec.CustomSIP.SIPURI, Username: sip.Username, Password: sip.Password}
	}
	return req
}

// DesiredStatus is the remote status the spec asks for.
func DesiredStatus(ep *cockpitv1alpha1.KrosEndpoint) string {
	if ep.Spec.Enabled != nil && !*ep.Spec.Enabled {
		return krosai.StatusInactive
	}
	return krosai.StatusActive
}

// FieldDiff is one field where the remote endpoint, as KrosAI holds it,
// differs from the desired one: a line of status.drift and a part of the PATCH that corrects
// it, from the one comparison below.
type FieldDiff struct {
	// APIField is the API's field, e.g. provider_config.assistant_id;
	// SpecField the spec field that sets it.
	APIField, SpecField string
	// Remote and Desired are empty for write-only fields.
	Remote, Desired string
	WriteOnly       bool
}

// providerField maps one field of the API's provider_config to the spec.
type providerField struct {
	typ       cockpitv1alpha1.EndpointType
	api, spec string
	value     func(*krosai.ProviderConfig) string
	// writeOnly fields (the SIP login) come from Secrets and are never
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

// Diff compares the endpoint the spec asks for with the remote one,
// field by field. A SIP login cannot be read back: unless the operator
// knows the login it pushed is current (sipLoginKnown), it is
// listed as write-only, without values. An endpoint in state error keeps its
// status: no document says what causes it or whether a PATCH clears it.
func Diff(ep *cockpitv1alpha1.KrosEndpoint, desired krosai.EndpointCreate, wantStatus string,
	remote *krosai.Endpoint, sipLoginKnown bool) []FieldDiff {
	var out []FieldDiff
	compare := func(api, spec, got, want string) {
		if got != want {
			out = append(out, FieldDiff{APIField: api, SpecField: spec, Remote: got, Desired: want})
		}
	}
	compare("name", "spec.displayName", remote.Name, desired.Name)
	// For AI providers the API generates the URL; only webhook and custom
	// SIP URLs are ours to set.
	if desired.URL != "" {
		field := "spec.webhook.url"
		if ep.Spec.Type == cockpitv1alpha1.EndpointTypeCustomSIP {
			field = "spec.customSIP.sipURI"
		}
		compare("url", field, remote.URL, desired.URL)
	}
	if remote.Status != krosai.StatusError {
		compare("status", "spec.enabled", remote.Status, wantStatus)
	}
	if desired.ProviderConfig == nil {
		return out
	}
	for _, f := range providerFields {
		switch {
		case f.typ != ep.Spec.Type:
		case !f.writeOnly:
			compare("provider_config."+f.api, f.spec, f.value(&remote.ProviderConfig), f.value(desired.ProviderConfig))
		case HasSIPLogin(ep):
			if !sipLoginKnown {
				out = append(out, FieldDiff{APIField: "provider_config." + f.api, SpecField: f.spec, WriteOnly: true})
			}
		case f.value(&remote.ProviderConfig) != "":
			// The spec asks for no SIP login and KrosAI holds one (its
			// credentialsSecretRef removed, or a login set in the
			// dashboard): the provider config, sent whole, drops it.
			out = append(out, FieldDiff{APIField: "provider_config." + f.api, SpecField: f.spec, WriteOnly: true})
		}
	}
	return out
}

// HasSIPLogin reports a spec whose SIP login comes from a Secret.
func HasSIPLogin(ep *cockpitv1alpha1.KrosEndpoint) bool {
	return ep.Spec.Vogent != nil || (ep.Spec.CustomSIP != nil && ep.Spec.CustomSIP.CredentialsSecretRef != nil)
}

// Patch is the PATCH that corrects diffs, or nil when there are none: at
// rest, nothing is written. The provider config is sent whole, since the
// API replaces it whole.
func Patch(desired krosai.EndpointCreate, wantStatus string, diffs []FieldDiff) *krosai.EndpointUpdate {
	if len(diffs) == 0 {
		return nil
	}
	var update krosai.EndpointUpdate
	for _, d := range diffs {
		switch d.APIField {
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

// WholePatch is the PATCH that corrects diffs found in a reading that may be
// old (the organization's shared list, up to a sync period): it sends every
// field the spec sets, not only those diffs name, so that a field changed at
// KrosAI since that reading is set back in the same call instead of costing
// a GET and a second PATCH. The status is left alone on an endpoint KrosAI
// holds in state error, as Diff leaves it. Nil when diffs are none: at rest
// nothing is sent.
func WholePatch(desired krosai.EndpointCreate, wantStatus string, diffs []FieldDiff, remote *krosai.Endpoint) *krosai.EndpointUpdate {
	update := Patch(desired, wantStatus, diffs)
	if update == nil {
		return nil
	}
	update.Name = &desired.Name
	if desired.URL != "" {
		update.URL = &desired.URL
	}
	if remote.Status != krosai.StatusError {
		update.Status = &wantStatus
	}
	if desired.ProviderConfig != nil {
		update.ProviderConfig = desired.ProviderConfig
	}
	return update
}

// FieldNames names the fields of diffs, never their values.
func FieldNames(diffs []FieldDiff) string {
	names := make([]string, 0, len(diffs))
	for _, d := range diffs {
		names = append(names, d.APIField)
	}
	return strings.Join(names, ", ")
}

// Drift is diffs as status reports them.
func Drift(diffs []FieldDiff) []cockpitv1alpha1.FieldDrift {
	if len(diffs) == 0 {
		return nil
	}
	out := make([]cockpitv1alpha1.FieldDrift, 0, len(diffs))
	for _, d := range diffs {
		out = append(out, cockpitv1alpha1.FieldDrift{Field: d.APIField, SpecField: d.SpecField,
			Observed: truncate(d.Remote, 2048), Desired: truncate(d.Desired, 2048), WriteOnly: d.WriteOnly})
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

// withoutSIPLogin drops the SIP usernames and passwords, which the API
// does not reliably return (it may omit, mask or echo them).
func withoutSIPLogin(pc krosai.ProviderConfig) krosai.ProviderConfig {
	pc.VogentSIPUsername, pc.VogentSIPPassword, pc.Username, pc.Password = "", "", "", ""
	return pc
}

// Readable is what a create request sets that the API returns as
// sent: the url only for the types whose url the caller gives (for AI
// providers the API generates it), the provider config without SIP
// credentials.
type Readable struct {
	Name           string                `json:"name"`
	Type           string                `json:"type"`
	URL            string                `json:"url,omitempty"`
	ProviderConfig krosai.ProviderConfig `json:"provider_config"`
}

// ReadableOfRequest is what of req the API returns as sent.
func ReadableOfRequest(req krosai.EndpointCreate) Readable {
	r := Readable{Name: req.Name, Type: req.Type, URL: req.URL}
	if req.ProviderConfig != nil {
		r.ProviderConfig = withoutSIPLogin(*req.ProviderConfig)
	}
	return r
}

// ReadableOfEndpoint is the same fields of an endpoint the API returned.
func ReadableOfEndpoint(e krosai.Endpoint) Readable {
	r := Readable{Name: e.Name, Type: e.Type, ProviderConfig: withoutSIPLogin(e.ProviderConfig)}
	if e.Type == krosai.TypeWebhook || e.Type == krosai.TypeCustomSIP {
		r.URL = e.URL
	}
	return r
}

// SpecOf is the inverse of Desired: the spec whose request would carry e's
// readable fields (its name, type, URL, status and provider config).
// sipSecret names the Secret to reference for a type whose SIP
// login KrosAI never returns (Vogent always, custom SIP when e carries
// a username); the values themselves cannot be known from e and are not
// written anywhere.
func SpecOf(e krosai.Endpoint, sipSecret string) cockpitv1alpha1.KrosEndpointSpec {
	pc := e.ProviderConfig
	spec := cockpitv1alpha1.KrosEndpointSpec{Type: cockpitv1alpha1.EndpointType(e.Type), DisplayName: e.Name}
	if e.Status == krosai.StatusInactive {
		disabled := false
		spec.Enabled = &disabled
	}
	secret := cockpitv1alpha1.LocalSecretReference{Name: sipSecret}
	switch spec.Type {
	case cockpitv1alpha1.EndpointTypeWebhook:
		spec.Webhook = &cockpitv1alpha1.WebhookConfig{URL: e.URL}
	case cockpitv1alpha1.EndpointTypeVapi:
		spec.Vapi = &cockpitv1alpha1.VapiConfig{AssistantID: pc.AssistantID, CredentialID: pc.CredentialID,
			PhoneNumberID: pc.VapiPhoneNumberID}
	case cockpitv1alpha1.EndpointTypeRetell:
		spec.Retell = &cockpitv1alpha1.RetellConfig{AgentID: pc.AgentID, PhoneNumber: pc.RetellPhoneNumber}
	case cockpitv1alpha1.EndpointTypeElevenLabs:
		spec.ElevenLabs = &cockpitv1alpha1.ElevenLabsConfig{AgentID: pc.ElevenLabsAgentID}
	case cockpitv1alpha1.EndpointTypeLiveKit:
		spec.LiveKit = &cockpitv1alpha1.LiveKitConfig{AgentName: pc.LiveKitAgentName, SIPTrunkID: pc.LiveKitSIPTrunkID,
			SIPURI: pc.LiveKitSIPURI}
	case cockpitv1alpha1.EndpointTypeVogent:
		spec.Vogent = &cockpitv1alpha1.VogentConfig{AgentID: pc.VogentAgentID, SIPPrefix: pc.VogentSIPPrefix,
			CredentialsSecretRef: secret}
	case cockpitv1alpha1.EndpointTypeCustomSIP:
		spec.CustomSIP = &cockpitv1alpha1.CustomSIPConfig{SIPURI: e.URL}
		if pc.Username != "" {
			spec.CustomSIP.CredentialsSecretRef = &secret
		}
	}
	return spec
}
