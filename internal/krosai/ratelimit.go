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
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimit is the API's rate-limit figures in one response, which the
// client's metrics report.
type rateLimit struct {
	// limit is X-RateLimit-Limit: requests allowed per window.
	limit int
	// remaining is X-RateLimit-Remaining.
	remaining int
	// reset is X-RateLimit-Reset: when the window resets.
	reset time.Time
}

// keyState is what the Client shares between all calls made with one API key.
type keyState struct {
	limiter *rate.Limiter

	mu          sync.Mutex
	pausedUntil time.Time // set by a 429: no request with this key before then
}

// wait blocks until a request may be sent with this key, and returns how long
// it waited.
func (s *keyState) wait(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	for {
		s.mu.Lock()
		paused := time.Until(s.pausedUntil) // a 429 may extend it while we sleep
		s.mu.Unlock()
		if paused <= 0 {
			break
		}
		if err := sleep(ctx, paused); err != nil {
			return time.Since(start), err
		}
	}
	err := s.limiter.Wait(ctx)
	return time.Since(start), err
}

// pause holds every request with this key for d: they would all be refused.
func (s *keyState) pause(d time.Duration) {
	until := time.Now().Add(d)
	s.mu.Lock()
	if until.After(s.pausedUntil) {
		s.pausedUntil = until
	}
	s.mu.Unlock()
}

// readRateLimit reads the rate-limit figures of a response, if it has them all.
func readRateLimit(h http.Header) (rateLimit, bool) {
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, ok := unixTime(h.Get("X-RateLimit-Reset"))
	if err1 != nil || err2 != nil || !ok {
		return rateLimit{}, false
	}
	return rateLimit{limit: limit, remaining: remaining, reset: reset}, true
}

// defaultRetryAfter is the wait after a 429 that gives no hint.
const defaultRetryAfter = time.Second

// retryAfter is how long a 429 asks to wait: its Retry-After header (seconds,
// fractional allowed, or an HTTP date), else the retry_after of its body, else
// until X-RateLimit-Reset, else defaultRetryAfter.
func retryAfter(h http.Header, body []byte, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
			return seconds(f)
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return seconds(t.Sub(now).Seconds())
		}
	}
	var e apiError
	if json.Unmarshal(body, &e) == nil && e.RetryAfter > 0 {
		return seconds(e.RetryAfter)
	}
	if t, ok := unixTime(h.Get("X-RateLimit-Reset")); ok && t.After(now) {
		return seconds(t.Sub(now).Seconds())
	}
	return defaultRetryAfter
}

// maxWait bounds any wait read from a response, so a broken or hostile value
// cannot overflow a Duration.
const maxWait = 24 * time.Hour

// seconds converts non-negative seconds to a Duration of at most maxWait.
func seconds(f float64) time.Duration {
	return time.Duration(math.Min(f, maxWait.Seconds()) * float64(time.Second))
}

// unixTime parses Unix seconds, fractional allowed.
func unixTime(v string) (time.Time, bool) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0 && f < 1<<40) { // also rejects NaN
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
