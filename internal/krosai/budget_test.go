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
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/krosai/kros-operator/pkg/krosaisim"
	"github.com/krosai/kros-operator/test/fakeapi"
)

// simClient serves a simulator with faults and returns it with a Client
// that has the defaults but for BaseURL and whatever mutate changes.
func simClient(t *testing.T, faults krosaisim.Faults, mutate ...func(*Config)) (*Client, *krosaisim.Simulator) {
	t.Helper()
	sim, err := krosaisim.NewSimulator(krosaisim.Options{Keys: []krosaisim.APIKey{{Key: testKey, Org: testOrg}}, Faults: faults, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	api := sim.Handler()
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, r *http.Request) { api.ServeHTTP(w, r) })
	t.Cleanup(func() { _ = sim.Close() })
	cfg := Config{BaseURL: f.URL + "/v1"}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, sim
}

// concurrently runs call n times from workers goroutines.
func concurrently(workers, n int, call func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				call(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// TestDefaultBurstFitsTheFreePlan: the defaults alone, on a key nothing
// else uses, never draw a 429 from the Free plan's 10 req/s (a burst of 16
// drew 5.6 % of them).
func TestDefaultBurstFitsTheFreePlan(t *testing.T) {
	g := NewWithT(t)
	c, sim := simClient(t, krosaisim.Faults{RateLimit: 10, Burst: 10})
	concurrently(16, 300, func(i int) {
		_, err := c.GetEndpoint(context.Background(), testCred, fmt.Sprintf("missing-%d", i))
		g.Expect(IsNotFound(err)).To(BeTrue(), "%v", err)
	})
	g.Expect(sim.Stats().Count(opGet, http.StatusTooManyRequests)).To(BeZero())
	g.Expect(sim.Stats().Count(opGet, http.StatusNotFound)).To(Equal(300))
}

// spendDailyQuota sends n requests with the test key straight to the
// simulator, as the key's other users would.
func spendDailyQuota(t *testing.T, sim *krosaisim.Simulator, n int) {
	t.Helper()
	for range n {
		req := httptest.NewRequest(http.MethodGet, "/v1/endpoints", nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		rec := httptest.NewRecorder()
		sim.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("spending the quota: %d %s", rec.Code, rec.Body)
		}
	}
}

// TestDailyLimitStopsTheKey: once the API says the day's quota is spent,
// no caller sends another request with the key before the reset it gave,
// and every one is told so, with the same time.
func TestDailyLimitStopsTheKey(t *testing.T) {
	g := NewWithT(t)
	reg := prometheus.NewRegistry()
	c, sim := simClient(t, krosaisim.Faults{DailyLimit: 5}, func(cfg *Config) { cfg.Registerer = reg })
	spendDailyQuota(t, sim, 5)
	ctx := context.Background()

	_, err := c.GetEndpoint(ctx, testCred, "ep_1")
	g.Expect(IsDailyLimit(err)).To(BeTrue(), "%v", err)
	e, _ := errors.AsType[*Error](err)
	g.Expect(e.NotSent).To(BeFalse(), "the one request that learns it")
	g.Expect(e.Code).To(Equal(CodeDailyLimitExceeded))
	retryAt, ok := RetryAtOf(err)
	g.Expect(ok).To(BeTrue())
	midnight := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	g.Expect(retryAt).To(BeTemporally("~", midnight, 2*time.Second))
	g.Expect(sim.Stats().Requests).To(Equal(5 + 1))
	g.Expect(testutil.ToFloat64(c.metrics.pausedUntil.WithLabelValues(testOrg))).To(BeNumerically("~", float64(retryAt.Unix()), 1))

	var mu sync.Mutex
	refusedAt := map[time.Time]int{}
	concurrently(50, 50, func(i int) {
		_, err := c.UpdateEndpoint(ctx, testCred, fmt.Sprintf("ep_%d", i), EndpointUpdate{Name: new("renamed")})
		g.Expect(IsDailyLimit(err)).To(BeTrue(), "%v", err)
		g.Expect(KindOf(err)).To(Equal(KindRateLimited))
		e, _ := errors.AsType[*Error](err)
		g.Expect(e.NotSent).To(BeTrue())
		mu.Lock()
		refusedAt[e.RetryAt]++
		mu.Unlock()
	})
	g.Expect(sim.Stats().Requests).To(Equal(5+1), "no request after the first refusal")
	g.Expect(refusedAt).To(Equal(map[time.Time]int{retryAt: 50}))
	g.Expect(testutil.ToFloat64(c.metrics.refusals.WithLabelValues(opUpdate, refusedDailyLimit))).To(Equal(50.0))

	b := c.Budget(testCred)
	g.Expect(b).To(Equal(Budget{Quota: 5, Learned: true, UsedToday: 1, DayEnds: midnight}), "learned from the 429's X-RateLimit-Limit")
	withQuota := testCred
	withQuota.DailyQuota = 1000
	g.Expect(c.Budget(withQuota)).To(Equal(Budget{Quota: 1000, UsedToday: 1, DayEnds: midnight}), "configured wins")
}

// TestALongRateLimitPauseIsBounded: a 429 that asks for a day under any
// code but the daily limit's holds the key for maxRateLimitPause, then one
// request finds out; the daily limit keeps its reset.
func TestALongRateLimitPauseIsBounded(t *testing.T) {
	for _, tc := range []struct {
		code string
		want time.Duration
	}{
		{CodeRateLimitExceeded, maxRateLimitPause},
		{"", maxRateLimitPause},
		{CodeDailyLimitExceeded, 24 * time.Hour},
	} {
		t.Run(cmp.Or(tc.code, "no code"), func(t *testing.T) {
			g := NewWithT(t)
			f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "86400")
				fakeapi.WriteError(w, http.StatusTooManyRequests, tc.code, "Rate limit exceeded")
			})
			c := newClient(t, f)
			_, err := c.GetEndpoint(context.Background(), testCred, "ep_1")
			wait, _ := RetryAfterOf(err)
			g.Expect(wait).To(Equal(tc.want))
			retryAt, _ := RetryAtOf(err)
			g.Expect(retryAt).To(BeTemporally("~", time.Now().Add(tc.want), 2*time.Second))
		})
	}
}

