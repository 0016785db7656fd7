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

package krosaisim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// TestAdminBothWays runs one script against the in-process Admin and the
// AdminClient of the same served simulator: a test written against Admin
// must not care which one it has.
func TestAdminBothWays(t *testing.T) {
	for _, tc := range []struct {
		name  string
		admin func(*krosaisim.Server) krosaisim.Admin
	}{
		{"in-process", func(s *krosaisim.Server) krosaisim.Admin { return s.Admin() }},
		{"client", func(s *krosaisim.Server) krosaisim.Admin { return krosaisim.NewAdminClient(s.URL, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := krosaisim.New(krosaisim.Options{Seed: 42})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := srv.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			id := adminInspects(t, srv, tc.admin(srv))
			adminSteers(t, srv, tc.admin(srv), id)
			adminWatchesDeliveries(t, srv, tc.admin(srv))
		})
	}
}

// adminInspects adds a key, creates an endpoint with it through the API and
// reads it back through admin; it returns the endpoint's id.
func adminInspects(t *testing.T, srv *krosaisim.Server, admin krosaisim.Admin) string {
	ctx := context.Background()
	if err := admin.AddKey(ctx, keyA, orgA); err != nil {
		t.Fatalf("AddKey: %v", err)
	}
	if err := admin.AddKey(ctx, keyA, "acme"); err == nil {
		t.Error("AddKey with an organization that is not a UUID: no error")
	}
	created := postThrough(t, srv.APIURL(), createBody("retell", "from the API"))

	st, err := admin.Stats(ctx)
	if err != nil || st.Count("createEndpoint", http.StatusCreated) != 1 || st.Endpoints != 1 {
		t.Errorf("Stats: %+v %v", st, err)
	}
	byOrg, err := admin.Endpoints(ctx)
	if err != nil || len(byOrg[orgA]) != 1 || byOrg[orgA][0].ID != created {
		t.Errorf("Endpoints: %+v %v", byOrg, err)
	}
	if got, ok, err := admin.Endpoint(ctx, created); err != nil || !ok || got.Name != "from the API" {
		t.Errorf("Endpoint: %+v %v %v", got, ok, err)
	}
	if _, ok, err := admin.Endpoint(ctx, "nope"); err != nil || ok {
		t.Errorf("Endpoint(nope): %v %v", ok, err)
	}
	recs, err := admin.Requests(ctx, 0)
	if err != nil || len(recs) != 1 || recs[0].Operation != "createEndpoint" || recs[0].EndpointID != created {
		t.Errorf("Requests: %+v %v", recs, err)
	}
	return created
}

// adminSteers edits and deletes the endpoint as a dashboard would, changes
// the faults, and resets.
func adminSteers(t *testing.T, srv *krosaisim.Server, admin krosaisim.Admin, created string) {
	ctx := context.Background()

	name := "edited in the dashboard"
	edited, err := admin.UpdateEndpoint(ctx, created, krosaisim.EndpointPatch{Name: &name})
	if err != nil || edited.Name != name {
		t.Errorf("UpdateEndpoint: %+v %v", edited, err)
	}
	_, err = admin.UpdateEndpoint(ctx, "nope", krosaisim.EndpointPatch{Name: &name})
	if !errors.Is(err, krosaisim.ErrNotFound) {
		t.Errorf("UpdateEndpoint(nope): %v, want ErrNotFound", err)
	}

	f, err := admin.Faults(ctx)
	if err != nil || f.PasswordMode != krosaisim.PasswordModeMask {
		t.Errorf("Faults: %+v %v", f, err)
	}
	f.Latency, f.RateLimit, f.Burst = 5*time.Millisecond, 2, 3
	if err := admin.SetFaults(ctx, f); err != nil {
		t.Fatalf("SetFaults: %v", err)
	}
	if got, err := admin.Faults(ctx); err != nil || got != f {
		t.Errorf("Faults after SetFaults: %+v %v, want %+v", got, err, f)
	}
	if err := admin.SetFaults(ctx, krosaisim.Faults{FailRate: 2}); err == nil {
		t.Error("SetFaults with a rate of 2: no error")
	}
	if err := admin.SetFaults(ctx, krosaisim.Faults{}); err != nil {
		t.Fatalf("SetFaults(zero): %v", err)
	}
	if got := srv.Faults(); got.RateLimit != 0 || got.Latency != 0 {
		t.Errorf("SetFaults replaces whole: %+v left", got)
	}

	if err := admin.DeleteEndpoint(ctx, created); err != nil {
		t.Errorf("DeleteEndpoint: %v", err)
	}
	if err := admin.DeleteEndpoint(ctx, created); !errors.Is(err, krosaisim.ErrNotFound) {
		t.Errorf("DeleteEndpoint again: %v, want ErrNotFound", err)
	}
	postThrough(t, srv.APIURL(), createBody("retell", "dropped by Reset"))
	if err := admin.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if st := srv.Stats(); st.Requests != 0 || st.Endpoints != 0 {
		t.Errorf("after Reset: %+v", st)
	}
}

// adminWatchesDeliveries sets the event knobs, has an event delivered
// twice, and reads its deliveries back.
func adminWatchesDeliveries(t *testing.T, srv *krosaisim.Server, admin krosaisim.Admin) {
	ctx := context.Background()
	rc := newReceiver(t, false, 0)
	if err := admin.SetEvents(ctx, krosaisim.Events{DuplicateRate: 1}); err != nil {
		t.Fatalf("SetEvents: %v", err)
	}
	if ev, err := admin.Events(ctx); err != nil || ev != (krosaisim.Events{DuplicateRate: 1}) {
		t.Errorf("Events: %+v %v", ev, err)
	}
	if err := admin.SetEvents(ctx, krosaisim.Events{DropRate: -1}); err == nil {
		t.Error("SetEvents with a rate of -1: no error")
	}
	hook := postThrough(t, srv.APIURL(), map[string]any{"name": "hook", "type": "webhook", "url": rc.URL})
	settle(t, srv.Simulator)

	st, err := admin.DeliveryStats(ctx)
	if err != nil || st.Events != 1 || st.Sent != 2 || st.Duplicated != 1 {
		t.Errorf("DeliveryStats: %+v %v", st, err)
	}
	recs, err := admin.Deliveries(ctx, 1)
	if err != nil || len(recs) != 1 || !recs[0].Duplicate || recs[0].WebhookID != hook || recs[0].URL != rc.URL {
		t.Errorf("Deliveries: %+v %v", recs, err)
	}
	if err := admin.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if recs, err := admin.Deliveries(ctx, 0); err != nil || len(recs) != 0 {
		t.Errorf("Deliveries after Reset: %+v %v", recs, err)
	}
}

// postThrough creates an endpoint through the API with keyA and returns its id.
func postThrough(t *testing.T, apiURL string, body map[string]any) string {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, apiURL+"/endpoints", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+keyA)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var created endpoint
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create through the API: %d %+v %v", resp.StatusCode, created, err)
	}
	return created.ID
}

