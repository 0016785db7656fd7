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
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/krosai/kros-operator/test/fakeapi"
)

func TestMetrics(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "0.05")
			fakeapi.WriteError(w, http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded")
			return
		}
		w.Header().Set("X-RateLimit-Limit", "50")
		w.Header().Set("X-RateLimit-Remaining", "49")
		w.Header().Set("X-RateLimit-Reset", "1767225600")
		fakeapi.WriteJSON(w, http.StatusOK, endpoint("ep_1"))
	})
	reg := prometheus.NewRegistry()
	c := newClient(t, f, func(c *Config) { c.Registerer = reg })
	m := c.metrics

	g.Expect(testutil.CollectAndCount(m.limit)).To(BeZero(), "nothing seen yet")
	_, err := c.GetEndpoint(context.Background(), testCred, "ep_1")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.GetEndpoint(context.Background(), Credentials{APIKey: testKey}, "ep_1")
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(testutil.ToFloat64(m.requests.WithLabelValues(opGet, "429"))).To(Equal(1.0))
	g.Expect(testutil.ToFloat64(m.requests.WithLabelValues(opGet, "200"))).To(Equal(2.0))
	g.Expect(testutil.ToFloat64(m.rateLimited.WithLabelValues(opGet))).To(Equal(1.0))
	g.Expect(testutil.ToFloat64(m.waitSeconds)).To(BeNumerically(">=", 0.045))
	g.Expect(testutil.CollectAndCount(m.duration)).To(Equal(1))
	for _, org := range []string{testOrg, "default"} {
		g.Expect(testutil.ToFloat64(m.limit.WithLabelValues(org))).To(Equal(50.0))
		g.Expect(testutil.ToFloat64(m.remaining.WithLabelValues(org))).To(Equal(49.0))
		g.Expect(testutil.ToFloat64(m.resetUnixTime.WithLabelValues(org))).To(Equal(1767225600.0))
	}
	g.Expect(testutil.CollectAndCount(m.limit)).To(Equal(2), "one series per organization")

	families, err := reg.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, mf := range families {
		g.Expect(mf.GetName()).To(HavePrefix("krosai_client_"))
		for _, metric := range mf.GetMetric() {
			for _, l := range metric.GetLabel() {
				g.Expect(l.GetValue()).NotTo(ContainSubstring("kros_test_"), "metrics are never labelled by key")
			}
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(problems).To(BeEmpty())

	// A second Client on the registry shares the collectors.
	c2 := newClient(t, f, func(c *Config) { c.Registerer = reg })
	g.Expect(c2.metrics.requests).To(BeIdenticalTo(m.requests))
}

func TestMetricsOfNetworkErrors(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(int, http.ResponseWriter, *http.Request) {})
	f.Close()
	reg := prometheus.NewRegistry()
	c := newClient(t, f, func(c *Config) { c.Registerer = reg; c.MaxRetries = 1 })
	_, err := c.ListEndpoints(context.Background(), testCred)
	g.Expect(KindOf(err)).To(Equal(KindTransient))
	g.Expect(testutil.ToFloat64(c.metrics.requests.WithLabelValues(opList, "error"))).To(Equal(2.0))
}

func TestMetricsConflict(t *testing.T) {
	g := NewWithT(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "krosai_client_requests_total", Help: "someone else's"}))
	_, err := New(Config{Registerer: reg})
	g.Expect(err).To(MatchError(ContainSubstring("register metrics")))
}
