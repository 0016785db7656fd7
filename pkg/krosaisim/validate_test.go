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

//nolint:goconst // test fixtures and JSON field names read better as literals
package krosaisim_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// invalidCase is a request the API must refuse, and how.
type invalidCase struct {
	name    string
	method  string
	path    string // "{vapi}" stands for the id of a stored vapi endpoint of orgA, "{other}" for one of keyB's orgB
	body    any
	headers map[string]string
	status  int
	code    string
	field   string // details.field, "" for none
}

// missingFieldCases removes, one at a time, each field a create of each
// type requires.
func missingFieldCases() []invalidCase {
	var cases []invalidCase
	for _, typ := range slices.Sorted(maps.Keys(validConfigs)) {
		if validURL[typ] != "" {
			body := createBody(typ, "no url")
			delete(body, "url")
			cases = append(cases, invalidCase{
				name: typ + " without url", method: http.MethodPost, path: endpointsPath, body: body,
				status: 400, code: codeValidation, field: "url",
			})
		}
		for field := range validConfigs[typ] {
			if field == "credential_id" || field == "username" || field == "password" {
				continue // optional
			}
			body := createBody(typ, "missing "+field)
			delete(body["provider_config"].(map[string]any), field)
			cases = append(cases, invalidCase{
				name: typ + " without " + field, method: http.MethodPost, path: endpointsPath, body: body,
				status: 400, code: codeValidation, field: "provider_config." + field,
			})
		}
		if validConfigs[typ] != nil {
			body := createBody(typ, "no config")
			delete(body, "provider_config")
			cases = append(cases, invalidCase{
				name: typ + " without provider_config", method: http.MethodPost, path: endpointsPath, body: body,
				status: 400, code: codeValidation, field: "provider_config." + requiredFirst[typ],
			})
		}
	}
	return cases
}

// requiredFirst is the first required provider_config field of each type,
// the one reported when the config is missing altogether.
var requiredFirst = map[string]string{
	"vapi": "assistant_id", "retell": "agent_id", "elevenlabs": "elevenlabs_agent_id",
	"livekit": "livekit_sip_trunk_id", "vogent": "vogent_sip_prefix", "custom_sip": "sip_uri",
}