// TestA429PausesTheKeyForEveryCaller: a 429 asking for longer than the
// client waits stops every caller with the key, unsent, until its time.
func TestA429PausesTheKeyForEveryCaller(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		fakeapi.WriteError(w, http.StatusTooManyRequests, CodeRateLimitExceeded, "Rate limit exceeded")
	})
	c := newClient(t, f)
	ctx := context.Background()
	_, err := c.GetEndpoint(ctx, testCred, "ep_1")
	retryAt, ok := RetryAtOf(err)
	g.Expect(ok).To(BeTrue())
	g.Expect(retryAt).To(BeTemporally("~", time.Now().Add(30*time.Second), 2*time.Second))
	wait, _ := RetryAfterOf(err)
	g.Expect(wait).To(Equal(30 * time.Second))

	concurrently(20, 20, func(int) {
		_, err := c.ListEndpoints(ctx, Credentials{APIKey: testKey, OrganizationID: "another-org"})
		e, ok := errors.AsType[*Error](err)
		g.Expect(ok).To(BeTrue(), "%v", err)
		g.Expect(e.Kind).To(Equal(KindRateLimited))
		g.Expect(e.NotSent).To(BeTrue())
		g.Expect(e.Code).To(Equal(CodeRateLimitExceeded))
		g.Expect(e.RetryAt).To(Equal(retryAt))
		g.Expect(IsDailyLimit(err)).To(BeFalse())
	})
	g.Expect(f.Hits()).To(Equal(1), "the key is paused for every organization")

	_, err = c.GetEndpoint(ctx, Credentials{APIKey: "kros_test_another_key_0123456789abcdef"}, "ep_1")
	g.Expect(KindOf(err)).To(Equal(KindRateLimited))
	g.Expect(f.Hits()).To(Equal(2), "another key is not paused")
}

