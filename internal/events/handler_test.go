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

package events

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/krosai/kros-operator/test/harness"
)

const (
	secret = "whsec_test_0123456789abcdef"
	org    = "11111111-1111-4111-8111-111111111111"
)

// directory is a Directory of one receiver, team/events, that records what
// it was asked to wake.
type directory struct {
	mu      sync.Mutex
	woken   []Hint
	answer  Woken
	err     error // of Receiver
	wakeErr error
}

func (d *directory) Receiver(_ context.Context, namespace, name string) (Receiver, error) {
	if d.err != nil {
		return Receiver{}, d.err
	}
	if namespace != "team" || name != "events" {
		return Receiver{}, ErrNoReceiver
	}
	return Receiver{Namespace: namespace, Name: name, Organization: org, SigningSecret: []byte(secret)}, nil
}

func (d *directory) Wake(_ context.Context, _ Receiver, h Hint) (Woken, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.wakeErr != nil {
		return Woken{}, d.wakeErr
	}
	d.woken = append(d.woken, h)
	return d.answer, nil
}

// clock is a settable now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var epoch = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func newTestHandler(t *testing.T, d *directory, c *clock, leading bool) *Handler {
	t.Helper()
	h, err := NewHandler(d, Config{Leading: func() bool { return leading }, now: c.now, ReplayMemory: 4})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func event(id, typ, endpoint string, at time.Time) []byte {
	return harness.EndpointEvent(id, typ, endpoint, at, at)
}

