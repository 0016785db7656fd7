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

package krosaisim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// unlimited is what the rate limit headers report when no limit applies: a
// large number, because a remaining count of 0 would tell a client to wait.
const unlimited = 1_000_000

// rateHeaders are the X-RateLimit-* headers every API response carries.
type rateHeaders struct {
	limit, remaining int
	reset            time.Time
}

func (h rateHeaders) write(header http.Header) {
	header.Set("X-RateLimit-Limit", strconv.Itoa(h.limit))
	header.Set("X-RateLimit-Remaining", strconv.Itoa(h.remaining))
	// Round up: a client waiting until the reset second must find the budget there.
	header.Set("X-RateLimit-Reset", strconv.FormatInt(h.reset.Add(time.Second-1).Unix(), 10))
}

// limiter holds each key's budgets: a token bucket of perSecond requests
// with bursts of burst, and a count of requests per UTC day. Another system
// may share every key, spending shared requests per second of its budgets.
type limiter struct {
	mu        sync.Mutex
	perSecond float64
	burst     int
	daily     int
	shared    float64
	keys      map[string]*budget
	// The other system's requests, sent and refused with a 429, since start
	// or Reset.
	sharedSent, sharedRefused int
}

type budget struct {
	bucket *rate.Limiter // nil when there is no per-second limit
	day    time.Time     // the UTC midnight that used counts from
	used   int
	// sharedNext is when the other system sends its next request with the
	// key. It is sent lazily, when the key is next used or the stats read:
	// a virtual consumer needs no goroutine to start, stop or leak.
	sharedNext time.Time
}

func newLimiter() *limiter { return &limiter{keys: map[string]*budget{}} }

// configure sets the limits and starts every key's budget afresh.
func (l *limiter) configure(perSecond float64, burst, daily int, shared float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if perSecond > 0 && burst == 0 {
		burst = int(math.Ceil(perSecond))
	}
	l.perSecond, l.burst, l.daily, l.shared = perSecond, burst, daily, shared
	l.keys = map[string]*budget{}
}

// take spends one request of key's budgets at t, or returns the 429 to answer.
func (l *limiter) take(key string, t time.Time) (rateHeaders, *apiError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.keys[key]
	if b == nil {
		b = &budget{}
		if l.perSecond > 0 {
			b.bucket = rate.NewLimiter(rate.Limit(l.perSecond), l.burst)
		}
		l.keys[key] = b
	}
	l.catchUpLocked(b, t)
	return l.spendLocked(b, t)
}

// catchUpLocked sends the other system's requests with b due by t, in
// order, so that the bucket sees them at their own times.
func (l *limiter) catchUpLocked(b *budget, t time.Time) {
	if l.shared <= 0 {
		return
	}
	every := time.Duration(float64(time.Second) / l.shared)
	if b.sharedNext.IsZero() {
		b.sharedNext = t.Add(every) // from the key's first use on
	}
	for ; !b.sharedNext.After(t); b.sharedNext = b.sharedNext.Add(every) {
		l.sharedSent++
		if _, refused := l.spendLocked(b, b.sharedNext); refused != nil {
			l.sharedRefused++
		}
	}
}

// sharedCounts catches every key up to t and returns the other system's
// counts.
func (l *limiter) sharedCounts(t time.Time) (sent, refused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.keys {
		l.catchUpLocked(b, t)
	}
	return l.sharedSent, l.sharedRefused
}

// resetShared forgets the other system's counts.
func (l *limiter) resetShared() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sharedSent, l.sharedRefused = 0, 0
}

// spendLocked spends one request of b's budgets at t, or returns the 429.
func (l *limiter) spendLocked(b *budget, t time.Time) (rateHeaders, *apiError) {
	midnight := t.UTC().Truncate(24 * time.Hour)
	if !b.day.Equal(midnight) {
		b.day, b.used = midnight, 0
	}
	if l.daily > 0 && b.used >= l.daily {
		next := midnight.Add(24 * time.Hour)
		return rateHeaders{l.daily, 0, next}, tooManyRequests("DAILY_LIMIT_EXCEEDED", "Daily request limit exceeded", next.Sub(t))
	}
	if b.bucket != nil && !b.bucket.AllowN(t, 1) {
		wait := time.Duration((1 - b.bucket.TokensAt(t)) / l.perSecond * float64(time.Second))
		return l.headers(b, t), tooManyRequests("RATE_LIMIT_EXCEEDED", "Rate limit exceeded", wait)
	}
	b.used++
	return l.headers(b, t), nil
}

// headers describes the tightest budget: the bucket if there is one, else
// the day's count.
func (l *limiter) headers(b *budget, t time.Time) rateHeaders {
	switch {
	case b.bucket != nil:
		tokens := max(b.bucket.TokensAt(t), 0)
		untilFull := time.Duration((float64(l.burst) - tokens) / l.perSecond * float64(time.Second))
		return rateHeaders{l.burst, int(tokens), t.Add(untilFull)}
	case l.daily > 0:
		return rateHeaders{l.daily, l.daily - b.used, b.day.Add(24 * time.Hour)}
	}
	return rateHeaders{unlimited, unlimited, t}
}

// nominal describes a full budget, for answers to requests without a valid key.
func (l *limiter) nominal(t time.Time) rateHeaders {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.perSecond > 0:
		return rateHeaders{l.burst, l.burst, t}
	case l.daily > 0:
		return rateHeaders{l.daily, l.daily, t.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)}
	}
	return rateHeaders{unlimited, unlimited, t}
}

// tooManyRequests is the vendor's 429: retry_after in fractional seconds,
// rounded up to the hundredth so that waiting that long is enough.
func tooManyRequests(code, message string, wait time.Duration) *apiError {
	const hundredth = 10 * time.Millisecond
	hundredths := max((wait+hundredth-1)/hundredth, 1)
	return &apiError{
		status:     http.StatusTooManyRequests,
		Message:    message,
		Code:       code,
		RetryAfter: float64(hundredths) / 100,
	}
}