// rateHeaders scripts a response's X-RateLimit-* headers.
func rateHeaders(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

// TestPacedByTheAPIsFigures: when X-RateLimit-Remaining leaves no more than
// the reserve, the next call waits for the refill, or, if that is longer
// than the client waits, is refused unsent, before any 429.
func TestPacedByTheAPIsFigures(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		limit, remaining       int
		resetIn                time.Duration
		wantDaily, wantLearned bool
	}{
		{name: "per-second window empty", limit: 10, remaining: 0, resetIn: time.Minute},
		{name: "within the reserve", limit: 10, remaining: 2, resetIn: time.Minute},
		{name: "daily window", limit: 1000, remaining: 150, resetIn: 5 * time.Hour, wantDaily: true, wantLearned: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			reset := time.Now().Add(tc.resetIn)
			f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				rateHeaders(w, tc.limit, tc.remaining, reset)
				fakeapi.WriteJSON(w, http.StatusOK, endpoint("ep_1"))
			})
			c := newClient(t, f)
			_, err := c.GetEndpoint(context.Background(), testCred, "ep_1")
			g.Expect(err).NotTo(HaveOccurred())
			_, err = c.GetEndpoint(context.Background(), testCred, "ep_1")
			e, ok := errors.AsType[*Error](err)
			g.Expect(ok).To(BeTrue(), "%v", err)
			g.Expect(e.Kind).To(Equal(KindRateLimited))
			g.Expect(e.NotSent).To(BeTrue())
			g.Expect(IsDailyLimit(err)).To(Equal(tc.wantDaily))
			g.Expect(e.RetryAt).To(BeTemporally(">", time.Now().Add(2*time.Second)))
			g.Expect(e.RetryAt).To(BeTemporally("<=", reset.Add(time.Second)))
			g.Expect(f.Hits()).To(Equal(1))
			g.Expect(c.Budget(testCred).Learned).To(Equal(tc.wantLearned))
		})
	}
}

// TestPacedButNotStopped: figures above the reserve let calls through.
func TestPacedButNotStopped(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		rateHeaders(w, 10, 9, time.Now().Add(time.Second))
		fakeapi.WriteJSON(w, http.StatusOK, endpoint("ep_1"))
	})
	c := newClient(t, f)
	for range 5 {
		_, err := c.GetEndpoint(context.Background(), testCred, "ep_1")
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(f.Hits()).To(Equal(5))
}