// deliver posts body to path signed with signature (Sign under secret when
// "sign"), and returns the status and the outcome the handler counted.
func deliver(h *Handler, method, path string, body []byte, signature string) (int, string) {
	if signature == "sign" {
		signature = Sign([]byte(secret), body)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if signature != "" {
		req.Header.Set(SignatureHeader, signature)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

func TestHandlerRefusesAtNoCost(t *testing.T) {
	body := event("evt_1", "endpoint.updated", "ep_1", epoch)
	otherSecret := Sign([]byte("whsec_other"), body)
	for name, tt := range map[string]struct {
		method, path string
		body         []byte
		signature    string
		leading      bool
		dirErr       error
		status       int
		outcome      string
	}{
		"a GET":                      {method: http.MethodGet, status: 405, outcome: OutcomeBadMethod},
		"a path naming no object":    {path: PathPrefix + "Team/events", status: 404, outcome: OutcomeNoReceiver},
		"a path too deep":            {path: PathPrefix + "team/events/x", status: 404, outcome: OutcomeNoReceiver},
		"no receiver there":          {path: PathPrefix + "team/other", status: 404, outcome: OutcomeNoReceiver},
		"a replica not leading":      {leading: false, status: 503, outcome: OutcomeNotLeader},
		"unsigned":                   {signature: "-", status: 401, outcome: OutcomeUnauthorized},
		"signed with another secret": {signature: otherSecret, status: 401, outcome: OutcomeUnauthorized},
		"a signature not sha256=":    {signature: "sha1=" + strings.Repeat("a", 40), status: 401, outcome: OutcomeUnauthorized},
		"signed, body changed": {body: event("evt_1", "endpoint.updated", "ep_2", epoch),
			signature: Sign([]byte(secret), body), status: 401, outcome: OutcomeUnauthorized},
		"a body over the cap": {body: bytes.Repeat([]byte(" "), DefaultMaxBodyBytes+1), status: 413, outcome: OutcomeTooLarge},
		"not a JSON object":   {body: []byte(`["ep_1"]`), status: 400, outcome: OutcomeMalformed},
		"an id with a slash":  {body: event("evt_1", "endpoint.updated", "../ep_1", epoch), status: 400, outcome: OutcomeMalformed},
		"a time that is not one": {body: []byte(`{"id":"e","created_at":"yesterday","data":{"id":"ep_1"}}`),
			status: 400, outcome: OutcomeMalformed},
		"older than the window": {body: event("evt_2", "endpoint.updated", "ep_1", epoch.Add(-6*time.Minute)),
			status: 400, outcome: OutcomeReplayed},
		"from further than the window ahead": {body: event("evt_3", "endpoint.updated", "ep_1", epoch.Add(6*time.Minute)),
			status: 400, outcome: OutcomeReplayed},
		"the cluster unreadable": {dirErr: errors.New("cache not synced"), status: 503, outcome: OutcomeBusy},
	} {
		t.Run(name, func(t *testing.T) {
			if tt.method == "" {
				tt.method = http.MethodPost
			}
			if tt.path == "" {
				tt.path = PathPrefix + "team/events"
			}
			if tt.body == nil {
				tt.body = body
			}
			switch tt.signature {
			case "":
				tt.signature = "sign"
			case "-":
				tt.signature = ""
			}
			if tt.status != 503 || tt.outcome != OutcomeNotLeader {
				tt.leading = true
			}
			d := &directory{err: tt.dirErr}
			h := newTestHandler(t, d, &clock{epoch}, tt.leading)
			status, outcome := deliver(h, tt.method, tt.path, tt.body, tt.signature)
			if status != tt.status || outcome != tt.outcome {
				t.Errorf("got %d %s, want %d %s", status, outcome, tt.status, tt.outcome)
			}
			if len(d.woken) != 0 {
				t.Errorf("a refused delivery woke %d resources", len(d.woken))
			}
			if got := testutil.ToFloat64(h.deliveries.WithLabelValues(tt.outcome)); got != 1 {
				t.Errorf("deliveries{outcome=%q} = %v, want 1", tt.outcome, got)
			}
		})
	}
}

func TestHandlerTakesEndpointEvents(t *testing.T) {
	c := &clock{epoch}
	d := &directory{answer: Woken{Resources: 1}}
	h := newTestHandler(t, d, c, true)
	path := PathPrefix + "team/events"

	updated := event("evt_1", "endpoint.updated", "ep_1", epoch.Add(-time.Second))
	if status, outcome := deliver(h, http.MethodPost, path, updated, "sign"); status != 202 || outcome != OutcomeAccepted {
		t.Fatalf("a signed update: %d %s", status, outcome)
	}
	want := Hint{EventID: "evt_1", Type: "endpoint.updated", At: epoch.Add(-time.Second), EndpointID: "ep_1",
		UpdatedAt: epoch.Add(-time.Second), Delivered: epoch}
	if len(d.woken) != 1 || d.woken[0] != want {
		t.Fatalf("woke %+v, want %+v", d.woken, want)
	}

	if status, outcome := deliver(h, http.MethodPost, path, updated, "sign"); status != 400 || outcome != OutcomeReplayed {
		t.Errorf("the same delivery again: %d %s", status, outcome)
	}
	rotated := event("evt_2", "endpoint.deleted", "ep_1", epoch)
	both := Sign([]byte("whsec_old"), rotated) + ", " + Sign([]byte(secret), rotated)
	if status, _ := deliver(h, http.MethodPost, path, rotated, both); status != 202 {
		t.Errorf("signed with the old and the new secret: %d", status)
	}
	if status, outcome := deliver(h, http.MethodPost, path, event("evt_3", "call.started", "call_1", epoch), "sign"); status != 202 ||
		outcome != OutcomeIgnored {
		t.Errorf("a call event: %d %s", status, outcome)
	}
	if len(d.woken) != 2 {
		t.Errorf("woke %d times, want 2 (the replay and the call event wake nothing)", len(d.woken))
	}

	d.answer = Woken{Coalesced: 1}
	if _, outcome := deliver(h, http.MethodPost, path, event("evt_4", "endpoint.updated", "ep_1", epoch), "sign"); outcome != OutcomeCoalesced {
		t.Errorf("a read already due: %s", outcome)
	}
	d.answer = Woken{}
	if _, outcome := deliver(h, http.MethodPost, path, event("evt_5", "endpoint.updated", "ep_9", epoch), "sign"); outcome != OutcomeBusy {
		t.Errorf("a fifth delivery in a memory of four: %s", outcome)
	}
	c.t = epoch.Add(DefaultReplayWindow + time.Second)
	if _, outcome := deliver(h, http.MethodPost, path, event("evt_6", "endpoint.updated", "ep_9", c.t), "sign"); outcome != OutcomeUnknownEndpoint {
		t.Errorf("once the window passed, an endpoint no resource owns: %s", outcome)
	}
	noID := []byte(`{"type":"endpoint.updated"}`)
	if status, _ := deliver(h, http.MethodPost, path, noID, "sign"); status != 202 || d.woken[len(d.woken)-1].EndpointID != "" {
		t.Errorf("an event naming no endpoint: %d, %+v", status, d.woken)
	}
	if _, outcome := deliver(h, http.MethodPost, path, noID, "sign"); outcome != OutcomeReplayed {
		t.Errorf("the same body without an id or a time, again: %s", outcome)
	}
}

func TestReadHint(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for name, tt := range map[string]struct {
		body string
		want Hint
		bad  bool
	}{
		"the simulator's shape": {body: `{"id":"evt_1","type":"endpoint.created","created_at":"2026-12-07T09:00:00Z",` +
			`"organization_id":"o","data":{"id":"ep_1","name":"x","updated_at":"2026-12-07T09:00:00Z"}}`,
			want: Hint{EventID: "evt_1", Type: "endpoint.created", At: at, EndpointID: "ep_1", UpdatedAt: at}},
		"endpoint_id at the top, a Unix timestamp": {body: `{"type":"endpoint.deleted","timestamp":1796634000,"endpoint_id":"ep_2"}`,
			want: Hint{Type: "endpoint.deleted", At: time.Unix(1796634000, 0), EndpointID: "ep_2"}},
		"milliseconds":           {body: `{"timestamp":1796634000000}`, want: Hint{At: time.UnixMilli(1796634000000)}},
		"data an array, ignored": {body: `{"data":[1]}`, want: Hint{}},
		"nothing":                {body: `{}`, want: Hint{}},
		"an id not a string":     {body: `{"data":{"id":7}}`, bad: true},
		"an id too long":         {body: `{"data":{"id":"` + strings.Repeat("a", 129) + `"}}`, bad: true},
		"a negative time":        {body: `{"timestamp":-1}`, bad: true},
		"trailing garbage":       {body: `{} {}`, bad: true},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := readHint([]byte(tt.body))
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v, want bad=%v", err, tt.bad)
			}
			same := got.EventID == tt.want.EventID && got.Type == tt.want.Type && got.EndpointID == tt.want.EndpointID &&
				got.At.Equal(tt.want.At) && got.UpdatedAt.Equal(tt.want.UpdatedAt)
			if !tt.bad && !same {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMetricRegisters(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := NewHandler(&directory{}, Config{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	n, err := testutil.GatherAndCount(reg, "kros_operator_event_deliveries_total")
	if err != nil || n != len(outcomes) {
		t.Errorf("%d series (%v), want one per outcome, %d", n, err, len(outcomes))
	}
}

// A delivery the cluster could not act on is answered 503 and forgotten,
// so that KrosAI's redelivery is taken rather than refused as a replay.
func TestHandlerLetsAFailedDeliveryComeAgain(t *testing.T) {
	d := &directory{wakeErr: errors.New("cache not synced"), answer: Woken{Resources: 1}}
	h := newTestHandler(t, d, &clock{epoch}, true)
	body := event("evt_1", "endpoint.updated", "ep_1", epoch)
	if status, outcome := deliver(h, http.MethodPost, PathPrefix+"team/events", body, "sign"); status != 503 || outcome != OutcomeBusy {
		t.Fatalf("the cluster unreadable: %d %s", status, outcome)
	}
	d.wakeErr = nil
	if status, outcome := deliver(h, http.MethodPost, PathPrefix+"team/events", body, "sign"); status != 202 || outcome != OutcomeAccepted {
		t.Errorf("redelivered: %d %s", status, outcome)
	}
}
