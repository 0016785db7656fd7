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
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/krosai/kros-operator/pkg/krosaisim"
)

// rateHeaders reads the X-RateLimit-* headers, failing if one is missing.
func rateHeaders(t *testing.T, r response) (limit, remaining int, reset int64) {
	t.Helper()
	number := func(name string) int64 {
		n, err := strconv.ParseInt(r.header.Get(name), 10, 64)
		if err != nil {
			t.Fatalf("%s %q: %v", name, r.header.Get(name), err)
		}
		return n
	}
	return int(number("X-RateLimit-Limit")), int(number("X-RateLimit-Remaining")), number("X-RateLimit-Reset")
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{RateLimit: 1, Burst: 3}})
	start := time.Now()
	for want := 2; want >= 0; want-- {
		r := e.request(http.MethodGet, endpointsPath, nil, nil)
		wantStatus(t, r, 200)
		limit, remaining, reset := rateHeaders(t, r)
		if limit != 3 || remaining != want || reset < start.Unix() || reset > start.Add(5*time.Second).Unix() {
			t.Errorf("limit %d remaining %d reset %d, want 3, %d and a reset within seconds", limit, remaining, reset, want)
		}
	}

	r := e.request(http.MethodGet, endpointsPath, nil, nil)
	wantStatus(t, r, 429)
	retryAfter := r.header.Get("Retry-After")
	seconds, err := strconv.ParseFloat(retryAfter, 64)
	if err != nil || seconds <= 0 || seconds > 1 || !regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`).MatchString(retryAfter) {
		t.Errorf("Retry-After %q: want fractional seconds in (0, 1], to the hundredth", retryAfter)
	}
	want := fmt.Sprintf(`{"error":"Rate limit exceeded","code":"RATE_LIMIT_EXCEEDED","retry_after":%s}`, retryAfter)
	if got := strings.TrimSpace(string(r.body)); got != want {
		t.Errorf("body %s, want %s", got, want)
	}
	if _, remaining, _ := rateHeaders(t, r); remaining != 0 {
		t.Errorf("remaining %d on a 429", remaining)
	}

	// Budgets are per key.
	wantStatus(t, e.request(http.MethodGet, endpointsPath, nil, asKey(keyB)), 200)

	if got := e.sim.Stats().Count("listEndpoints", 429); got != 1 {
		t.Errorf("stats count %d 429s, want 1", got)
	}
}

func TestRateLimitRecoversAfterRetryAfter(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{RateLimit: 20}}) // burst defaults to 20
	var r response
	for range 100 { // 21 should do, unless the machine is slow enough to refill the bucket
		if r = e.request(http.MethodGet, endpointsPath, nil, nil); r.status == 429 {
			break
		}
	}
	wantStatus(t, r, 429)
	seconds, err := strconv.ParseFloat(r.header.Get("Retry-After"), 64)
	if err != nil || seconds > 0.05 {
		t.Fatalf("Retry-After %q at 20/s", r.header.Get("Retry-After"))
	}
	time.Sleep(time.Duration(seconds * float64(time.Second)))
	wantStatus(t, e.request(http.MethodGet, endpointsPath, nil, nil), 200)
}

func TestDailyLimit(t *testing.T) {
	e := newEnv(t, krosaisim.Options{Faults: krosaisim.Faults{DailyLimit: 2}})
	for want := 1; want >= 0; want-- {
		r := e.request(http.MethodGet, endpointsPath, nil, nil)
		wantStatus(t, r, 200)
		if limit, remaining, _ := rateHeaders(t, r); limit != 2 || remaining != want {
			t.Errorf("limit %d remaining %d, want 2 and %d", limit, remaining, want)
		}
	}
	r := e.request(http.MethodGet, endpointsPath, nil, nil)
	wantStatus(t, r, 429)
	body := r.error(t)
	midnight := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	seconds, err := strconv.ParseFloat(r.header.Get("Retry-After"), 64)
	if err != nil || math.Abs(seconds-time.Until(midnight).Seconds()) > 5 || body.RetryAfter != seconds {
		t.Errorf("Retry-After %q retry_after %v, want the %v until UTC midnight", r.header.Get("Retry-After"), body.RetryAfter, time.Until(midnight))
	}
	if body.Code != "DAILY_LIMIT_EXCEEDED" {
		t.Errorf("code %q", body.Code)
	}
	if _, _, reset := rateHeaders(t, r); reset != midnight.Unix() {
		t.Errorf("reset %d, want UTC midnight %d", reset, midnight.Unix())
	}
	wantStatus(t, e.request(http.MethodGet, endpointsPath, nil, asKey(keyB)), 200)
}

func TestRateLimitHeadersWhenUnlimited(t *testing.T) {
	e := newEnv(t, krosaisim.Options{})
	for _, r := range []response{
		e.request(http.MethodGet, endpointsPath, nil, nil),
		e.request(http.MethodGet, endpointsPath, nil, noKey()),
		e.request(http.MethodGet, "/v1/nothing", nil, nil),
	} {
		// Whatever the numbers, never a remaining 0 that would make a client wait.
		if limit, remaining, _ := rateHeaders(t, r); limit <= 0 || remaining <= 0 {
			t.Errorf("limit %d remaining %d on a %d", limit, remaining, r.status)
		}
	}
}
