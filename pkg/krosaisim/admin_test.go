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
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// admin sends an admin request: no key.
func (e *env) admin(method, path string, body any) response {
	e.t.Helper()
	return e.request(method, path, body, noKey())
}

func TestAdminStats(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	ep := e.create(createBody("webhook", "counted"))
	e.request(http.MethodGet, endpointsPath+"/"+ep.ID, nil, nil)
	e.request(http.MethodGet, "/v1/endpoints/nope", nil, nil)
	e.request(http.MethodGet, endpointsPath, nil, noKey())
	e.request(http.MethodGet, "/v1/elsewhere", nil, nil)

	for range 2 { // admin requests are not counted
		r := e.admin(http.MethodGet, "/_sim/stats", nil)
		wantStatus(t, r, 200)
		want := `{"operations":{"createEndpoint":{"201":1},"getEndpoint":{"200":1,"404":1},"listEndpoints":{"401":1},"unknown":{"404":1}},"endpoints":1,"requests":5}`
		if got := strings.TrimSpace(string(r.body)); got != want {
			t.Errorf("stats %s\nwant  %s", got, want)
		}
	}
	if st := e.sim.Stats(); st.Count("getEndpoint", 404) != 1 || st.Requests != 5 {
		t.Errorf("Stats() %+v", st)
	}
}

func TestAdminOutOfBandChanges(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	ep := e.create(createBody("vapi", "original"))
	id := ep.ID

	r := e.admin(http.MethodPatch, "/_sim/endpoints/"+id, map[string]any{"name": "edited in the dashboard", "status": "error"})
	wantStatus(t, r, 200)
	var stored krosaisim.Endpoint
	r.decode(t, &stored)
	if stored.Name != "edited in the dashboard" || stored.Status != "error" || stored.ProviderConfig["assistant_id"] != "asst_1" {
		t.Errorf("admin patch returned %+v", stored)
	}
	r = e.request(http.MethodGet, endpointsPath+"/"+id, nil, nil)
	var seen endpoint
	r.decode(t, &seen)
	if seen.Name != "edited in the dashboard" || seen.Status != "error" {
		t.Errorf("API shows %v after a dashboard edit", seen)
	}

	wantStatus(t, e.admin(http.MethodPatch, "/_sim/endpoints/"+id, map[string]any{"status": "deleted"}), 400)
	wantStatus(t, e.admin(http.MethodPatch, "/_sim/endpoints/"+id, map[string]any{"title": "not a field"}), 400)
	wantStatus(t, e.admin(http.MethodPatch, "/_sim/endpoints/ep_nope", map[string]any{"name": "x"}), 404)
	wantStatus(t, e.admin(http.MethodDelete, "/_sim/endpoints/"+id, nil), 204)
	wantStatus(t, e.admin(http.MethodDelete, "/_sim/endpoints/"+id, nil), 404)
	wantStatus(t, e.request(http.MethodGet, endpointsPath+"/"+id, nil, nil), 404)

	if st := e.sim.Stats(); st.Requests != 3 {
		t.Errorf("out-of-band changes were counted: %+v", st)
	}
}

func TestAdminReset(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{ListShape: krosaisim.ListShapeWrapped}})
	e.create(createBody("webhook", "dropped by reset"))
	wantStatus(t, e.admin(http.MethodPost, "/_sim/reset", nil), 204)

	if st := e.sim.Stats(); st.Endpoints != 0 || st.Requests != 0 || len(e.sim.Requests()) != 0 {
		t.Errorf("after reset: stats %+v, %d requests logged", st, len(e.sim.Requests()))
	}
	// Keys and faults stay.
	r := e.request(http.MethodGet, endpointsPath, nil, nil)
	wantStatus(t, r, 200)
	if got := strings.TrimSpace(string(r.body)); got != `{"endpoints":[],"total":0}` {
		t.Errorf("list after reset %s", got)
	}
}

