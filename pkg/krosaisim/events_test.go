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
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// receiver is a webhook endpoint's server: it keeps what it receives and
// answers status (204 if 0), after hold is closed if there is one.
type receiver struct {
	*httptest.Server
	status  int
	hold    chan struct{}
	entered chan struct{} // gets a value as each request arrives, if not nil

	mu  sync.Mutex
	got []received
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t testing.TB, tls bool, status int) *receiver {
	rc := &receiver{status: status}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.Config.ErrorLog = log.New(io.Discard, "", 0) // an untrusted certificate's handshake fails on purpose
	if tls {
		rc.StartTLS()
	} else {
		rc.Start()
	}
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if rc.entered != nil {
		rc.entered <- struct{}{}
	}
	if rc.hold != nil {
		<-rc.hold
	}
	rc.mu.Lock()
	rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
	rc.mu.Unlock()
	if rc.status == http.StatusFound {
		w.Header().Set("Location", "https://hooks.example.com/elsewhere")
	}
	w.WriteHeader(cmp.Or(rc.status, http.StatusNoContent))
}

// received returns what arrived so far, and forgets it.
func (rc *receiver) take() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	got := rc.got
	rc.got = nil
	return got
}

// webhook creates a webhook endpoint in keyA's default organization,
// delivered to rc.
func (e *env) webhook(rc *receiver, name string) endpoint {
	e.t.Helper()
	return e.create(map[string]any{"name": name, "type": "webhook", "url": rc.URL + "/hook"})
}

// settle waits until every delivery so far has had its outcome.
func settle(t testing.TB, sim *krosaisim.Simulator) krosaisim.DeliveryStats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := sim.DeliveryStats()
		if st.Pending == 0 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries still pending: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// payload is an event as delivered.
type payload struct {
	ID             string         `json:"id"`
	Type           string         `json:"type"`
	CreatedAt      string         `json:"created_at"`
	OrganizationID string         `json:"organization_id"`
	Data           map[string]any `json:"data"`
}

// verify checks a delivery's headers and signature against the webhook's
// secret and the payload's shape, and decodes it.
func verify(t testing.TB, got received, secret string) payload {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(got.body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); got.header.Get("X-Webhook-Signature") != want {
		t.Errorf("X-Webhook-Signature %q, want %q", got.header.Get("X-Webhook-Signature"), want)
	}
	if ct, ua := got.header.Get("Content-Type"), got.header.Get("User-Agent"); ct != "application/json" || ua != "krosai-sim" {
		t.Errorf("Content-Type %q, User-Agent %q", ct, ua)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(got.body, &fields); err != nil {
		t.Fatalf("body %s: %v", got.body, err)
	}
	if keys := slices.Sorted(maps.Keys(fields)); !slices.Equal(keys, []string{"created_at", "data", "id", "organization_id", "type"}) {
		t.Errorf("payload fields %v", keys)
	}
	var p payload
	if err := json.Unmarshal(got.body, &p); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339Nano, p.CreatedAt)
	if !strings.HasPrefix(p.ID, "evt_") || err != nil || at.Location() != time.UTC {
		t.Errorf("event id %q, created_at %q (%v)", p.ID, p.CreatedAt, err)
	}
	return p
}

// getJSON is an endpoint as GET returns it, as the event's data is
// compared with it: without the webhook secret, which no event carries.
func (e *env) getJSON(id string) map[string]any {
	e.t.Helper()
	r := e.request(http.MethodGet, endpointsPath+"/"+id, nil, nil)
	wantStatus(e.t, r, http.StatusOK)
	var v map[string]any
	r.decode(e.t, &v)
	delete(v, "secret")
	return v
}