func TestInvalidRequests(t *testing.T) {
	with := func(body map[string]any, key string, value any) map[string]any {
		body = maps.Clone(body)
		body[key] = value
		return body
	}
	without := func(body map[string]any, key string) map[string]any {
		body = maps.Clone(body)
		delete(body, key)
		return body
	}
	webhook := createBody("webhook", "hook")
	cases := append(missingFieldCases(), []invalidCase{
		{name: "unknown type", method: http.MethodPost, path: endpointsPath, body: with(webhook, "type", "sms"),
			status: 400, code: codeValidation, field: "type"},
		{name: "no type", method: http.MethodPost, path: endpointsPath, body: without(webhook, "type"),
			status: 400, code: codeValidation, field: "type"},
		{name: "no name", method: http.MethodPost, path: endpointsPath, body: without(webhook, "name"),
			status: 400, code: codeValidation, field: "name"},
		{name: "name of 101 characters", method: http.MethodPost, path: endpointsPath, body: with(webhook, "name", strings.Repeat("n", 101)),
			status: 400, code: codeValidation, field: "name"},
		{name: "name not a string", method: http.MethodPost, path: endpointsPath, body: with(webhook, "name", 7),
			status: 400, code: codeValidation, field: "name"},
		{name: "url not a URI", method: http.MethodPost, path: endpointsPath, body: with(webhook, "url", "example dot com"),
			status: 400, code: codeValidation, field: "url"},
		{name: "phone_number_id not a UUID", method: http.MethodPost, path: endpointsPath, body: with(webhook, "phone_number_id", "pn_1"),
			status: 400, code: codeValidation, field: "phone_number_id"},
		{name: "malformed JSON", method: http.MethodPost, path: endpointsPath, body: `{"name": "x",`,
			status: 400, code: codeValidation},
		{name: "body not an object", method: http.MethodPost, path: endpointsPath, body: `["webhook"]`,
			status: 400, code: codeValidation},
		{name: "no body", method: http.MethodPost, path: endpointsPath, body: "",
			status: 400, code: codeValidation},
		{name: "no content type", method: http.MethodPost, path: endpointsPath, body: webhook, headers: map[string]string{"Content-Type": ""},
			status: 400, code: codeValidation},
		{name: "PATCH status error", method: http.MethodPatch, path: "/v1/endpoints/{vapi}", body: map[string]any{"status": "error"},
			status: 400, code: codeValidation, field: "status"},
		{name: "PATCH status unknown", method: http.MethodPatch, path: "/v1/endpoints/{vapi}", body: map[string]any{"status": "paused"},
			status: 400, code: codeValidation, field: "status"},
		{name: "PATCH name of 101 characters", method: http.MethodPatch, path: "/v1/endpoints/{vapi}", body: map[string]any{"name": strings.Repeat("n", 101)},
			status: 400, code: codeValidation, field: "name"},
		{name: "PATCH config lacking the type's required field", method: http.MethodPatch, path: "/v1/endpoints/{vapi}",
			body:   map[string]any{"provider_config": map[string]any{"credential_id": "c"}},
			status: 400, code: codeValidation, field: "provider_config.assistant_id"},
		{name: "PATCH config of another type", method: http.MethodPatch, path: "/v1/endpoints/{vapi}",
			body:   map[string]any{"provider_config": validConfigs["retell"]},
			status: 400, code: codeValidation, field: "provider_config.assistant_id"},
		{name: "PATCH malformed JSON", method: http.MethodPatch, path: "/v1/endpoints/{vapi}", body: `{"name":`,
			status: 400, code: codeValidation},
		{name: "wrong key", method: http.MethodGet, path: endpointsPath, headers: asKey("kros_test_nope"),
			status: 401, code: "UNAUTHORIZED"},
		{name: "wrong x-api-key", method: http.MethodGet, path: endpointsPath, headers: viaAPIKeyHeader("kros_test_nope"),
			status: 401, code: "UNAUTHORIZED"},
		{name: "no key", method: http.MethodGet, path: endpointsPath, headers: noKey(),
			status: 401, code: "UNAUTHORIZED"},
		{name: "no key on create", method: http.MethodPost, path: endpointsPath, body: webhook, headers: noKey(),
			status: 401, code: "UNAUTHORIZED"},
		{name: "organization not of the key", method: http.MethodGet, path: endpointsPath, headers: inOrg("33333333-3333-4333-8333-333333333333"),
			status: 403, code: "ORGANIZATION_FORBIDDEN"},
		{name: "organization not a UUID", method: http.MethodGet, path: endpointsPath, headers: inOrg("acme"),
			status: 403, code: "ORGANIZATION_FORBIDDEN"},
		{name: "get other organization's endpoint", method: http.MethodGet, path: "/v1/endpoints/{other}",
			status: 404, code: "ENDPOINT_NOT_FOUND"},
		{name: "patch other organization's endpoint", method: http.MethodPatch, path: "/v1/endpoints/{other}", body: map[string]any{"name": "mine"},
			status: 404, code: "ENDPOINT_NOT_FOUND"},
		{name: "delete other organization's endpoint", method: http.MethodDelete, path: "/v1/endpoints/{other}",
			status: 404, code: "ENDPOINT_NOT_FOUND"},
		{name: "get unknown id", method: http.MethodGet, path: "/v1/endpoints/44444444-4444-4444-8444-444444444444",
			status: 404, code: "ENDPOINT_NOT_FOUND"},
		{name: "get unknown prefixed id", method: http.MethodGet, path: "/v1/endpoints/ep_abc123",
			status: 404, code: "ENDPOINT_NOT_FOUND"},
		{name: "patch unknown id", method: http.MethodPatch, path: "/v1/endpoints/ep_abc123", body: map[string]any{"name": "x"},
			status: 404, code: "ENDPOINT_NOT_FOUND"},
		{name: "delete unknown id", method: http.MethodDelete, path: "/v1/endpoints/ep_abc123",
			status: 404, code: "ENDPOINT_NOT_FOUND"},
		{name: "unknown path", method: http.MethodGet, path: "/v1/phone-numbers",
			status: 404, code: "NOT_FOUND"},
		{name: "unknown method", method: http.MethodPut, path: "/v1/endpoints/{vapi}", body: map[string]any{"name": "x"},
			status: 404, code: "NOT_FOUND"},
	}...)

	e := newEnv(t, krosaisim.Options{})
	vapi := e.create(createBody("vapi", "stored")).ID
	other := e.request(http.MethodPost, endpointsPath, createBody("webhook", "theirs"), asKey(keyB))
	wantStatus(t, other, 201)
	var theirs endpoint
	other.decode(t, &theirs)
	before := e.sim.Endpoints()

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := strings.NewReplacer("{vapi}", vapi, "{other}", theirs.ID).Replace(tc.path)
			r := e.request(tc.method, path, tc.body, tc.headers)
			wantStatus(t, r, tc.status)
			got := r.error(t)
			if got.Code != tc.code || got.Error == "" {
				t.Errorf("error %q code %q, want a message and code %q", got.Error, got.Code, tc.code)
			}
			if field, _ := got.Details["field"].(string); field != tc.field {
				t.Errorf("details.field %q, want %q (body %s)", field, tc.field, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}

	// Nothing refused was stored or changed.
	if got := e.sim.Endpoints(); !jsonEqual(t, got, before) {
		t.Errorf("refused requests changed the store:\n%v\nwant\n%v", got, before)
	}
}

// TestDocumentedErrorBodies pins the bodies the vendor documents word for word.
func TestDocumentedErrorBodies(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	for _, tc := range []struct {
		name, path string
		headers    map[string]string
		want       string
	}{
		{"no key", endpointsPath, noKey(), `{"error":"Invalid or missing API key","code":"UNAUTHORIZED"}`},
		{"unknown endpoint", "/v1/endpoints/ep_abc123", nil, `{"error":"Endpoint not found","code":"ENDPOINT_NOT_FOUND"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.request(http.MethodGet, tc.path, nil, tc.headers)
			if got := strings.TrimSpace(string(r.body)); got != tc.want {
				t.Errorf("body %s, want %s", got, tc.want)
			}
		})
	}
}

func TestNameOfExactly100CharactersIsAccepted(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	name := strings.Repeat("é", 100) // characters, not bytes
	if got := e.create(createBody("webhook", name)).Name; got != name {
		t.Errorf("name %q", got)
	}
}

func TestElevenLabsAcceptsTheNarrativeAgentID(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	body := createBody("elevenlabs", "narrative")
	body["provider_config"] = map[string]any{"agent_id": "el_2"}
	got := e.create(body)
	if got.ProviderConfig["agent_id"] != "el_2" {
		t.Errorf("provider_config %v", got.ProviderConfig)
	}
}

func jsonEqual(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}
