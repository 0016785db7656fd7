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
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

const (
	keyA = "kros_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	keyB = "kros_test_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	orgA = "11111111-1111-4111-8111-111111111111"
	orgB = "22222222-2222-4222-8222-222222222222"
)

// endpointsPath is where the API serves endpoints.
const endpointsPath = "/v1/endpoints"

// codeValidation is the code of every 400.
const codeValidation = "VALIDATION_ERROR"

// Header sets for env.request.
func noKey() map[string]string           { return map[string]string{"Authorization": ""} }
func asKey(key string) map[string]string { return map[string]string{"Authorization": "Bearer " + key} }
func viaAPIKeyHeader(key string) map[string]string {
	return map[string]string{"Authorization": "", "x-api-key": key}
}
func inOrg(org string) map[string]string { return map[string]string{"x-organization-id": org} }

// validConfigs is a complete provider_config per endpoint type, and validURL
// the url a create gives where one is required.
var (
	validConfigs = map[string]map[string]any{
		"webhook":    nil,
		"vapi":       {"assistant_id": "asst_1", "credential_id": "cred_1"},
		"retell":     {"agent_id": "agent_1"},
		"elevenlabs": {"elevenlabs_agent_id": "el_1"},
		"livekit":    {"livekit_sip_trunk_id": "trunk_1", "livekit_sip_uri": "sip:abcd.sip.livekit.cloud"},
		"vogent":     {"vogent_sip_prefix": "pre", "vogent_sip_username": "user", "vogent_sip_password": "vogent-secret-pw"},
		"custom_sip": {"sip_uri": "sip:pbx@example.com", "username": "u", "password": "custom-secret-pw"},
	}
	validURL = map[string]string{
		"webhook":    "https://example.com/hook",
		"custom_sip": "sip:pbx@example.com",
	}
)

// createBody is a valid create request for an endpoint of type t.
func createBody(t, name string) map[string]any {
	body := map[string]any{"name": name, "type": t}
	if cfg := validConfigs[t]; cfg != nil {
		body["provider_config"] = maps.Clone(cfg)
	}
	if u := validURL[t]; u != "" {
		body["url"] = u
	}
	return body
}

// env is a Simulator behind an httptest.Server, with keyA in orgA and orgB
// and keyB in orgB.
type env struct {
	t   testing.TB
	sim *krosaisim.Simulator
	srv *httptest.Server
}

func newEnv(t testing.TB, opts krosaisim.Options) *env {
	t.Helper()
	if opts.Keys == nil {
		opts.Keys = []krosaisim.APIKey{{Key: keyA, Org: orgA}, {Key: keyA, Org: orgB}, {Key: keyB, Org: orgB}}
	}
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	sim, err := krosaisim.NewSimulator(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e := envFor(t, sim)
	t.Cleanup(func() { // before the server's Close, which waits for held requests
		if err := sim.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// envFor serves sim until the test ends; closing sim is the caller's business.
func envFor(t testing.TB, sim *krosaisim.Simulator) *env {
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, sim: sim, srv: srv}
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is the vendor's error body.
type errorBody struct {
	Error      string         `json:"error"`
	Code       string         `json:"code"`
	Details    map[string]any `json:"details"`
	RetryAfter float64        `json:"retry_after"`
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) error(t testing.TB) errorBody {
	t.Helper()
	var e errorBody
	r.decode(t, &e)
	return e
}

// endpoint is an endpoint as the API returns it.
type endpoint struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Type           string         `json:"type"`
	URL            string         `json:"url"`
	Status         string         `json:"status"`
	ProviderConfig map[string]any `json:"provider_config"`
	OrganizationID string         `json:"organization_id"`
	Secret         string         `json:"secret"`
	CreatedAt      string         `json:"created_at"`
	UpdatedAt      string         `json:"updated_at"`
}

// request sends an API request with keyA unless headers say otherwise
// ("Authorization": "" sends no key), failing the test if it gets no answer.
func (e *env) request(method, path string, body any, headers map[string]string) response {
	e.t.Helper()
	r, err := e.send(method, path, body, headers)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// send is request for goroutines, where a test must not stop.
func (e *env) send(method, path string, body any, headers map[string]string) (response, error) {
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		reader = bytes.NewReader(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, reader)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+keyA)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: data}, err
}

// create creates an endpoint with keyA in its default organization.
func (e *env) create(body map[string]any) endpoint {
	e.t.Helper()
	r := e.request(http.MethodPost, endpointsPath, body, nil)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create %v: %d %s", body, r.status, r.body)
	}
	var ep endpoint
	r.decode(e.t, &ep)
	return ep
}

// listArray lists keyA's default organization in the array shape.
func (e *env) listArray() []endpoint {
	e.t.Helper()
	r := e.request(http.MethodGet, endpointsPath, nil, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("list: %d %s", r.status, r.body)
	}
	var eps []endpoint
	r.decode(e.t, &eps)
	return eps
}

func wantStatus(t testing.TB, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}