// TestEndpointChangesAreDelivered makes one change per case, through the API
// or out of band, and checks that the webhook of the organization receives
// exactly its event, signed with its secret, carrying the endpoint as GET
// shows it (as it was, for a deletion).
func TestEndpointChangesAreDelivered(t *testing.T) {
	name := "renamed"
	for _, tc := range []struct {
		name   string
		faults krosaisim.Faults
		change func(e *env, id string) string // returns the id the event is about
		want   string
	}{
		{"API create", krosaisim.Faults{}, func(e *env, _ string) string {
			return e.create(createBody("vapi", "new")).ID
		}, krosaisim.EventEndpointCreated},
		{"API update", krosaisim.Faults{}, func(e *env, id string) string {
			wantStatus(e.t, e.request(http.MethodPatch, endpointsPath+"/"+id, map[string]any{"name": name}, nil), 200)
			return id
		}, krosaisim.EventEndpointUpdated},
		{"API delete", krosaisim.Faults{}, func(e *env, id string) string {
			wantStatus(e.t, e.request(http.MethodDelete, endpointsPath+"/"+id, nil, nil), 204)
			return id
		}, krosaisim.EventEndpointDeleted},
		{"API update whose answer is lost", krosaisim.Faults{CommitThenFailRate: 1}, func(e *env, id string) string {
			_, _ = e.send(http.MethodPatch, endpointsPath+"/"+id, map[string]any{"name": name}, nil) // 500 or dropped
			return id
		}, krosaisim.EventEndpointUpdated},
		{"Simulator.UpdateEndpoint", krosaisim.Faults{}, func(e *env, id string) string {
			if _, err := e.sim.UpdateEndpoint(id, krosaisim.EndpointPatch{Name: &name}); err != nil {
				e.t.Fatal(err)
			}
			return id
		}, krosaisim.EventEndpointUpdated},
		{"Simulator.DeleteEndpoint", krosaisim.Faults{}, func(e *env, id string) string {
			if err := e.sim.DeleteEndpoint(id); err != nil {
				e.t.Fatal(err)
			}
			return id
		}, krosaisim.EventEndpointDeleted},
		{"admin PATCH", krosaisim.Faults{}, func(e *env, id string) string {
			wantStatus(e.t, e.admin(http.MethodPatch, "/_sim/endpoints/"+id, map[string]any{"status": "inactive"}), 200)
			return id
		}, krosaisim.EventEndpointUpdated},
		{"admin DELETE", krosaisim.Faults{}, func(e *env, id string) string {
			wantStatus(e.t, e.admin(http.MethodDelete, "/_sim/endpoints/"+id, nil), 204)
			return id
		}, krosaisim.EventEndpointDeleted},
		{"AdminClient.UpdateEndpoint", krosaisim.Faults{}, func(e *env, id string) string {
			if _, err := krosaisim.NewAdminClient(e.srv.URL, nil).UpdateEndpoint(context.Background(), id, krosaisim.EndpointPatch{Name: &name}); err != nil {
				e.t.Fatal(err)
			}
			return id
		}, krosaisim.EventEndpointUpdated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, false, 0)
			e := newEnv(t, krosaisim.Options{})
			hook := e.webhook(rc, "receiver")
			other := e.create(createBody("retell", "watched"))
			settle(t, e.sim)
			rc.take()
			before := e.getJSON(other.ID)
			if err := e.sim.SetFaults(tc.faults); err != nil {
				t.Fatal(err)
			}

			about := tc.change(e, other.ID)
			settle(t, e.sim)
			if err := e.sim.SetFaults(krosaisim.Faults{}); err != nil {
				t.Fatal(err)
			}
			got := rc.take()
			if len(got) != 1 {
				t.Fatalf("received %d deliveries, want 1", len(got))
			}
			p := verify(t, got[0], hook.Secret)
			want := before
			if tc.want != krosaisim.EventEndpointDeleted {
				want = e.getJSON(about)
			}
			if p.Type != tc.want || p.OrganizationID != orgA || !equalJSON(p.Data, want) {
				t.Errorf("event %s about %v, want %s about %v", p.Type, p.Data, tc.want, want)
			}
			recs := e.sim.Deliveries()
			last := recs[len(recs)-1]
			if last.EventID != p.ID || last.EventType != tc.want || last.EndpointID != about || last.WebhookID != hook.ID ||
				last.URL != rc.URL+"/hook" || last.Outcome != krosaisim.DeliveryAnswered || last.Status != http.StatusNoContent {
				t.Errorf("last delivery %+v", last)
			}
		})
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestRefusedRequestsEmitNothing: only a committed change is an event.
func TestRefusedRequestsEmitNothing(t *testing.T) {
	rc := newReceiver(t, false, 0)
	e := newEnv(t, krosaisim.Options{})
	hook := e.webhook(rc, "receiver")
	before := settle(t, e.sim)

	wantStatus(t, e.request(http.MethodPatch, endpointsPath+"/"+hook.ID, map[string]any{"status": "error"}, nil), 400)
	wantStatus(t, e.request(http.MethodDelete, endpointsPath+"/"+hook.ID, nil, asKey(keyB)), 404)
	wantStatus(t, e.request(http.MethodPost, endpointsPath, createBody("webhook", "no key"), noKey()), 401)
	if err := e.sim.SetFaults(krosaisim.Faults{FailRate: 1}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.request(http.MethodDelete, endpointsPath+"/"+hook.ID, nil, nil), 500)
	if _, err := e.sim.UpdateEndpoint("nope", krosaisim.EndpointPatch{}); err == nil {
		t.Error("UpdateEndpoint(nope): no error")
	}

	if after := settle(t, e.sim); after != before {
		t.Errorf("delivery stats moved from %+v to %+v", before, after)
	}
}

