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
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// passwordFields are the provider_config fields holding SIP passwords.
var passwordFields = []string{"password", "vogent_sip_password"}

// publicConfig is cfg as the API returns it in the default password mode:
// passwords masked.
func publicConfig(cfg map[string]any) map[string]any {
	if cfg == nil {
		return nil
	}
	out := maps.Clone(cfg)
	for _, field := range passwordFields {
		if _, stored := out[field]; stored {
			out[field] = krosaisim.PasswordMask
		}
	}
	return out
}

func TestEndpointLifecycleForEveryType(t *testing.T) {
	for _, typ := range slices.Sorted(maps.Keys(validConfigs)) {
		t.Run(typ, func(t *testing.T) {
			e := newEnv(t, krosaisim.Options{})
			created := e.create(createBody(typ, "my "+typ))

			id := created.ID
			if !uuidRE.MatchString(id) {
				t.Errorf("id %q is not a UUID", id)
			}
			wantURL := validURL[typ]
			if wantURL == "" {
				wantURL = "sip:" + id + "@sip.krosai.com"
			}
			want := endpoint{
				ID: id, Name: "my " + typ, Type: typ, URL: wantURL, Status: "active",
				ProviderConfig: publicConfig(validConfigs[typ]), OrganizationID: orgA,
				Secret: created.Secret, CreatedAt: created.CreatedAt, UpdatedAt: created.UpdatedAt,
			}
			if !reflect.DeepEqual(created, want) {
				t.Errorf("created %+v\nwant    %+v", created, want)
			}
			secret := created.Secret
			if (typ == "webhook") != strings.HasPrefix(secret, "whsec_") {
				t.Errorf("secret %q for a %s endpoint", secret, typ)
			}
			createdAt, err := time.Parse(time.RFC3339, created.CreatedAt)
			if err != nil || time.Since(createdAt) > time.Minute || created.UpdatedAt != created.CreatedAt {
				t.Errorf("created_at %q updated_at %q", created.CreatedAt, created.UpdatedAt)
			}

			r := e.request(http.MethodGet, endpointsPath+"/"+id, nil, nil)
			wantStatus(t, r, 200)
			var got endpoint
			r.decode(t, &got)
			if !reflect.DeepEqual(got, created) {
				t.Errorf("get %v\nwant %v", got, created)
			}
			if list := e.listArray(); len(list) != 1 || !reflect.DeepEqual(list[0], created) {
				t.Errorf("list %v", list)
			}

			time.Sleep(2 * time.Millisecond) // updated_at has millisecond precision
			patch := map[string]any{"name": "renamed", "status": "inactive"}
			if cfg := validConfigs[typ]; cfg != nil {
				newCfg := maps.Clone(cfg)
				for k := range newCfg {
					newCfg[k] = "new-" + k
					if strings.HasSuffix(k, "_uri") {
						newCfg[k] = "sip:new@example.com"
					}
				}
				patch["provider_config"] = newCfg
			}
			r = e.request(http.MethodPatch, endpointsPath+"/"+id, patch, nil)
			wantStatus(t, r, 200)
			var updated endpoint
			r.decode(t, &updated)
			if updated.Name != "renamed" || updated.Status != "inactive" ||
				updated.URL != wantURL || updated.Secret != secret ||
				updated.CreatedAt != created.CreatedAt || updated.UpdatedAt <= created.UpdatedAt {
				t.Errorf("updated %v", updated)
			}
			if cfg, _ := patch["provider_config"].(map[string]any); !reflect.DeepEqual(updated.ProviderConfig, publicConfig(cfg)) {
				t.Errorf("provider_config %v, want %v", updated.ProviderConfig, publicConfig(cfg))
			}

			wantStatus(t, e.request(http.MethodDelete, endpointsPath+"/"+id, nil, nil), 204)
			wantStatus(t, e.request(http.MethodGet, endpointsPath+"/"+id, nil, nil), 404)
			wantStatus(t, e.request(http.MethodDelete, endpointsPath+"/"+id, nil, nil), 404)
			if list := e.listArray(); len(list) != 0 {
				t.Errorf("list after delete %v", list)
			}
		})
	}
}