// TestATinyLimitIsPacedNotStopped: a plan whose limit is below five keeps
// no reserve, and figures past their reset hold nothing: with 4 req/s and
// bursts of 1 (a limit of 1 in the headers), every call is sent in the end.
// A reserve of at least one, or stale figures taken for current, once held
// such a key's callers forever.
func TestATinyLimitIsPacedNotStopped(t *testing.T) {
	g := NewWithT(t)
	c, _ := simClient(t, krosaisim.Faults{RateLimit: 4, Burst: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var answered atomic.Int64
	concurrently(4, 12, func(i int) {
		_, err := c.GetEndpoint(ctx, testCred, fmt.Sprintf("missing-%d", i))
		// Four callers on 4 req/s may lose a call to 429s through all its
		// retries; none may be held until its deadline.
		g.Expect(KindOf(err)).To(BeElementOf(KindNotFound, KindRateLimited), "%v", err)
		if IsNotFound(err) {
			answered.Add(1)
		}
	})
	g.Expect(ctx.Err()).NotTo(HaveOccurred())
	g.Expect(answered.Load()).To(BeNumerically(">=", 9))
}

// TestSharedKeyLeavesTheOtherUserItsShare: another system sends 5 req/s
// with the key of a 10 req/s plan; the client, at its defaults, creating as
// fast as it may, leaves it nearly every call, and draws no 429 itself.
func TestSharedKeyLeavesTheOtherUserItsShare(t *testing.T) {
	if testing.Short() {
		t.Skip("takes some 40 s")
	}
	g := NewWithT(t)
	c, sim := simClient(t, krosaisim.Faults{RateLimit: 10, Burst: 10, SharedKeyLoad: 5})
	concurrently(8, 200, func(i int) {
		_, err := c.CreateEndpoint(context.Background(), testCred,
			EndpointCreate{Name: fmt.Sprintf("ep %d", i), Type: TypeWebhook, URL: "https://example.com/hook"})
		g.Expect(err).NotTo(HaveOccurred())
	})
	st := sim.Stats()
	t.Logf("other system: %d sent, %d refused; client: %d created, %d refused",
		st.SharedKeySent, st.SharedKeyRefused, st.Count(opCreate, http.StatusCreated), st.Count(opCreate, http.StatusTooManyRequests))
	g.Expect(st.Endpoints).To(Equal(200))
	g.Expect(st.SharedKeySent).To(BeNumerically(">", 100))
	g.Expect(float64(st.SharedKeyRefused)).To(BeNumerically("<", 0.01*float64(st.SharedKeySent)))
	// Slowed before a 429, not after: without the reserve, the client drew
	// some 110 429s here (and then paused, which spared the other system).
	g.Expect(st.Count(opCreate, http.StatusTooManyRequests)).To(BeNumerically("<", 2))
}

// TestListingOneHundredEndpoints counts the pages a listing of exactly a
// page's worth costs: one where the wrapped shape's total says it is all;
// two with the bare array, which cannot say whether it is a full page of a
// longer list (see ListEndpoints).
func TestListingOneHundredEndpoints(t *testing.T) {
	for shape, pages := range map[string]int{krosaisim.ListShapeWrapped: 1, krosaisim.ListShapeArray: 2} {
		t.Run(shape, func(t *testing.T) {
			g := NewWithT(t)
			c, sim := simClient(t, krosaisim.Faults{ListShape: shape}, func(cfg *Config) { cfg.RateLimit, cfg.Burst = 1000, 1000 })
			for i := range pageSize {
				_, err := c.CreateEndpoint(context.Background(), testCred,
					EndpointCreate{Name: fmt.Sprintf("ep %d", i), Type: TypeWebhook, URL: "https://example.com/hook"})
				g.Expect(err).NotTo(HaveOccurred())
			}
			listed, err := c.ListEndpoints(context.Background(), testCred)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(listed).To(HaveLen(pageSize))
			g.Expect(sim.Stats().Count(opList, http.StatusOK)).To(Equal(pages))
		})
	}
}

// TestAShortPauseIsWaitedOutUnlessTheDeadlineComesFirst: a caller whose
// deadline falls before the pause ends is refused at once, unsent; one
// without is held until the pause ends, then sent.
func TestAShortPauseIsWaitedOutUnlessTheDeadlineComesFirst(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "0.5")
			fakeapi.WriteError(w, http.StatusTooManyRequests, CodeRateLimitExceeded, "Rate limit exceeded")
			return
		}
		fakeapi.WriteJSON(w, http.StatusOK, endpoint("ep_1"))
	})
	c := newClient(t, f, func(cfg *Config) { cfg.MaxRetries = -1 })
	_, err := c.GetEndpoint(context.Background(), testCred, "ep_1")
	retryAt, _ := RetryAtOf(err)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.GetEndpoint(ctx, testCred, "ep_1")
	e, ok := errors.AsType[*Error](err)
	g.Expect(ok).To(BeTrue(), "%v", err)
	g.Expect(e.NotSent).To(BeTrue())
	g.Expect(e.RetryAt).To(Equal(retryAt))
	g.Expect(ctx.Err()).NotTo(HaveOccurred(), "refused at once, not at the deadline")

	_, err = c.GetEndpoint(context.Background(), testCred, "ep_1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(time.Now()).To(BeTemporally(">=", retryAt))
	g.Expect(f.Hits()).To(Equal(2))
}

// TestAnExpiredContextIsNotRateLimited: a call whose context is done
// before anything holds it fails on the context, not as a 429.
func TestAnExpiredContextIsNotRateLimited(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		fakeapi.WriteJSON(w, http.StatusOK, endpoint("ep_1"))
	})
	c := newClient(t, f)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := c.GetEndpoint(ctx, testCred, "ep_1")
	g.Expect(KindOf(err)).To(Equal(KindTransient))
	g.Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue(), "%v", err)
	g.Expect(f.Hits()).To(BeZero())
}