func TestAnotherOrganizationsWebhookReceivesNothing(t *testing.T) {
	mine, theirs := newReceiver(t, false, 0), newReceiver(t, false, 0)
	e := newEnv(t, krosaisim.Options{})
	r := e.request(http.MethodPost, endpointsPath, map[string]any{"name": "theirs", "type": "webhook", "url": theirs.URL}, asKey(keyB))
	wantStatus(t, r, http.StatusCreated)
	e.webhook(mine, "mine")
	settle(t, e.sim)
	if got := theirs.take(); len(got) != 1 { // its own creation only
		t.Fatalf("orgB's webhook received %d deliveries, want 1", len(got))
	}

	ep := e.create(createBody("retell", "orgA's"))
	wantStatus(t, e.request(http.MethodDelete, endpointsPath+"/"+ep.ID, nil, nil), 204)
	settle(t, e.sim)
	if got := theirs.take(); len(got) != 0 {
		t.Errorf("orgB's webhook received %d deliveries of orgA's changes", len(got))
	}
	if got := mine.take(); len(got) != 3 {
		t.Errorf("orgA's webhook received %d deliveries, want 3 (itself created, created, deleted)", len(got))
	}
}

func TestOnlyAllowedHostsAreReached(t *testing.T) {
	rc := newReceiver(t, false, 0)
	port := rc.URL[strings.LastIndex(rc.URL, ":"):]
	for _, tc := range []struct {
		name  string
		hosts []string
		url   string
		want  string
		shown string // the URL the record shows, if not url
	}{
		{"default: 127.0.0.1", nil, "http://127.0.0.1" + port, krosaisim.DeliveryAnswered, ""},
		{"default: localhost", nil, "http://LocalHost" + port, krosaisim.DeliveryAnswered, ""},
		{"default: another host", nil, "https://hooks.example.com/kros", krosaisim.DeliverySkipped, ""},
		{"default: a private address", nil, "https://10.0.0.1/kros", krosaisim.DeliverySkipped, ""},
		{"not http", nil, "ftp://127.0.0.1" + port, krosaisim.DeliverySkipped, ""},
		{"listed host only", []string{"localhost"}, "http://127.0.0.1" + port, krosaisim.DeliverySkipped, ""},
		{"listed IP", []string{"[127.0.0.1]"}, "http://127.0.0.1" + port, krosaisim.DeliveryAnswered, ""},
		{"a password in the URL", nil, "https://user:pw@hooks.example.com/kros", krosaisim.DeliverySkipped,
			"https://user:xxxxx@hooks.example.com/kros"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, krosaisim.Options{EventHosts: tc.hosts})
			e.create(map[string]any{"name": "hook", "type": "webhook", "url": tc.url})
			st := settle(t, e.sim)
			recs := e.sim.Deliveries()
			if len(recs) != 1 || recs[0].Outcome != tc.want || recs[0].URL != cmp.Or(tc.shown, tc.url) {
				t.Fatalf("deliveries %+v, want one %s", recs, tc.want)
			}
			if skipped := tc.want == krosaisim.DeliverySkipped; skipped != (st.Skipped == 1 && st.Sent == 0) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestNoHostsOrDisabledBuildsNoEvent(t *testing.T) {
	rc := newReceiver(t, false, 0)
	for _, opts := range []krosaisim.Options{
		{EventHosts: []string{}},
		{Events: krosaisim.Events{Disabled: true}},
	} {
		e := newEnv(t, opts)
		e.webhook(rc, "hook")
		if st := settle(t, e.sim); st != (krosaisim.DeliveryStats{}) || len(e.sim.Deliveries()) != 0 {
			t.Errorf("%+v: stats %+v", opts, st)
		}
	}
	if got := rc.take(); len(got) != 0 {
		t.Errorf("received %d deliveries", len(got))
	}
}

func TestDropAndDuplicate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events krosaisim.Events
		want   int
	}{
		{"drop", krosaisim.Events{DropRate: 1}, 0},
		{"duplicate", krosaisim.Events{DuplicateRate: 1}, 2},
		{"neither", krosaisim.Events{}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, false, 0)
			e := newEnv(t, krosaisim.Options{Events: tc.events})
			hook := e.webhook(rc, "hook")
			st := settle(t, e.sim)
			got := rc.take()
			if len(got) != tc.want || st.Sent != tc.want {
				t.Fatalf("received %d, stats %+v; want %d sent", len(got), st, tc.want)
			}
			if tc.events.DropRate == 1 && st.Dropped != 1 {
				t.Errorf("dropped %d, want 1", st.Dropped)
			}
			if tc.want == 2 {
				verify(t, got[0], hook.Secret)
				if st.Duplicated != 1 || string(got[0].body) != string(got[1].body) ||
					got[0].header.Get("X-Webhook-Signature") != got[1].header.Get("X-Webhook-Signature") {
					t.Errorf("duplicates differ or uncounted: %+v\n%s\n%s", st, got[0].body, got[1].body)
				}
			}
		})
	}
}