func TestPatchKeepsWhatItDoesNotName(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	hook := e.create(createBody("webhook", "hook"))
	vapi := e.create(createBody("vapi", "vapi"))

	r := e.request(http.MethodPatch, endpointsPath+"/"+hook.ID, map[string]any{"url": "https://example.com/new"}, nil)
	wantStatus(t, r, 200)
	var got endpoint
	r.decode(t, &got)
	if got.URL != "https://example.com/new" || got.Name != "hook" || got.Status != "active" {
		t.Errorf("webhook after url patch: %v", got)
	}

	// An AI provider's url is the generated SIP URI: a given one is ignored.
	r = e.request(http.MethodPatch, endpointsPath+"/"+vapi.ID, map[string]any{"url": "https://example.com/mine"}, nil)
	wantStatus(t, r, 200)
	r.decode(t, &got)
	if got.URL != vapi.URL || !reflect.DeepEqual(got.ProviderConfig, vapi.ProviderConfig) {
		t.Errorf("vapi after url patch: %v", got)
	}

	// An empty PATCH changes nothing but updated_at.
	r = e.request(http.MethodPatch, endpointsPath+"/"+vapi.ID, nil, nil)
	wantStatus(t, r, 200)
}

func TestPasswordModes(t *testing.T) {
	for _, tc := range []struct {
		mode string
		// returned is what the API answers for a stored password, "" for
		// leaving the field out.
		returned func(stored string) string
	}{
		{"", func(string) string { return krosaisim.PasswordMask }}, // the default
		{krosaisim.PasswordModeMask, func(string) string { return krosaisim.PasswordMask }},
		{krosaisim.PasswordModeOmit, func(string) string { return "" }},
		{krosaisim.PasswordModeEcho, func(stored string) string { return stored }},
	} {
		t.Run("mode "+tc.mode, func(t *testing.T) {
			e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{PasswordMode: tc.mode}})
			vogent := e.create(createBody("vogent", "vogent"))
			custom := e.create(createBody("custom_sip", "pbx"))
			noPassword := createBody("custom_sip", "pbx without password")
			delete(noPassword["provider_config"].(map[string]any), "password")
			bare := e.create(noPassword)
			rotated := maps.Clone(validConfigs["vogent"])
			rotated["vogent_sip_password"] = "rotated-pw"
			var patched endpoint
			r := e.request(http.MethodPatch, endpointsPath+"/"+vogent.ID, map[string]any{"provider_config": rotated}, nil)
			wantStatus(t, r, 200)
			r.decode(t, &patched)
			var got endpoint
			e.request(http.MethodGet, endpointsPath+"/"+custom.ID, nil, nil).decode(t, &got)
			list := e.listArray()

			for _, c := range []struct {
				name          string
				ep            endpoint
				field, stored string
			}{
				{"vogent create", vogent, "vogent_sip_password", "vogent-secret-pw"},
				{"vogent patch", patched, "vogent_sip_password", "rotated-pw"},
				{"vogent in list", list[0], "vogent_sip_password", "rotated-pw"},
				{"custom_sip create", custom, "password", "custom-secret-pw"},
				{"custom_sip get", got, "password", "custom-secret-pw"},
				{"custom_sip in list", list[1], "password", "custom-secret-pw"},
			} {
				value, present := c.ep.ProviderConfig[c.field]
				if want := tc.returned(c.stored); value != want && (want != "" || present) {
					t.Errorf("%s: %s is %v (present %t), want %q", c.name, c.field, value, present, want)
				}
			}
			if _, present := bare.ProviderConfig["password"]; present {
				t.Errorf("a password none was given for appears: %v", bare.ProviderConfig)
			}
			if vogent.ProviderConfig["vogent_sip_username"] != "user" {
				t.Errorf("the username is not returned: %v", vogent.ProviderConfig)
			}

			// The admin view has them whatever the mode: that is how tests
			// check credentials were pushed.
			stored, _ := e.sim.Endpoint(vogent.ID)
			if stored.ProviderConfig["vogent_sip_password"] != "rotated-pw" {
				t.Errorf("stored vogent config %v", stored.ProviderConfig)
			}
			dump := e.request(http.MethodGet, "/_sim/endpoints", nil, nil)
			var groups map[string][]krosaisim.Endpoint
			dump.decode(t, &groups)
			if len(groups[orgA]) != 3 || groups[orgA][1].ProviderConfig["password"] != "custom-secret-pw" {
				t.Errorf("admin dump %s", dump.body)
			}

			// The request log shows a password was sent, not what it was.
			for _, rec := range e.sim.Requests() {
				for _, pw := range []string{"vogent-secret-pw", "custom-secret-pw", "rotated-pw"} {
					if strings.Contains(string(rec.Body), pw) {
						t.Errorf("request log leaks a password: %s", rec.Body)
					}
				}
			}
			patchRecord := e.sim.Requests()[3]
			if !strings.Contains(string(patchRecord.Body), `"vogent_sip_password":"<redacted>"`) {
				t.Errorf("request log body %s", patchRecord.Body)
			}
		})
	}
}