func TestAdminFaults(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{Latency: 2 * time.Millisecond}})
	r := e.admin(http.MethodGet, "/_sim/faults", nil)
	wantStatus(t, r, 200)
	want := `{"latency":"2ms","latencyJitter":"0s","failRate":0,"hangRate":0,"commitThenFailRate":0,"rateLimit":0,"burst":0,"dailyLimit":0,"sharedKeyLoad":0,"listShape":"array","idFormat":"uuid","passwordMode":"mask","listFault":"none"}`
	if got := strings.TrimSpace(string(r.body)); got != want {
		t.Errorf("faults %s\nwant   %s", got, want)
	}

	// Fields given change, the others stay.
	r = e.admin(http.MethodPut, "/_sim/faults", map[string]any{"failRate": 1, "latencyJitter": "1ms", "idFormat": "prefixed", "passwordMode": "echo"})
	wantStatus(t, r, 200)
	got := e.sim.Faults()
	if got.FailRate != 1 || got.LatencyJitter != time.Millisecond || got.Latency != 2*time.Millisecond || got.IDFormat != krosaisim.IDFormatPrefixed ||
		got.PasswordMode != krosaisim.PasswordModeEcho {
		t.Errorf("faults after PUT %+v", got)
	}
	wantStatus(t, e.request(http.MethodGet, endpointsPath, nil, nil), 500)

	for _, bad := range []string{`{"latency":"soon"}`, `{"failRate":2}`, `{"fail_rate":1}`, `{"listShape":"paged"}`, `{"passwordMode":"hide"}`, `not json`} {
		if r := e.admin(http.MethodPut, "/_sim/faults", bad); r.status != 400 || r.error(t).Error == "" {
			t.Errorf("PUT %s: %d %s", bad, r.status, r.body)
		}
	}
	if after := e.sim.Faults(); after != got {
		t.Errorf("refused PUTs changed the faults: %+v", after)
	}
}

func TestAdminRequestLog(t *testing.T) {
	e := newEnv(t, krosaisim.Options{RequestLogSize: 3})
	ep := e.create(createBody("vogent", "logged"))
	for i := range 3 {
		patch := map[string]any{"name": "name " + string(rune('a'+i))}
		if i == 2 {
			patch["provider_config"] = validConfigs["vogent"]
		}
		wantStatus(t, e.request(http.MethodPatch, endpointsPath+"/"+ep.ID, patch, inOrg(orgA)), 200)
	}

	r := e.admin(http.MethodGet, "/_sim/requests?limit=1", nil)
	wantStatus(t, r, 200)
	var recs []krosaisim.RequestRecord
	r.decode(t, &recs)
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	rec := recs[0]
	if rec.Operation != "updateEndpoint" || rec.Method != "PATCH" || rec.Path != endpointsPath+"/"+ep.ID ||
		rec.Org != orgA || rec.Status != 200 || time.Since(rec.Time) > time.Minute {
		t.Errorf("record %+v", rec)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body, &body); err != nil {
		t.Fatal(err)
	}
	cfg, _ := body["provider_config"].(map[string]any)
	if body["name"] != "name c" || cfg["vogent_sip_password"] != "<redacted>" || cfg["vogent_sip_username"] != "user" {
		t.Errorf("logged body %s", rec.Body)
	}

	// The log keeps the last RequestLogSize requests, oldest first.
	r = e.admin(http.MethodGet, "/_sim/requests", nil)
	r.decode(t, &recs)
	names := make([]string, 0, len(recs))
	for _, rec := range recs {
		var b map[string]any
		_ = json.Unmarshal(rec.Body, &b)
		names = append(names, b["name"].(string))
	}
	if strings.Join(names, ",") != "name a,name b,name c" {
		t.Errorf("log holds %v", names)
	}
	wantStatus(t, e.admin(http.MethodGet, "/_sim/requests?limit=zero", nil), 400)
}

func TestAdminKeysAndHealth(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	const keyC = "kros_test_cccccccccccccccccccccccccccccccc"
	wantStatus(t, e.admin(http.MethodPost, "/_sim/keys", map[string]any{"key": keyC, "org": orgB}), 204)
	wantStatus(t, e.admin(http.MethodPost, "/_sim/keys", map[string]any{"key": keyC, "org": "acme"}), 400)
	r := e.request(http.MethodPost, endpointsPath, createBody("webhook", "by C"), asKey(keyC))
	wantStatus(t, r, 201)
	var ep endpoint
	r.decode(t, &ep)
	if ep.OrganizationID != orgB {
		t.Errorf("created in %q, want the key's %s", ep.OrganizationID, orgB)
	}

	wantStatus(t, e.admin(http.MethodGet, "/healthz", nil), 200)
	if r := e.admin(http.MethodGet, "/nowhere", nil); r.status != 404 || r.error(t).Code != "NOT_FOUND" {
		t.Errorf("unknown path: %d %s", r.status, r.body)
	}
}