// TestReorder sends a burst of updates: without reordering the webhook
// receives them in order, with it (seeded) some overtake others.
func TestReorder(t *testing.T) {
	for _, tc := range []struct {
		reorder time.Duration
		inOrder bool
	}{{0, true}, {300 * time.Millisecond, false}} {
		rc := newReceiver(t, false, 0)
		e := newEnv(t, krosaisim.Options{Seed: 7, Events: krosaisim.Events{Reorder: tc.reorder}})
		hook := e.webhook(rc, "hook")
		settle(t, e.sim)
		rc.take()
		for i := range 10 {
			wantStatus(t, e.request(http.MethodPatch, endpointsPath+"/"+hook.ID, map[string]any{"name": string(rune('a' + i))}, nil), 200)
		}
		settle(t, e.sim)
		got := rc.take()
		names := make([]string, 0, len(got))
		for _, got := range got {
			names = append(names, verify(t, got, hook.Secret).Data["name"].(string))
		}
		if len(names) != 10 || slices.IsSorted(names) != tc.inOrder {
			t.Errorf("reorder %v: received %v", tc.reorder, names)
		}
	}
}

func TestDeliveryOverTLS(t *testing.T) {
	rc := newReceiver(t, true, 0)
	trusted := x509.NewCertPool()
	trusted.AddCert(rc.Certificate())
	for _, tc := range []struct {
		name  string
		roots *x509.CertPool
		want  string
	}{
		{"trusted CA", trusted, krosaisim.DeliveryAnswered},
		{"untrusted certificate", nil, krosaisim.DeliveryFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, krosaisim.Options{EventRootCAs: tc.roots})
			e.webhook(rc, "hook")
			st := settle(t, e.sim)
			recs := e.sim.Deliveries()
			if len(recs) != 1 || recs[0].Outcome != tc.want {
				t.Fatalf("deliveries %+v, want one %s", recs, tc.want)
			}
			if tc.want == krosaisim.DeliveryFailed && (st.Failed != 1 || !strings.Contains(recs[0].Error, "certificate")) {
				t.Errorf("stats %+v, error %q", st, recs[0].Error)
			}
		})
	}
}

func TestAnswersCountedByStatusClass(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusFound, http.StatusGone, http.StatusBadGateway} {
		rc := newReceiver(t, false, status)
		e := newEnv(t, krosaisim.Options{})
		e.webhook(rc, "hook")
		st := settle(t, e.sim)
		byClass := map[int]int{200: st.Answered2xx, 300: st.Answered3xx, 400: st.Answered4xx, 500: st.Answered5xx}
		if byClass[status/100*100] != 1 || st.Sent != 1 || e.sim.Deliveries()[0].Status != status {
			t.Errorf("answered %d: stats %+v", status, st)
		}
		if len(rc.take()) != 1 { // a redirect is not followed
			t.Errorf("answered %d: not received once", status)
		}
	}
}

func TestCloseWaitsForDeliveriesInFlight(t *testing.T) {
	rc := newReceiver(t, false, 0)
	rc.hold, rc.entered = make(chan struct{}), make(chan struct{}, 1)
	sim, err := krosaisim.NewSimulator(krosaisim.Options{Seed: 1, Keys: []krosaisim.APIKey{{Key: keyA, Org: orgA}}})
	if err != nil {
		t.Fatal(err)
	}
	e := envFor(t, sim)
	e.webhook(rc, "hook")
	<-rc.entered
	go func() {
		time.Sleep(50 * time.Millisecond) // lets Close start first; nothing is asserted on time
		close(rc.hold)
	}()
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	if st := sim.DeliveryStats(); st.Answered2xx != 1 || st.Pending != 0 {
		t.Errorf("after Close: %+v, want the delivery in flight answered", st)
	}
}