func TestPasswordModeChangesAtRuntime(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	vogent := e.create(createBody("vogent", "vogent"))
	for _, mode := range []string{krosaisim.PasswordModeEcho, krosaisim.PasswordModeOmit, krosaisim.PasswordModeMask} {
		wantStatus(t, e.admin(http.MethodPut, "/_sim/faults", map[string]any{"passwordMode": mode}), 200)
		var got endpoint
		e.request(http.MethodGet, endpointsPath+"/"+vogent.ID, nil, nil).decode(t, &got)
		want := map[string]any{
			krosaisim.PasswordModeEcho: "vogent-secret-pw", krosaisim.PasswordModeOmit: nil, krosaisim.PasswordModeMask: krosaisim.PasswordMask,
		}[mode]
		if got.ProviderConfig["vogent_sip_password"] != want {
			t.Errorf("mode %s: provider_config %v", mode, got.ProviderConfig)
		}
	}
}

func TestListShapes(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	ids := make([]string, 0, 120)
	for i := range 120 {
		typ := []string{"webhook", "vapi", "retell"}[i%3]
		ids = append(ids, e.create(createBody(typ, fmt.Sprintf("ep-%03d", i))).ID)
	}
	for _, id := range ids[:10] {
		wantStatus(t, e.request(http.MethodPatch, endpointsPath+"/"+id, map[string]any{"status": "inactive"}, nil), 200)
	}
	idsOf := func(eps []endpoint) []string {
		out := make([]string, len(eps))
		for i, ep := range eps {
			out[i] = ep.ID
		}
		return out
	}

	t.Run("array: everything, in creation order, query ignored", func(t *testing.T) {
		r := e.request(http.MethodGet, "/v1/endpoints?limit=5&type=vapi", nil, nil)
		wantStatus(t, r, 200)
		var eps []endpoint
		r.decode(t, &eps)
		if got := idsOf(eps); !slices.Equal(got, ids) {
			t.Errorf("got %d ids, want all %d in order", len(got), len(ids))
		}
	})

	if err := e.sim.SetFaults(krosaisim.Faults{ListShape: krosaisim.ListShapeWrapped}); err != nil {
		t.Fatal(err)
	}
	wrapped := func(t *testing.T, query string) ([]string, int) {
		t.Helper()
		r := e.request(http.MethodGet, endpointsPath+query, nil, nil)
		wantStatus(t, r, 200)
		var body struct {
			Endpoints []endpoint `json:"endpoints"`
			Total     *int       `json:"total"`
		}
		r.decode(t, &body)
		if body.Endpoints == nil || body.Total == nil {
			t.Fatalf("not the wrapped shape: %s", r.body)
		}
		return idsOf(body.Endpoints), *body.Total
	}
	for _, tc := range []struct {
		query string
		want  []string
		total int
	}{
		{"", ids[:50], 120},
		{"?limit=7", ids[:7], 120},
		{"?limit=7&offset=113", ids[113:], 120},
		{"?offset=200", []string{}, 120},
		{"?limit=1000", ids[:100], 120},
		{"?type=vapi&limit=3&offset=1", []string{ids[4], ids[7], ids[10]}, 40},
		{"?status=inactive", ids[:10], 10},
		{"?status=inactive&type=retell", []string{ids[2], ids[5], ids[8]}, 3},
		{"?status=error", []string{}, 0},
	} {
		t.Run("wrapped"+tc.query, func(t *testing.T) {
			got, total := wrapped(t, tc.query)
			if !slices.Equal(got, tc.want) || total != tc.total {
				t.Errorf("got %d ids (total %d), want %d (total %d)", len(got), total, len(tc.want), tc.total)
			}
		})
	}
	t.Run("wrapped pages cover everything once", func(t *testing.T) {
		var all []string
		for offset := 0; ; offset += 33 {
			page, _ := wrapped(t, fmt.Sprintf("?limit=33&offset=%d", offset))
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
		}
		if !slices.Equal(all, ids) {
			t.Errorf("paged through %d ids, want %d in order", len(all), len(ids))
		}
	})
	for query, field := range map[string]string{
		"?limit=0": "limit", "?limit=x": "limit", "?offset=-1": "offset", "?type=sms": "type", "?status=gone": "status",
	} {
		t.Run("wrapped"+query, func(t *testing.T) {
			r := e.request(http.MethodGet, endpointsPath+query, nil, nil)
			wantStatus(t, r, 400)
			if got := r.error(t); got.Code != codeValidation || got.Details["field"] != field {
				t.Errorf("error %+v, want field %s", got, field)
			}
		})
	}
}

