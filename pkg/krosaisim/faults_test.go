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
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// eventually polls cond for up to two seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestFailRateOneFailsEverythingAndStoresNothing(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	existing := e.create(createBody("webhook", "before the outage"))
	if err := e.sim.SetFaults(krosaisim.Faults{FailRate: 1}); err != nil {
		t.Fatal(err)
	}
	id := existing.ID
	for _, r := range []response{
		e.request(http.MethodPost, endpointsPath, createBody("vapi", "during"), nil),
		e.request(http.MethodGet, endpointsPath, nil, nil),
		e.request(http.MethodGet, endpointsPath+"/"+id, nil, nil),
		e.request(http.MethodPatch, endpointsPath+"/"+id, map[string]any{"name": "changed"}, nil),
		e.request(http.MethodDelete, endpointsPath+"/"+id, nil, nil),
	} {
		wantStatus(t, r, 500)
		if got, want := strings.TrimSpace(string(r.body)), `{"error":"Internal server error","code":"INTERNAL_ERROR"}`; got != want {
			t.Errorf("body %s, want %s", got, want)
		}
	}
	if got, _ := e.sim.Endpoint(id); got.Name != "before the outage" || len(e.sim.Endpoints()[orgA]) != 1 {
		t.Errorf("the failed requests changed the store: %v", e.sim.Endpoints())
	}
	st := e.sim.Stats()
	if st.Count("createEndpoint", 500) != 1 || st.Count("deleteEndpoint", 500) != 1 || st.Endpoints != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestHangHoldsTheRequestUntilTheClientGivesUp(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{HangRate: 1}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+endpointsPath, strings.NewReader(`{"name":"x","type":"webhook","url":"https://example.com"}`))
	req.Header.Set("Authorization", "Bearer "+keyA)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := e.srv.Client().Do(req)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("got %d, want the request held", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < 300*time.Millisecond {
		t.Errorf("after %v: %v, want the client's deadline", time.Since(start), err)
	}
	eventually(t, "the hung request to be counted", func() bool {
		return e.sim.Stats().Operations["createEndpoint"][krosaisim.OutcomeHung] == 1
	})
	if n := e.sim.Stats().Endpoints; n != 0 {
		t.Errorf("%d endpoints stored by a hung request", n)
	}
}

func TestCloseReleasesHungRequests(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{HangRate: 1}})
	errc := make(chan error, 1)
	go func() {
		_, err := e.send(http.MethodGet, endpointsPath, nil, nil)
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond) // a held request shows nowhere until released: give it time to arrive
	if err := e.sim.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Error("a hung request was answered on Close; want the connection dropped")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
}

func TestCommitThenFailCommits(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{CommitThenFailRate: 1}})
	const n = 20
	var failed, dropped int
	for i := range n {
		r, err := e.send(http.MethodPost, endpointsPath, createBody("vapi", fmt.Sprint(i)), nil)
		switch {
		case err != nil:
			dropped++
		case r.status == 500:
			failed++
		default:
			t.Fatalf("create answered %d %s", r.status, r.body)
		}
	}
	if failed == 0 || dropped == 0 || failed+dropped != n {
		t.Fatalf("%d 500s and %d dropped connections, want both kinds, %d in all", failed, dropped, n)
	}
	st := e.sim.Stats()
	if st.Endpoints != n || st.Count("createEndpoint", 500) != failed || st.Operations["createEndpoint"][krosaisim.OutcomeDropped] != dropped {
		t.Errorf("stats %+v after %d 500s and %d drops", st, failed, dropped)
	}
	logged := map[string]bool{}
	for _, rec := range e.sim.Requests() {
		if rec.Fault != krosaisim.FaultCommitThenFail {
			t.Errorf("request %+v not marked %s", rec, krosaisim.FaultCommitThenFail)
		}
		logged[rec.EndpointID] = true
	}
	for _, stored := range e.sim.Endpoints()[orgA] {
		if !logged[stored.ID] {
			t.Errorf("endpoint %s stored by a create whose answer was lost, but no request names it", stored.ID)
		}
	}

	// Updates and deletes are done too.
	id := e.sim.Endpoints()[orgA][0].ID
	if r, err := e.send(http.MethodPatch, endpointsPath+"/"+id, map[string]any{"name": "renamed"}, nil); err == nil && r.status != 500 {
		t.Errorf("patch answered %d", r.status)
	}
	if got, _ := e.sim.Endpoint(id); got.Name != "renamed" {
		t.Errorf("name %q after a failed-but-committed patch", got.Name)
	}
	if r, err := e.send(http.MethodDelete, endpointsPath+"/"+id, nil, nil); err == nil && r.status != 500 {
		t.Errorf("delete answered %d", r.status)
	}
	if _, found := e.sim.Endpoint(id); found {
		t.Error("endpoint still there after a failed-but-committed delete")
	}
}