func TestCloseCancelsWaitingDeliveries(t *testing.T) {
	rc := newReceiver(t, false, 0)
	sim, err := krosaisim.NewSimulator(krosaisim.Options{
		Keys: []krosaisim.APIKey{{Key: keyA, Org: orgA}}, Events: krosaisim.Events{Delay: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := envFor(t, sim)
	e.webhook(rc, "hook")
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	if st := sim.DeliveryStats(); st.Canceled != 1 || st.Pending != 0 || st.Sent != 0 {
		t.Errorf("after Close: %+v, want the waiting delivery canceled", st)
	}
}

func TestQueueFullDropsAndCounts(t *testing.T) {
	rc := newReceiver(t, false, 0)
	rc.hold, rc.entered = make(chan struct{}), make(chan struct{}, 1)
	e := newEnv(t, krosaisim.Options{EventQueueSize: 1})
	defer close(rc.hold)
	hook := e.webhook(rc, "hook")
	<-rc.entered // the one delivery the queue holds is in flight, and stays
	for range 2 {
		wantStatus(t, e.request(http.MethodPatch, endpointsPath+"/"+hook.ID, map[string]any{"name": "x"}, nil), 200)
	}
	if st := e.sim.DeliveryStats(); st.QueueFull != 2 || st.Pending != 1 {
		t.Errorf("stats %+v, want 2 queue-full", st)
	}
}

func TestResetForgetsDeliveries(t *testing.T) {
	rc := newReceiver(t, false, 0)
	e := newEnv(t, krosaisim.Options{Events: krosaisim.Events{DuplicateRate: 1}})
	e.webhook(rc, "hook")
	settle(t, e.sim)
	if err := e.sim.SetEvents(krosaisim.Events{Delay: time.Hour}); err != nil {
		t.Fatal(err)
	}
	e.create(createBody("retell", "waiting"))
	e.sim.Reset()
	if st, recs := e.sim.DeliveryStats(), e.sim.Deliveries(); st != (krosaisim.DeliveryStats{Pending: 1}) || len(recs) != 0 {
		t.Errorf("after Reset: %+v, %d records", st, len(recs))
	}
	if ev := e.sim.Events(); ev.Delay != time.Hour {
		t.Errorf("Reset changed the knobs: %+v", ev)
	}
}

// TestNoSecretInAnyPayload creates every type whose answers carry secrets,
// with passwords echoed by the API, and looks for them in every delivery.
func TestNoSecretInAnyPayload(t *testing.T) {
	rc := newReceiver(t, false, 0)
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{PasswordMode: krosaisim.PasswordModeEcho}})
	hook := e.webhook(rc, "hook")
	second := e.webhook(rc, "second hook")
	ids := []string{e.create(createBody("vogent", "vogent")).ID, e.create(createBody("custom_sip", "custom")).ID, second.ID}
	for _, id := range ids {
		wantStatus(t, e.request(http.MethodPatch, endpointsPath+"/"+id, map[string]any{"name": "renamed"}, nil), 200)
		wantStatus(t, e.request(http.MethodDelete, endpointsPath+"/"+id, nil, nil), 204)
	}
	settle(t, e.sim)
	got := rc.take()
	if len(got) < 10 {
		t.Fatalf("received only %d deliveries", len(got))
	}
	secrets := []string{hook.Secret, second.Secret, "vogent-secret-pw", "custom-secret-pw", `"secret"`}
	for _, d := range got {
		for _, s := range secrets {
			if strings.Contains(string(d.body), s) {
				t.Errorf("a delivery carries %q: %s", s, d.body)
			}
		}
	}
}

func TestAdminEvents(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Events: krosaisim.Events{Delay: 2 * time.Millisecond}})
	r := e.admin(http.MethodGet, "/_sim/events", nil)
	wantStatus(t, r, 200)
	want := `{"disabled":false,"delay":"2ms","delayJitter":"0s","dropRate":0,"duplicateRate":0,"reorder":"0s"}`
	if got := strings.TrimSpace(string(r.body)); got != want {
		t.Errorf("events %s\nwant   %s", got, want)
	}

	// Fields given change, the others stay.
	wantStatus(t, e.admin(http.MethodPut, "/_sim/events", map[string]any{"dropRate": 0.5, "reorder": "1s"}), 200)
	got := e.sim.Events()
	if got != (krosaisim.Events{Delay: 2 * time.Millisecond, DropRate: 0.5, Reorder: time.Second}) {
		t.Errorf("events after PUT %+v", got)
	}
	for _, bad := range []string{`{"delay":"soon"}`, `{"dropRate":2}`, `{"duplicateRate":-1}`, `{"reorder":"-1s"}`, `{"drop_rate":1}`, `not json`} {
		if r := e.admin(http.MethodPut, "/_sim/events", bad); r.status != 400 || r.error(t).Error == "" {
			t.Errorf("PUT %s: %d %s", bad, r.status, r.body)
		}
	}
	if after := e.sim.Events(); after != got {
		t.Errorf("refused PUTs changed the knobs: %+v", after)
	}
}

