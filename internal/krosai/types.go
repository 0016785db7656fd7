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

package krosai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The endpoint types of the API's `type` enum.
const (
	TypeWebhook    = "webhook"
	TypeVapi       = "vapi"
	TypeRetell     = "retell"
	TypeLiveKit    = "livekit"
	TypeElevenLabs = "elevenlabs"
	TypeVogent     = "vogent"
	TypeCustomSIP  = "custom_sip"
)

// The endpoint states of the API's `status` enum. PATCH may set only
// StatusActive and StatusInactive.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
	StatusError    = "error"
)

// Endpoint is an endpoint as the API returns it.
type Endpoint struct {
	// ID is opaque: the OpenAPI says UUID, the vendor's examples use ep_abc123.
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	// URL is the webhook or SIP URL given at creation, or the SIP URI the API
	// generated for an AI provider.
	URL            string         `json:"url"`
	Status         string         `json:"status"`
	ProviderConfig ProviderConfig `json:"provider_config,omitzero"`
	OrganizationID string         `json:"organization_id"`
	CreatedAt      time.Time      `json:"created_at,omitzero"`
	UpdatedAt      time.Time      `json:"updated_at,omitzero"`
	// Secret is a webhook endpoint's signing secret (whsec_...). The vendor
	// documents it in prose only, and not whether GET returns it again.
	Secret string `json:"secret,omitempty"`
}

// UnmarshalJSON decodes an endpoint, moving the narrative's ElevenLabs agent_id
// to elevenlabs_agent_id, and rejects one whose id checkID refuses.
func (e *Endpoint) UnmarshalJSON(b []byte) error {
	type plain Endpoint // plain has no methods, so this does not recurse.
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if err := checkID(p.ID); err != nil {
		return err
	}
	pc := &p.ProviderConfig
	if p.Type == TypeElevenLabs && pc.ElevenLabsAgentID == "" {
		pc.ElevenLabsAgentID, pc.AgentID = pc.AgentID, ""
	}
	*e = Endpoint(p)
	return nil
}

// maxIDLength is the most status.id holds.
const maxIDLength = 255

// checkID refuses an id that no caller could address or record: empty, a
// path step, longer than status.id holds, or holding a space, a control or
// format character, or bytes that were not UTF-8. Such an id is a malformed
// answer, like a missing one: it would otherwise be written to the resource's
// annotation and status, logged, and sent back in a path. The id itself is
// not quoted: it is what cannot be trusted.
func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("endpoint has no id")
	case id == "." || id == "..":
		return errors.New("endpoint id names a path")
	case len(id) > maxIDLength:
		return fmt.Errorf("endpoint id is longer than %d bytes", maxIDLength)
	case !utf8.ValidString(id) || strings.ContainsRune(id, utf8.RuneError):
		// encoding/json has already turned invalid bytes into U+FFFD.
		return errors.New("endpoint id is not valid UTF-8")
	case strings.ContainsFunc(id, func(r rune) bool { return r == ' ' || !unicode.IsPrint(r) }):
		return errors.New("endpoint id holds a space or a character that is not printable")
	}
	return nil
}

// ProviderConfig is the union of the provider configurations of the API's
// ProviderConfig oneOf, flattened: each endpoint type sets only its own fields.
type ProviderConfig struct {
	// vapi
	AssistantID       string `json:"assistant_id,omitempty"`
	CredentialID      string `json:"credential_id,omitempty"`
	VapiPhoneNumberID string `json:"vapi_phone_number_id,omitempty"`
	// retell
	AgentID           string `json:"agent_id,omitempty"`
	RetellPhoneNumber string `json:"retell_phone_number,omitempty"`
	// elevenlabs
	ElevenLabsAgentID string `json:"elevenlabs_agent_id,omitempty"`
	// livekit
	LiveKitAgentName  string `json:"livekit_agent_name,omitempty"`
	LiveKitSIPTrunkID string `json:"livekit_sip_trunk_id,omitempty"`
	LiveKitSIPURI     string `json:"livekit_sip_uri,omitempty"`
	// vogent
	VogentAgentID     string `json:"vogent_agent_id,omitempty"`
	VogentSIPPrefix   string `json:"vogent_sip_prefix,omitempty"`
	VogentSIPUsername string `json:"vogent_sip_username,omitempty"`
	VogentSIPPassword string `json:"vogent_sip_password,omitempty"`
	// custom_sip
	SIPURI   string `json:"sip_uri,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// secrets returns the values that must never appear in an error string.
func (p *ProviderConfig) secrets() []string {
	if p == nil {
		return nil
	}
	return []string{p.VogentSIPPassword, p.Password}
}

// EndpointCreate is the body of createEndpoint.
type EndpointCreate struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// URL is required for webhook and custom_sip endpoints.
	URL            string          `json:"url,omitempty"`
	ProviderConfig *ProviderConfig `json:"provider_config,omitempty"`
	// PhoneNumberID attaches a phone number at creation.
	PhoneNumberID string `json:"phone_number_id,omitempty"`
}

// EndpointUpdate is the body of updateEndpoint. Only the non-nil fields are
// sent, so a caller sends what differs and nothing else.
type EndpointUpdate struct {
	Name *string `json:"name,omitempty"`
	URL  *string `json:"url,omitempty"`
	// Status may be StatusActive or StatusInactive.
	Status         *string         `json:"status,omitempty"`
	ProviderConfig *ProviderConfig `json:"provider_config,omitempty"`
}

// listPage is one response of listEndpoints, in either of its two shapes.
type listPage struct {
	items []Endpoint
	// total is the API's count of all endpoints; -1 for a bare array, which
	// carries no count.
	total int
}

// UnmarshalJSON accepts the OpenAPI's bare array and the narrative's
// {"endpoints": [...], "total": N}.
func (p *listPage) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '[':
		p.total = -1
		return json.Unmarshal(b, &p.items)
	case len(b) > 0 && b[0] == '{':
		var w struct {
			Endpoints []Endpoint `json:"endpoints"`
			Total     *int       `json:"total"`
		}
		if err := json.Unmarshal(b, &w); err != nil {
			return err
		}
		if w.Endpoints == nil {
			// Reading {} or {"error": ...} as "no endpoints" would make a
			// caller recovering by listing create a duplicate.
			return errors.New("endpoint list object has no endpoints array")
		}
		p.items, p.total = w.Endpoints, -1
		if w.Total != nil {
			if *w.Total < 0 {
				return fmt.Errorf("negative total %d", *w.Total)
			}
			p.total = *w.Total
		}
		return nil
	}
	return errors.New("endpoint list is neither an array nor an object")
}

// apiError is the API's error body. Its `details` are not decoded: they may
// echo request values, passwords included.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	// RetryAfter comes with a 429, in seconds; documented in prose only.
	RetryAfter float64 `json:"retry_after"`
}