func TestAdminClientReportsFailures(t *testing.T) {
	c := krosaisim.NewAdminClient("http://127.0.0.1:1", nil) // nothing listens on port 1
	if _, err := c.Stats(context.Background()); err == nil {
		t.Error("Stats from nowhere: no error")
	}
	srv := newServer(t)
	c = krosaisim.NewAdminClient(srv.URL+"/", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Faults(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Faults with a canceled context: %v", err)
	}
	if err := c.AddKey(context.Background(), "", ""); err == nil {
		t.Error("AddKey of an empty key: no error")
	}
}

func TestServerKeepsItsStateFile(t *testing.T) {
	state := t.TempDir() + "/state.json"
	first, err := krosaisim.New(krosaisim.Options{Keys: []krosaisim.APIKey{{Key: keyA, Org: orgA}}, StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	id := postThrough(t, first.APIURL(), createBody("retell", "kept"))
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	second, err := krosaisim.New(krosaisim.Options{Keys: []krosaisim.APIKey{{Key: keyA, Org: orgA}}, StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Close() })
	if e, ok := second.Endpoint(id); !ok || e.Name != "kept" {
		t.Errorf("after a restart: %+v %v", e, ok)
	}
	if _, err := krosaisim.New(krosaisim.Options{Addr: "127.0.0.1:-1"}); err == nil {
		t.Error("New on a bad address: no error")
	}
}

// newServer is a served simulator with keyA in orgA, closed when the test ends.
func newServer(t *testing.T) *krosaisim.Server {
	t.Helper()
	srv, err := krosaisim.New(krosaisim.Options{Keys: []krosaisim.APIKey{{Key: keyA, Org: orgA}}, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// TestSharedKeyLoad steers the other system sharing the keys through the
// admin API: it spends the key's budget at its rate, its 429s are counted
// apart from the API's stats, and a Reset forgets them.
func TestSharedKeyLoad(t *testing.T) {
	srv := newServer(t)
	admin := krosaisim.NewAdminClient(srv.URL, nil)
	ctx := t.Context()
	if err := admin.SetFaults(ctx, krosaisim.Faults{RateLimit: 1, Burst: 1, SharedKeyLoad: 20}); err != nil {
		t.Fatal(err)
	}
	if f, err := admin.Faults(ctx); err != nil || f.SharedKeyLoad != 20 {
		t.Fatalf("faults %+v, %v: want sharedKeyLoad 20", f, err)
	}
	postThrough(t, srv.APIURL(), map[string]any{"name": "first", "type": "webhook", "url": "https://example.com/a"})
	time.Sleep(500 * time.Millisecond)
	st, err := admin.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 20 req/s for half a second against 1 req/s: about 10 sent, all but
	// one or two refused. Generous bounds: the test machine may be slow.
	if st.SharedKeySent < 5 || st.SharedKeySent > 40 || st.SharedKeyRefused < st.SharedKeySent-3 || st.Requests != 1 {
		t.Errorf("stats %+v: want ~10 shared requests, nearly all refused, apart from the 1 API request", st)
	}
	if err := admin.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := admin.Stats(ctx); err != nil || st.SharedKeySent != 0 || st.SharedKeyRefused != 0 {
		t.Errorf("stats after reset %+v, %v: want the shared counts at 0", st, err)
	}
}
