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
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// TestResponsesFollowTheContract validates the simulator's actual answers,
// every operation on every endpoint type and the error answers, against the
// merged OpenAPI document, as a validating proxy in front of it would.
//
// omit is the one password mode that breaks the contract (VogentConfig
// requires vogent_sip_password): it stays selectable, and the test asserts
// the validator rejects its vogent answers, which also proves the validator
// is really looking at them.
func TestResponsesFollowTheContract(t *testing.T) {
	missingID := "/00000000-0000-4000-8000-000000000000"
	for _, pm := range []struct {
		mode           string
		vogentConforms bool
	}{
		{"", true}, // the default
		{krosaisim.PasswordModeMask, true},
		{krosaisim.PasswordModeEcho, true},
		{krosaisim.PasswordModeOmit, false},
	} {
		for _, shape := range []string{krosaisim.ListShapeArray, krosaisim.ListShapeWrapped} {
			t.Run("passwords "+pm.mode+"/list "+shape, func(t *testing.T) {
				e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{PasswordMode: pm.mode, ListShape: shape}})
				// check validates r, an answer to op; carriesVogent says r
				// holds a vogent endpoint, which omit leaves non-conforming.
				check := func(op string, r response, wantStatus int, carriesVogent bool) {
					t.Helper()
					if r.status != wantStatus {
						t.Errorf("%s: status %d, want %d; body %s", op, r.status, wantStatus, r.body)
						return
					}
					err := krosaisim.ValidateResponse(op, r.status, r.header, r.body)
					switch {
					case carriesVogent && !pm.vogentConforms:
						if err == nil {
							t.Errorf("%s %d: the validator accepted a vogent endpoint without its password: %s", op, r.status, r.body)
						}
					case err != nil:
						t.Errorf("%s %d violates the contract: %v\nbody: %s", op, r.status, err, r.body)
					}
				}

				ids := map[string]string{}
				for _, typ := range slices.Sorted(maps.Keys(validConfigs)) {
					isVogent := typ == "vogent"
					r := e.request(http.MethodPost, endpointsPath, createBody(typ, typ), nil)
					check("createEndpoint", r, http.StatusCreated, isVogent)
					var created endpoint
					r.decode(t, &created)
					ids[typ] = created.ID
					path := endpointsPath + "/" + created.ID
					check("getEndpoint", e.request(http.MethodGet, path, nil, nil), http.StatusOK, isVogent)
					patch := map[string]any{"name": typ + " renamed"}
					if cfg := validConfigs[typ]; cfg != nil {
						patch["provider_config"] = maps.Clone(cfg)
					}
					check("updateEndpoint", e.request(http.MethodPatch, path, patch, nil), http.StatusOK, isVogent)
				}
				check("listEndpoints", e.request(http.MethodGet, endpointsPath, nil, nil), http.StatusOK, true)

				vapi := endpointsPath + "/" + ids["vapi"]
				type errorCase struct {
					op, method, path string
					body             any
					headers          map[string]string
					status           int
				}
				errorCases := []errorCase{
					{"createEndpoint", http.MethodPost, endpointsPath, map[string]any{"type": "webhook"}, nil, http.StatusBadRequest},
					{"updateEndpoint", http.MethodPatch, vapi, map[string]any{"status": "paused"}, nil, http.StatusBadRequest},
					{"listEndpoints", http.MethodGet, endpointsPath, nil, noKey(), http.StatusUnauthorized},
					{"createEndpoint", http.MethodPost, endpointsPath, createBody("webhook", "x"), noKey(), http.StatusUnauthorized},
					{"getEndpoint", http.MethodGet, vapi, nil, noKey(), http.StatusUnauthorized},
					{"updateEndpoint", http.MethodPatch, vapi, map[string]any{"name": "x"}, noKey(), http.StatusUnauthorized},
					{"deleteEndpoint", http.MethodDelete, vapi, nil, noKey(), http.StatusUnauthorized},
					{"listEndpoints", http.MethodGet, endpointsPath, nil, inOrg("44444444-4444-4444-8444-444444444444"), http.StatusForbidden},
					{"getEndpoint", http.MethodGet, endpointsPath + missingID, nil, nil, http.StatusNotFound},
					{"updateEndpoint", http.MethodPatch, endpointsPath + missingID, map[string]any{"name": "x"}, nil, http.StatusNotFound},
					{"deleteEndpoint", http.MethodDelete, endpointsPath + missingID, nil, nil, http.StatusNotFound},
				}
				if shape == krosaisim.ListShapeWrapped { // the array shape takes no paging parameters
					errorCases = append(errorCases, errorCase{"listEndpoints", http.MethodGet, endpointsPath + "?limit=0", nil, nil, http.StatusBadRequest})
				}
				for _, c := range errorCases {
					check(c.op, e.request(c.method, c.path, c.body, c.headers), c.status, false)
				}

				for _, typ := range slices.Sorted(maps.Keys(ids)) {
					check("deleteEndpoint", e.request(http.MethodDelete, endpointsPath+"/"+ids[typ], nil, nil), http.StatusNoContent, false)
				}
				check("listEndpoints", e.request(http.MethodGet, endpointsPath, nil, nil), http.StatusOK, false)

				// One request spends the whole budget; every operation then gets a 429.
				f := e.sim.Faults()
				f.RateLimit, f.Burst = 0.001, 1
				if err := e.sim.SetFaults(f); err != nil {
					t.Fatal(err)
				}
				check("listEndpoints", e.request(http.MethodGet, endpointsPath, nil, nil), http.StatusOK, false)
				check("listEndpoints", e.request(http.MethodGet, endpointsPath, nil, nil), http.StatusTooManyRequests, false)
				check("createEndpoint", e.request(http.MethodPost, endpointsPath, createBody("webhook", "x"), nil), http.StatusTooManyRequests, false)
				check("getEndpoint", e.request(http.MethodGet, vapi, nil, nil), http.StatusTooManyRequests, false)
				check("updateEndpoint", e.request(http.MethodPatch, vapi, map[string]any{"name": "x"}, nil), http.StatusTooManyRequests, false)
				check("deleteEndpoint", e.request(http.MethodDelete, vapi, nil, nil), http.StatusTooManyRequests, false)
			})
		}
	}
}