func TestAdminDeliveries(t *testing.T) {
	rc := newReceiver(t, false, 0)
	e := newEnv(t, krosaisim.Options{DeliveryLogSize: 2})
	e.webhook(rc, "hook")
	settle(t, e.sim) // its delivery logged before the next event's
	e.create(map[string]any{"name": "elsewhere", "type": "webhook", "url": "https://hooks.example.com/kros"})
	settle(t, e.sim)

	r := e.admin(http.MethodGet, "/_sim/deliveries/stats", nil)
	wantStatus(t, r, 200)
	var st krosaisim.DeliveryStats
	r.decode(t, &st)
	if st.Events != 2 || st.Sent != 2 || st.Answered2xx != 2 || st.Skipped != 1 {
		t.Errorf("stats %+v", st)
	}
	// The log keeps the last DeliveryLogSize deliveries, oldest first: the
	// second event, to each webhook.
	r = e.admin(http.MethodGet, "/_sim/deliveries", nil)
	var recs []krosaisim.DeliveryRecord
	r.decode(t, &recs)
	if len(recs) != 2 || recs[0].EventID != recs[1].EventID || recs[0].EventType != krosaisim.EventEndpointCreated {
		t.Errorf("deliveries %+v", recs)
	}
	r = e.admin(http.MethodGet, "/_sim/deliveries?limit=1", nil)
	r.decode(t, &recs)
	if len(recs) != 1 {
		t.Errorf("limit=1: %d records", len(recs))
	}
	wantStatus(t, e.admin(http.MethodGet, "/_sim/deliveries?limit=0", nil), 400)
}

func TestInvalidEventOptionsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		opts krosaisim.Options
		want string
	}{
		{krosaisim.Options{EventHosts: []string{"https://hooks.example.com"}}, `event host "https://hooks.example.com"`},
		{krosaisim.Options{EventHosts: []string{"127.0.0.1:8443"}}, `event host "127.0.0.1:8443"`},
		{krosaisim.Options{EventHosts: []string{""}}, `event host ""`},
		{krosaisim.Options{Events: krosaisim.Events{DuplicateRate: 1.5}}, "duplicateRate 1.5"},
		{krosaisim.Options{Events: krosaisim.Events{Delay: -time.Second}}, "must not be negative"},
	} {
		sim, err := krosaisim.NewSimulator(tc.opts)
		if err == nil {
			_ = sim.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %s", tc.opts, err, tc.want)
		}
	}
}

// TestWebhooksFollowTheStore: a deleted webhook receives nothing more, and
// the webhooks of a state file receive events after a restart.
func TestWebhooksFollowTheStore(t *testing.T) {
	rc := newReceiver(t, false, 0)
	opts := krosaisim.Options{Keys: []krosaisim.APIKey{{Key: keyA, Org: orgA}}, StateFile: filepath.Join(t.TempDir(), "state.json")}
	first, err := krosaisim.NewSimulator(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := envFor(t, first)
	gone := e.webhook(rc, "gone")
	kept := e.webhook(rc, "kept")
	wantStatus(t, e.request(http.MethodDelete, endpointsPath+"/"+gone.ID, nil, nil), 204)
	settle(t, first)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	rc.take()

	second, err := krosaisim.NewSimulator(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Close() })
	e = envFor(t, second)
	e.create(createBody("retell", "after a restart"))
	settle(t, second)
	got := rc.take()
	if len(got) != 1 {
		t.Fatalf("received %d deliveries, want 1 (to kept)", len(got))
	}
	verify(t, got[0], kept.Secret)
}
