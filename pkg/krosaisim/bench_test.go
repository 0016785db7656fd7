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
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// benchStored is how many endpoints the benchmarks start with.
const benchStored = 1000

// benchSim is a simulator holding benchStored endpoints, and their ids.
func benchSim(b *testing.B) (*krosaisim.Simulator, []string) {
	b.Helper()
	sim, err := krosaisim.NewSimulator(krosaisim.Options{Keys: []krosaisim.APIKey{{Key: keyA, Org: orgA}}, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sim.Close() })
	ids := make([]string, benchStored)
	for i := range ids {
		w := serve(b, sim.Handler(), "POST", endpointsPath, createBody("vapi", fmt.Sprint(i)), http.StatusCreated)
		var ep struct{ ID string }
		if err := json.Unmarshal(w.Body.Bytes(), &ep); err != nil {
			b.Fatal(err)
		}
		ids[i] = ep.ID
	}
	return sim, ids
}

// serve runs one request through h in process.
func serve(b *testing.B, h http.Handler, method, path string, body any, want int) *httptest.ResponseRecorder {
	var reader io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		reader = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, reader)
	req.Header.Set("Authorization", "Bearer "+keyA)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
	return w
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkCreate(b *testing.B) {
	sim, _ := benchSim(b)
	h := sim.Handler()
	body := createBody("vogent", "bench")
	for b.Loop() {
		serve(b, h, "POST", endpointsPath, body, http.StatusCreated)
	}
	reportRate(b)
}

func BenchmarkGet(b *testing.B) {
	sim, ids := benchSim(b)
	h := sim.Handler()
	i := 0
	for b.Loop() {
		serve(b, h, "GET", endpointsPath+"/"+ids[i%len(ids)], nil, http.StatusOK)
		i++
	}
	reportRate(b)
}

func BenchmarkList(b *testing.B) {
	sim, _ := benchSim(b)
	h := sim.Handler()
	for b.Loop() {
		serve(b, h, "GET", endpointsPath, nil, http.StatusOK)
	}
	reportRate(b)
}

// BenchmarkGetLoopback is BenchmarkGet over real connections, from parallel
// clients: what an operator under test sees.
func BenchmarkGetLoopback(b *testing.B) {
	sim, ids := benchSim(b)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", srv.URL+endpointsPath+"/"+ids[n.Add(1)%benchStored], nil)
			req.Header.Set("Authorization", "Bearer "+keyA)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	reportRate(b)
}

// BenchmarkCreateBesideWebhooks is BenchmarkCreate in an organization with
// 100 webhook endpoints elsewhere than the event hosts: what each change
// costs to skip them.
func BenchmarkCreateBesideWebhooks(b *testing.B) {
	sim, _ := benchSim(b)
	h := sim.Handler()
	for range 100 {
		serve(b, h, "POST", endpointsPath, createBody("webhook", "elsewhere"), http.StatusCreated)
	}
	body := createBody("vogent", "bench")
	for b.Loop() {
		serve(b, h, "POST", endpointsPath, body, http.StatusCreated)
	}
	reportRate(b)
}