func TestLatency(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{Latency: 150 * time.Millisecond}})
	start := time.Now()
	wantStatus(t, e.request(http.MethodGet, endpointsPath, nil, nil), 200)
	if elapsed := time.Since(start); elapsed < 150*time.Millisecond {
		t.Errorf("answered after %v, want at least the latency", elapsed)
	}

	// A client that gives up during the latency is counted, and nothing is done.
	if err := e.sim.SetFaults(krosaisim.Faults{Latency: time.Minute}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+endpointsPath, nil)
	if _, err := e.srv.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the client's deadline", err)
	}
	eventually(t, "the canceled request to be counted", func() bool {
		return e.sim.Stats().Operations["listEndpoints"][krosaisim.OutcomeCanceled] == 1
	})
}

func TestSameSeedSameRun(t *testing.T) {
	run := func() []string {
		e := newEnv(t, krosaisim.Options{Seed: 7, Faults: krosaisim.Faults{FailRate: 0.5}})
		outcomes := make([]string, 0, 40)
		for i := range 20 {
			r := e.request(http.MethodPost, endpointsPath, createBody("retell", fmt.Sprint(i)), nil)
			outcomes = append(outcomes, fmt.Sprint(r.status))
		}
		for _, ep := range e.sim.Endpoints()[orgA] {
			outcomes = append(outcomes, ep.ID)
		}
		return outcomes
	}
	first, second := run(), run()
	if strings.Join(first, " ") != strings.Join(second, " ") {
		t.Errorf("two runs with one seed differ:\n%v\n%v", first, second)
	}
	if !strings.Contains(strings.Join(first, " "), "500") || !strings.Contains(strings.Join(first, " "), "201") {
		t.Errorf("fail rate 0.5 gave %v", first[:20])
	}
}

// TestListFaults checks each way the list misbehaves while every other
// operation, GET first, keeps working.
func TestListFaults(t *testing.T) {
	for _, shape := range []string{krosaisim.ListShapeArray, krosaisim.ListShapeWrapped} {
		e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{ListShape: shape}})
		ids := make([]string, 0, 5)
		for i := range 5 {
			ids = append(ids, e.create(createBody("webhook", fmt.Sprintf("w%d", i))).ID)
		}
		for _, tt := range []struct {
			fault     string
			status    int
			body      string
			listedIDs []string
		}{
			{krosaisim.ListFaultNotFound, 404, `"code":"NOT_FOUND"`, nil},
			{krosaisim.ListFaultServerError, 500, `"code":"INTERNAL_ERROR"`, nil},
			{krosaisim.ListFaultGarbage, 200, "<html>", nil},
			{krosaisim.ListFaultIncomplete, 200, "", []string{ids[0], ids[2], ids[4]}},
			{krosaisim.ListFaultNone, 200, "", ids},
		} {
			if err := e.sim.SetFaults(krosaisim.Faults{ListShape: shape, ListFault: tt.fault}); err != nil {
				t.Fatal(err)
			}
			r := e.request(http.MethodGet, endpointsPath, nil, nil)
			wantStatus(t, r, tt.status)
			if !strings.Contains(string(r.body), tt.body) {
				t.Errorf("%s %s: body %s, want it to contain %s", shape, tt.fault, r.body, tt.body)
			}
			if tt.listedIDs != nil {
				var listed []string
				for _, ep := range listedEndpoints(t, r, shape) {
					listed = append(listed, ep.ID)
				}
				if fmt.Sprint(listed) != fmt.Sprint(tt.listedIDs) {
					t.Errorf("%s %s: listed %v, want %v", shape, tt.fault, listed, tt.listedIDs)
				}
			}
			wantStatus(t, e.request(http.MethodGet, endpointsPath+"/"+ids[1], nil, nil), 200)
		}
	}
}

// listedEndpoints reads a list in either shape.
func listedEndpoints(t *testing.T, r response, shape string) []endpoint {
	t.Helper()
	if shape == krosaisim.ListShapeArray {
		var all []endpoint
		r.decode(t, &all)
		return all
	}
	var wrapped struct {
		Endpoints []endpoint `json:"endpoints"`
		Total     int        `json:"total"`
	}
	r.decode(t, &wrapped)
	if wrapped.Total != len(wrapped.Endpoints) {
		t.Errorf("total %d for %d endpoints: an incomplete list must look complete", wrapped.Total, len(wrapped.Endpoints))
	}
	return wrapped.Endpoints
}

func TestInvalidFaultsAreRefused(t *testing.T) {
	for _, f := range []krosaisim.Faults{
		{FailRate: 1.5},
		{HangRate: -0.1},
		{CommitThenFailRate: math.NaN()},
		{Latency: -time.Second},
		{RateLimit: -1},
		{Burst: -1},
		{DailyLimit: -1},
		{ListShape: "paged"},
		{IDFormat: "ulid"},
		{ListFault: "sometimes"},
	} {
		if _, err := krosaisim.NewSimulator(krosaisim.Options{Faults: f}); err == nil {
			t.Errorf("New accepted %+v", f)
		}
	}
}
