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
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind says what a caller should do about an error.
type Kind int

const (
	// KindUnknown is the Kind of nil and of errors not from this package.
	KindUnknown Kind = iota
	// KindTransient is a 5xx, a network error or a timeout, already retried
	// where that was safe: retry later with backoff.
	KindTransient
	// KindOutcomeUnknown is a create that may or may not have happened: the
	// POST may have reached the server before the failure. Find out by
	// listing before creating again.
	KindOutcomeUnknown
	// KindRateLimited is a 429 the client gave up waiting on: retry after
	// Error.RetryAfter.
	KindRateLimited
	// KindNotFound is a 404.
	KindNotFound
	// KindUnauthorized is a 401: the key is invalid or missing. Terminal.
	KindUnauthorized
	// KindForbidden is a 403: the key lacks a scope, has expired or is not
	// allowed from this IP. Terminal.
	KindForbidden
	// KindInvalid is a 400, a 422 or another 4xx the API will refuse again
	// unchanged. Terminal.
	KindInvalid
)

const (
	// CodeEndpointNotFound is the API's code for a 404 about an endpoint id,
	// as opposed to a path it does not serve.
	CodeEndpointNotFound = "ENDPOINT_NOT_FOUND"
	// CodeRateLimitExceeded is the API's code for a 429 over the per-second
	// limit; the client also gives it to the calls it holds back to keep
	// within that limit.
	CodeRateLimitExceeded = "RATE_LIMIT_EXCEEDED"
	// CodeDailyLimitExceeded is the API's code for a 429 over the daily
	// quota: no request with the key succeeds before Error.RetryAt.
	CodeDailyLimitExceeded = "DAILY_LIMIT_EXCEEDED"
	// CodeUnavailable is not an API code: the client gives it to the calls
	// it refuses, unsent, while the API has been failing for a key and
	// organization (see IsUnavailable).
	CodeUnavailable = "KROSAI_UNAVAILABLE"
)

var kindNames = [...]string{"Unknown", "Transient", "OutcomeUnknown", "RateLimited", "NotFound", "Unauthorized", "Forbidden", "Invalid"}

// String names the Kind, as in "RateLimited".
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Error is every error the client returns. Its string never holds the API
// key, a password or a request body.
type Error struct {
	Kind Kind
	// Op is the API's operationId, such as createEndpoint.
	Op string
	// StatusCode is the HTTP status, or 0 when no response was read.
	StatusCode int
	// Code is the API's machine-readable code, such as ENDPOINT_NOT_FOUND.
	Code string
	// Message is the API's human-readable error, or a short printable summary
	// of a body that was not the API's JSON error.
	Message string
	// RetryAfter is how long a KindRateLimited error asks the caller to wait.
	RetryAfter time.Duration
	// RetryAt is when a retry may succeed: set on every KindRateLimited
	// error and on the refusals of an outage (the next probe). Absolute, so
	// that a caller can requeue at it and say when work resumes.
	RetryAt time.Time
	// Since is when the key and organization started failing, on the
	// errors of an outage (IsUnavailable).
	Since time.Time
	// LastAnswer is, on the errors of an outage, how the API last failed
	// (this error's own text, or that of the probe before a refusal), safe to
	// show: so that a caller refused unsent can still say what is wrong.
	LastAnswer string
	// NotSent says the client refused the call without sending a request:
	// the key is paused by a 429, its budget is spent, or the API is
	// unavailable.
	NotSent bool
	// Err is the underlying network or decoding error, if any.
	Err error
}

// Error reads like "krosai createEndpoint: 401 UNAUTHORIZED: Invalid API key".
func (e *Error) Error() string {
	parts := []string{"krosai " + e.Op}
	if e.Kind == KindOutcomeUnknown {
		parts = append(parts, "outcome unknown")
	}
	if e.StatusCode != 0 {
		code := e.Code
		if code == "" {
			code = http.StatusText(e.StatusCode)
		}
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("%d %s", e.StatusCode, code)))
	}
	if e.StatusCode == 0 && e.Code != "" {
		parts = append(parts, e.Code)
	}
	if e.NotSent {
		parts = append(parts, "not sent")
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	if e.Err != nil {
		parts = append(parts, e.Err.Error())
	}
	s := strings.Join(parts, ": ")
	switch {
	case !e.Since.IsZero():
		s += " (unavailable since " + e.Since.UTC().Format(time.RFC3339)
		if e.NotSent && e.LastAnswer != "" { // a sent error's own text is its answer
			s += "; last answer: " + e.LastAnswer
		}
		s += ")"
	case e.Kind == KindRateLimited:
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Unwrap returns the underlying error, so errors.Is(err, context.Canceled)
// works.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, or KindUnknown if err is not from this
// package.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return KindUnknown
}

// IsNotFound reports a 404.
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }

// IsTerminal reports an error that retrying the same request cannot fix: a
// rejected key (401, 403) or a rejected request (400, 422).
func IsTerminal(err error) bool {
	switch KindOf(err) {
	case KindUnauthorized, KindForbidden, KindInvalid:
		return true
	}
	return false
}

// RetryAfterOf returns the wait a rate-limited error asks for.
func RetryAfterOf(err error) (time.Duration, bool) {
	if e, ok := errors.AsType[*Error](err); ok && e.Kind == KindRateLimited {
		return e.RetryAfter, true
	}
	return 0, false
}

// RetryAtOf returns when a rate-limited call, or one refused during an
// outage, may be tried again.
func RetryAtOf(err error) (time.Time, bool) {
	if e, ok := errors.AsType[*Error](err); ok && !e.RetryAt.IsZero() {
		return e.RetryAt, true
	}
	return time.Time{}, false
}

// IsDailyLimit reports that the key's daily quota is spent, whether the API
// said so or the client, knowing it, did not ask: retry at RetryAtOf.
func IsDailyLimit(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Kind == KindRateLimited && e.Code == CodeDailyLimitExceeded
}

// IsUnavailable reports that the API has been failing for the call's key and
// organization: the client refused the call, or the call was the one probe
// and failed too. Error.Since says since when, RetryAtOf when the next probe
// goes.
func IsUnavailable(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && !e.Since.IsZero()
}

// maxMessage bounds what an error repeats of a response body.
const maxMessage = 200

// summarize makes a body or an API message safe to put in an error: printable,
// on one line, without the given secrets, and at most maxMessage bytes.
func summarize(s string, secrets []string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsPrint(r):
			return r
		}
		return -1
	}, strings.ToValidUTF8(s, ""))
	// Redact after stripping, which could otherwise join a split secret.
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxMessage {
		cut := maxMessage
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}
