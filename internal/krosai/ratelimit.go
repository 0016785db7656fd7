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
	"encoding/json"
	"fmt"
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

// keyState is what all calls made with one API key share: the client's own
// token bucket, a pause ordered by a 429, the pace read from the API's
// X-RateLimit-* headers, the day's count, and the outages by organization.
type keyState struct {
	limiter *rate.Limiter

	mu sync.Mutex
	// A 429 pauses the key for every caller: sending before pausedUntil
	// would only be refused again, and would spend the key's other users'
	// budget. pauseCode is the 429's code, pauseOrg its organization.
	pausedUntil time.Time
	pauseCode   string
	// sent numbers the requests sent with the key; seen is the newest
	// figures read, from the response to request seenSeq, at seenAt.
	sent, seenSeq uint64
	seen          rateLimit
	seenAt        time.Time
	// day is the UTC midnight usedToday counts from; learnedQuota is the
	// daily quota the headers told, 0 if none did.
	day          time.Time
	usedToday    int
	learnedQuota int
	// outages holds the organizations the API has been failing for, and
	// failuresInARow the outage failures since each one's last answer.
	outages        map[string]*outage
	failuresInARow map[string]int
}

// hold is why a request must wait before it is sent, and for how long.
type hold struct {
	until   time.Time
	wait    time.Duration
	code    string
	message string
}

// Reasons of krosai_client_refused_total.
const (
	refusedRateLimited = "rate_limited"
	refusedDailyLimit  = "daily_limit"
	refusedUnavailable = "unavailable"
)

// acquire waits until a request with this key may be sent, and counts it
// as sent. A wait longer than maxWait or the context's deadline is not
// waited: the call is refused, unsent, as KindRateLimited.
func (s *keyState) acquire(ctx context.Context, op string, maxWait time.Duration) (waited time.Duration, seq uint64, refused *Error) {
	start := time.Now()
	bucketed := false
	for {
		s.mu.Lock()
		now := time.Now()
		h := s.holdLocked(now)
		if h.wait <= 0 && bucketed {
			s.sent++
			s.countLocked(now)
			seq = s.sent
			s.mu.Unlock()
			return time.Since(start), seq, nil
		}
		s.mu.Unlock()
		var err error
		switch {
		case h.wait > 0 && (h.wait > maxWait || !fitsDeadline(ctx, h.wait)):
			return time.Since(start), 0, &Error{Kind: KindRateLimited, Op: op, Code: h.code, Message: h.message,
				RetryAfter: h.wait, RetryAt: h.until, NotSent: true}
		case h.wait > 0:
			err = sleep(ctx, h.wait)
		default:
			// The client's own bucket comes after the holds, so that a
			// refused call does not queue on it first; the holds are
			// checked again after it.
			err = s.limiter.Wait(ctx)
			bucketed = true
		}
		if err != nil {
			return time.Since(start), 0, &Error{Kind: KindTransient, Op: op, Err: err, NotSent: true}
		}
	}
}

// reserveShare is the share of X-RateLimit-Limit left to the key's other
// users: the client holds its requests back when no more than a fifth of
// the window (rounded down) would remain.
const reserveShare = 5

// dailyWindow is how far ahead an X-RateLimit-Reset must be for its figures
// to describe a daily quota rather than a per-second limit.
const dailyWindow = time.Hour

// holdLocked says how long a request sent at now must wait: until a 429's
// pause ends, or until the API's figures, less the requests sent since they
// were read, leave more than the reserve.
//
// The figures are read as a token bucket (the simulator's: reset is when it
// is full again, refilling at (limit-remaining)/(reset-seen) per second) or
// as a fixed window (reset is the window's end). Both are served by one
// rule: refill at that rate, and count everything refilled at reset. A
// daily window is never taken to refill before its reset.
func (s *keyState) holdLocked(now time.Time) hold {
	if now.Before(s.pausedUntil) {
		return hold{until: s.pausedUntil, wait: s.pausedUntil.Sub(now), code: s.pauseCode,
			message: "the key is paused by a 429 until " + s.pausedUntil.UTC().Format(time.RFC3339)}
	}
	f := s.seen
	// Figures past their reset say nothing any more, and only a request
	// sent brings new ones: holding on them would hold forever.
	if s.seenAt.IsZero() || f.limit <= 0 || f.remaining < 0 || f.remaining > f.limit || !now.Before(f.reset) {
		return hold{}
	}
	// A fifth of the window, rounded down: a limit below 5 keeps no
	// reserve, or the client could never send at all.
	reserve := f.limit / reserveShare
	sinceSeen := float64(s.sent - s.seenSeq) // in flight when read, or sent since: not in remaining
	window := f.reset.Sub(s.seenAt)
	daily := window > dailyWindow
	var perSecond float64
	estimate := float64(f.remaining) - sinceSeen
	if !daily && window > 0 {
		perSecond = float64(f.limit-f.remaining) / window.Seconds()
		estimate = min(estimate+perSecond*now.Sub(s.seenAt).Seconds(), float64(f.limit)-sinceSeen)
	}
	need := float64(reserve+1) - estimate
	if need <= 0 {
		return hold{}
	}
	wait := f.reset.Sub(now)
	if perSecond > 0 {
		wait = min(wait, time.Duration(need/perSecond*float64(time.Second)))
	}
	wait = max(wait, time.Millisecond)
	h := hold{until: now.Add(wait), wait: wait, code: CodeRateLimitExceeded,
		message: fmt.Sprintf("keeping %d of the key's %d requests for its other users", reserve, f.limit)}
	if daily {
		h.code = CodeDailyLimitExceeded
		h.message = fmt.Sprintf("keeping %d of the key's %d daily requests for its other users", reserve, f.limit)
	}
	return h
}

// countLocked counts a request sent at now in the day's use.
func (s *keyState) countLocked(now time.Time) {
	if day := now.UTC().Truncate(24 * time.Hour); !day.Equal(s.day) {
		s.day, s.usedToday = day, 0
	}
	s.usedToday++
}

// observe keeps the figures read at now from the response to request seq,
// unless a later request's are kept already, and learns a daily quota from
// them.
func (s *keyState) observe(seq uint64, f rateLimit, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.reset.Sub(now) > dailyWindow && f.limit > 0 {
		s.learnedQuota = f.limit
	}
	if seq >= s.seenSeq {
		s.seen, s.seenSeq, s.seenAt = f, seq, now
	}
}

// pause holds every request with this key until e.RetryAt, e being a 429
// received with figures f (if hasFigures), and returns whether it
// lengthened the pause.
func (s *keyState) pause(e *Error, f rateLimit, hasFigures bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Code == CodeDailyLimitExceeded && hasFigures && f.limit > 0 {
		s.learnedQuota = f.limit
	}
	if !e.RetryAt.After(s.pausedUntil) {
		return false
	}
	s.pausedUntil, s.pauseCode = e.RetryAt, cmp.Or(e.Code, CodeRateLimitExceeded)
	return true
}

// pausedTill reports whether the key's pause still ends at until, for the
// metric that clears when it ends.
func (s *keyState) pausedTill(until time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pausedUntil.Equal(until)
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

// maxRateLimitPause bounds the pause of a 429 other than the daily limit's.
// The API's rate windows are a second long (api-facts.md: "Retry-After:
// 1.5"), so a longer wait is a broken or hostile answer, or a limit lifted
// since: the key is held that long, and then one request finds out, rather
// than the key stopping for as long as the answer says (up to maxWait).
const maxRateLimitPause = 30 * time.Second

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