func TestPrefixedIDs(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{IDFormat: krosaisim.IDFormatPrefixed}})
	ep := e.create(createBody("retell", "prefixed"))
	id := ep.ID
	if !regexp.MustCompile(`^ep_[a-z0-9]{24}$`).MatchString(id) || ep.URL != "sip:"+id+"@sip.krosai.com" {
		t.Fatalf("id %q url %q", id, ep.URL)
	}
	wantStatus(t, e.request(http.MethodGet, endpointsPath+"/"+id, nil, nil), 200)
	wantStatus(t, e.request(http.MethodPatch, endpointsPath+"/"+id, map[string]any{"name": "x"}, nil), 200)
	wantStatus(t, e.request(http.MethodDelete, endpointsPath+"/"+id, nil, nil), 204)
}

func TestOrganizations(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	inA := e.create(createBody("webhook", "in A"))
	r := e.request(http.MethodPost, endpointsPath, createBody("webhook", "in B"), inOrg(orgB))
	wantStatus(t, r, 201)
	var inB endpoint
	r.decode(t, &inB)
	if inA.OrganizationID != orgA || inB.OrganizationID != orgB {
		t.Fatalf("organizations %q and %q", inA.OrganizationID, inB.OrganizationID)
	}

	// keyA sees each in its own organization only; keyB (orgB only) sees inB.
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"keyA default", nil, inA.ID},
		{"keyA orgB", inOrg(orgB), inB.ID},
		{"keyA orgB upper case", inOrg(strings.ToUpper(orgB)), inB.ID},
		{"keyB by x-api-key", viaAPIKeyHeader(keyB), inB.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.request(http.MethodGet, endpointsPath, nil, tc.headers)
			wantStatus(t, r, 200)
			var eps []endpoint
			r.decode(t, &eps)
			if len(eps) != 1 || eps[0].ID != tc.want {
				t.Errorf("list %v, want only %s", eps, tc.want)
			}
		})
	}
	wantStatus(t, e.request(http.MethodGet, endpointsPath+"/"+inB.ID, nil, nil), 404)
	wantStatus(t, e.request(http.MethodGet, endpointsPath+"/"+inB.ID, nil, inOrg(orgB)), 200)
}

func TestKeyWithoutOrganizationGetsAStableOne(t *testing.T) {
	orgOf := func() string {
		e := newEnv(t, krosaisim.Options{Keys: []krosaisim.APIKey{{Key: keyA}}})
		return e.create(createBody("webhook", "x")).OrganizationID
	}
	first, second := orgOf(), orgOf()
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(first) || first != second {
		t.Errorf("organizations %q and %q", first, second)
	}
}

func TestAddKey(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	const keyC = "kros_test_cccccccccccccccccccccccccccccccc"
	wantStatus(t, e.request(http.MethodGet, endpointsPath, nil, asKey(keyC)), 401)
	if err := e.sim.AddKey(keyC, orgB); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddKey(keyC, "not-a-uuid"); err == nil {
		t.Error("AddKey accepted an organization that is not a UUID")
	}
	wantStatus(t, e.request(http.MethodGet, endpointsPath, nil, asKey(keyC)), 200)
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	done := make(chan []string)
	for w := range 4 {
		go func() {
			var ids []string
			defer func() { done <- ids }()
			for i := range 25 {
				r, err := e.send(http.MethodPost, endpointsPath, createBody("vapi", fmt.Sprintf("w%d-%d", w, i)), nil)
				if err != nil || r.status != http.StatusCreated {
					t.Errorf("create: %v %d %s", err, r.status, r.body)
					return
				}
				id := regexp.MustCompile(`"id":"([^"]+)"`).FindStringSubmatch(string(r.body))[1]
				ids = append(ids, id)
				if r, err := e.send(http.MethodGet, endpointsPath+"/"+id, nil, nil); err != nil || r.status != http.StatusOK {
					t.Errorf("get: %v %d %s", err, r.status, r.body)
				}
			}
		}()
	}
	seen := map[string]bool{}
	for range 4 {
		for _, id := range <-done {
			seen[id] = true
		}
	}
	if st := e.sim.Stats(); len(seen) != 100 || st.Endpoints != 100 || st.Count("getEndpoint", 200) != 100 {
		t.Errorf("%d distinct ids, stats %+v", len(seen), st)
	}
}
