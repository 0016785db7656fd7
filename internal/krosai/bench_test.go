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

package krosai

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkClientGet measures one GetEndpoint against a local server, next to
// the same exchange done with bare net/http and encoding/json: the difference
// is the client's overhead per call (rate limiting, tracing, metrics, error
// handling).
func BenchmarkClientGet(b *testing.B) {
	body, _ := json.Marshal(endpoint("ep_abc123"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("X-RateLimit-Limit", "50")
		h.Set("X-RateLimit-Remaining", "49")
		h.Set("X-RateLimit-Reset", "1767225600")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	ctx := context.Background()

	b.Run("krosai", func(b *testing.B) {
		c, err := New(Config{BaseURL: srv.URL + "/v1", RateLimit: math.Inf(1), Registerer: prometheus.NewRegistry()})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.GetEndpoint(ctx, testCred, "ep_abc123"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("net-http", func(b *testing.B) {
		hc := &http.Client{Transport: newTransport()}
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/endpoints/ep_abc123", nil)
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("x-organization-id", testOrg)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			var e Endpoint
			if err := json.Unmarshal(raw, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
