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
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/krosai/kros-operator/test/fakeapi"
)

// downAPI answers 500 until up is set, then 200; it counts the requests
// for each organization.
type downAPI struct {
	up    atomic.Bool
	mu    sync.Mutex
	byOrg map[string]int
}

func (d *downAPI) serve(_ int, w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.byOrg[r.Header.Get("x-organization-id")]++
	d.mu.Unlock()
	if !d.up.Load() {
		fakeapi.WriteError(w, http.StatusInternalServerError, "INTERNAL", "boom")
		return
	}
	fakeapi.WriteJSON(w, http.StatusOK, endpoint("ep_1"))
}

func (d *downAPI) hits(org string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byOrg[org]
}

// TestOutageCostsOneProbePerStep: once a call has failed through its
// retries, a hundred callers cost the API one request per backoff step,
// the key's other organizations are not held back, and a success ends it.
func TestOutageCostsOneProbePerStep(t *testing.T) {
	g := NewWithT(t)
	api := &downAPI{byOrg: map[string]int{}}
	f := fakeapi.Start(t, api.serve)
	reg := prometheus.NewRegistry()
	c := newClient(t, f, func(cfg *Config) {
		cfg.OutageBackoffBase, cfg.OutageBackoffCap = 50*time.Millisecond, 200*time.Millisecond
		cfg.Registerer = reg
	})
	ctx := context.Background()

	start := time.Now()
	_, err := c.GetEndpoint(ctx, testCred, "ep_1")
	g.Expect(KindOf(err)).To(Equal(KindTransient))
	g.Expect(IsUnavailable(err)).To(BeTrue(), "it opened the outage: %v", err)
	g.Expect(api.hits(testOrg)).To(Equal(5), "the first call and its 4 retries")
	g.Expect(testutil.ToFloat64(c.metrics.outage.WithLabelValues(testOrg))).To(Equal(1.0))
	since, answer := err.(*Error).Since, err.(*Error).LastAnswer
	g.Expect(since).To(BeTemporally(">=", start))

	_, err = c.GetEndpoint(ctx, testCred, "ep_1")
	e, _ := errors.AsType[*Error](err)
	g.Expect(e.NotSent).To(BeTrue())
	g.Expect(e.Kind).To(Equal(KindTransient))
	g.Expect(e.Code).To(Equal(CodeUnavailable))
	g.Expect(e.Since).To(Equal(since))
	g.Expect(e.RetryAt).To(BeTemporally(">", since))
	g.Expect(e.LastAnswer).To(HavePrefix("krosai getEndpoint: 5"), "the refusal says how the API failed")
	g.Expect(e.LastAnswer).To(Equal(answer))
	g.Expect(e.Error()).To(ContainSubstring("; last answer: "+answer+")"), "logged with the refusal")
	g.Expect(IsTerminal(err)).To(BeFalse())

	const window = time.Second
	var wg sync.WaitGroup
	var calls atomic.Int64
	for range 100 {
		wg.Go(func() {
			for time.Since(start) < window {
				_, _ = c.GetEndpoint(ctx, testCred, "ep_1")
				calls.Add(1)
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	probes := api.hits(testOrg) - 5
	t.Logf("%d calls in %s sent %d probes", calls.Load(), window, probes)
	// Steps of ~50, 100, 200, 200... ms: some 6 in a second. Each sends
	// one request; 12 leaves room for a slow machine, not for retries.
	g.Expect(probes).To(And(BeNumerically(">=", 2), BeNumerically("<=", 12)))
	g.Expect(calls.Load()).To(BeNumerically(">", 1000))
	g.Expect(testutil.ToFloat64(c.metrics.refusals.WithLabelValues(opGet, refusedUnavailable))).To(BeNumerically(">", 1000))

	other := Credentials{APIKey: testKey, OrganizationID: "another-org"}
	_, err = c.GetEndpoint(ctx, other, "ep_1")
	g.Expect(err).To(HaveOccurred())
	g.Expect(api.hits("another-org")).To(Equal(5), "another organization of the key is sent, with its retries")

	api.up.Store(true)
	g.Eventually(func() error { _, err := c.GetEndpoint(ctx, testCred, "ep_1"); return err }).
		WithTimeout(2 * time.Second).WithPolling(10 * time.Millisecond).Should(Succeed())
	before := api.hits(testOrg)
	for range 10 {
		_, err := c.GetEndpoint(ctx, testCred, "ep_1")
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(api.hits(testOrg)).To(Equal(before+10), "a success ends the outage")
	g.Expect(testutil.ToFloat64(c.metrics.outage.WithLabelValues(testOrg))).To(Equal(0.0))
}

// TestACreateFailingOn5xxStartsAnOutage: a POST is never retried once sent,
// so its one 5xx is enough; the next create is refused unsent.
func TestACreateFailingOn5xxStartsAnOutage(t *testing.T) {
	g := NewWithT(t)
	api := &downAPI{byOrg: map[string]int{}}
	f := fakeapi.Start(t, api.serve)
	c := newClient(t, f, func(cfg *Config) { cfg.OutageBackoffBase = time.Minute })
	in := EndpointCreate{Name: "n", Type: TypeWebhook, URL: "https://example.com/hook"}
	_, err := c.CreateEndpoint(context.Background(), testCred, in)
	g.Expect(KindOf(err)).To(Equal(KindOutcomeUnknown))
	g.Expect(IsUnavailable(err)).To(BeTrue())
	_, err = c.CreateEndpoint(context.Background(), testCred, in)
	g.Expect(IsUnavailable(err)).To(BeTrue())
	g.Expect(KindOf(err)).To(Equal(KindTransient), "refused unsent: nothing was created")
	g.Expect(api.hits(testOrg)).To(Equal(1))
}

// TestClientErrorsAreNoOutage: a 4xx says the API is serving.
func TestClientErrorsAreNoOutage(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		fakeapi.WriteError(w, http.StatusNotFound, CodeEndpointNotFound, "Endpoint not found")
	})
	c := newClient(t, f)
	for range 10 {
		_, err := c.GetEndpoint(context.Background(), testCred, "ep_1")
		g.Expect(IsNotFound(err)).To(BeTrue())
		g.Expect(IsUnavailable(err)).To(BeFalse())
	}
	g.Expect(f.Hits()).To(Equal(10))
}

// TestConcurrentCallersDoNotEachRetryAnOutage: a hundred callers meeting an
// outage together cost about one request each, not each its retries: as
// many failures in a row as one call's retries start the outage.
func TestConcurrentCallersDoNotEachRetryAnOutage(t *testing.T) {
	g := NewWithT(t)
	api := &downAPI{byOrg: map[string]int{}}
	f := fakeapi.Start(t, api.serve)
	c := newClient(t, f, func(cfg *Config) {
		cfg.BackoffBase = 200 * time.Millisecond // the default: retries outlast the first wave
		cfg.OutageBackoffBase, cfg.OutageBackoffCap = time.Minute, time.Minute
	})
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			_, err := c.GetEndpoint(context.Background(), testCred, "ep_1")
			g.Expect(KindOf(err)).To(Equal(KindTransient))
		})
	}
	wg.Wait()
	t.Logf("100 concurrent callers sent %d requests", api.hits(testOrg))
	// Each caller's first request, less those refused once the outage
	// began; retries by every caller would be 500.
	g.Expect(api.hits(testOrg)).To(BeNumerically("<=", 100+5))
}
