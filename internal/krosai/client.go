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
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// DefaultBaseURL is the production API.
const DefaultBaseURL = "https://api.krosai.com/v1"

// AuthScheme says how the API key is sent.
type AuthScheme int

const (
	// AuthBearer sends "Authorization: Bearer <key>".
	AuthBearer AuthScheme = iota
	// AuthAPIKeyHeader sends "x-api-key: <key>", the documented alternative.
	AuthAPIKeyHeader
)

// Config configures a Client. The zero value of every field means its default.
type Config struct {
	// BaseURL is the API root, without a trailing /endpoints. Default
	// DefaultBaseURL.
	BaseURL string
	// UserAgent identifies the caller, e.g. "kros-operator/v0.1.0". Default
	// "kros-operator".
	UserAgent string
	// Timeout bounds one HTTP attempt, body read included. Default 10s.
	Timeout time.Duration
	// RateLimit is the requests per second allowed per API key, shared by
	// every caller using that key on this Client. Default 8: below the Free
	// plan's 10 req/s, leaving room for the key's other users.
	RateLimit float64
	// Burst is the token bucket's size. Default 8: a burst of 16 exceeded
	// the Free plan's 10 and drew 429s from a key used by nothing else.
	Burst int
	// AuthScheme says how the key is sent. Default AuthBearer.
	AuthScheme AuthScheme
	// MaxRetries bounds the retries of one call after a 429, a 5xx, a network
	// error or a timeout. Default 4; negative means never retry.
	MaxRetries int
	// BackoffBase is the first retry's backoff, doubled at each retry and
	// jittered. Default 200ms.
	BackoffBase time.Duration
	// BackoffCap bounds every wait before a retry. A 429 asking for longer is
	// returned at once as KindRateLimited rather than holding the caller; it
	// pauses the key all the same, and calls that would wait longer for the
	// pause (or the API's budget) to end are refused unsent. Default 10s.
	BackoffCap time.Duration
	// OutageBackoffBase is the wait before the first probe once the API has
	// failed a call for a key and organization through all its retries,
	// doubled after each failed probe and jittered a little. Default 5s.
	OutageBackoffBase time.Duration
	// OutageBackoffCap bounds the wait between probes. Default 5m.
	OutageBackoffCap time.Duration
	// HTTPClient sends the requests; it is copied, and the copy never follows
	// a redirect. Default: a client with its own transport.
	HTTPClient *http.Client
	// Registerer receives the client's metrics (krosai_client_*); nil records
	// none.
	Registerer prometheus.Registerer
}

// Client calls the KrosAI API. It is safe for concurrent use; create one per
// process so that all calls with one key share its rate limit.
type Client struct {
	cfg     Config
	base    string
	http    *http.Client
	metrics *metrics

	mu   sync.Mutex
	keys map[[sha256.Size]byte]*keyState // by key hash: one bucket per key, few keys per cluster
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.Timeout < 0 || cfg.RateLimit < 0 || cfg.Burst < 0 || cfg.BackoffBase < 0 || cfg.BackoffCap < 0 ||
		cfg.OutageBackoffBase < 0 || cfg.OutageBackoffCap < 0 {
		return nil, errors.New("krosai: negative Config value")
	}
	if cfg.AuthScheme != AuthBearer && cfg.AuthScheme != AuthAPIKeyHeader {
		return nil, fmt.Errorf("krosai: unknown AuthScheme %d", cfg.AuthScheme)
	}
	cfg.BaseURL = cmp.Or(cfg.BaseURL, DefaultBaseURL)
	cfg.UserAgent = cmp.Or(cfg.UserAgent, "kros-operator")
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Second)
	cfg.RateLimit = cmp.Or(cfg.RateLimit, 8)
	cfg.Burst = cmp.Or(cfg.Burst, 8)
	cfg.MaxRetries = cmp.Or(cfg.MaxRetries, 4)
	cfg.BackoffBase = cmp.Or(cfg.BackoffBase, 200*time.Millisecond)
	cfg.BackoffCap = cmp.Or(cfg.BackoffCap, 10*time.Second)
	cfg.OutageBackoffBase = cmp.Or(cfg.OutageBackoffBase, 5*time.Second)
	cfg.OutageBackoffCap = cmp.Or(cfg.OutageBackoffCap, 5*time.Minute)

	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" ||
		base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		// Not echoed: a malformed URL may hold credentials.
		return nil, errors.New("krosai: BaseURL must be an absolute http(s) URL without credentials, query or fragment")
	}
	if base.Scheme == "http" && !isLoopback(base.Hostname()) {
		// The host is safe to name: credentials were refused above.
		return nil, fmt.Errorf("krosai: BaseURL http://%s: plain http is allowed only to a loopback host "+
			"(127.0.0.0/8, ::1, localhost), so that the API key never crosses a network in clear text; use https", base.Host)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("krosai: register metrics: %w", err)
	}

	hc := &http.Client{Transport: newTransport()}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	// Following a redirect would send the key wherever the Location says.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	return &Client{
		cfg:     cfg,
		base:    strings.TrimSuffix(base.String(), "/"),
		http:    hc,
		metrics: m,
		keys:    map[[sha256.Size]byte]*keyState{},
	}, nil
}

// isLoopback reports whether host, as url.URL.Hostname returns it, is
// localhost or a loopback address. Other names are not resolved: what a name
// resolves to can change after the check.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// The default of 2 idle connections per host would make concurrent
	// reconcilers open and close HTTP/1 connections at the bucket's rate.
	t.MaxIdleConnsPerHost = 16
	return t
}

// The API's operationIds.
const (
	opList   = "listEndpoints"
	opCreate = "createEndpoint"
	opGet    = "getEndpoint"
	opUpdate = "updateEndpoint"
	opDelete = "deleteEndpoint"
)

const (
	// pageSize is the limit asked of listEndpoints; the API's default is 50.
	pageSize = 100
	// maxPages bounds a listing, so that no server can keep it going.
	maxPages = 1000
)

// maxListBytes bounds the bodies of one listing, all pages together: the
// per-response cap alone would let a thousand pages hold gigabytes. 64 MiB is
// some 100,000 endpoints. A variable so that a test can lower it.
var maxListBytes int64 = 64 << 20

// ListEndpoints returns every endpoint of the organization. It reads either
// list shape and pages through the wrapped one.
//
// A listing is complete or an error: a caller deciding from it whether an
// endpoint exists would otherwise create a duplicate.
func (c *Client) ListEndpoints(ctx context.Context, cred Credentials) ([]Endpoint, error) {
	var all []Endpoint
	seen := map[string]bool{}
	budget := maxListBytes
	for range maxPages {
		q := url.Values{"limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(len(all))}}
		var page listPage
		var read int64
		r := request{op: opList, method: http.MethodGet, path: "/endpoints?" + q.Encode(), maxBody: min(maxBody, budget), read: &read}
		if err := c.do(ctx, cred, r, &page); err != nil {
			return nil, err
		}
		if budget -= read; budget <= 0 {
			return nil, &Error{Kind: KindTransient, Op: opList, Message: fmt.Sprintf("listing exceeds %d bytes", maxListBytes)}
		}
		fresh := 0
		for _, e := range page.items {
			if !seen[e.ID] {
				seen[e.ID] = true
				all = append(all, e)
				fresh++
			}
		}
		switch {
		case page.total >= 0 && len(all) >= page.total:
			return all, nil
		case page.total < 0 && (len(page.items) != pageSize || fresh == 0):
			// A bare array is either everything (limit ignored) or a page;
			// a short page is the last one. One of exactly pageSize costs a
			// second request: nothing in it tells a whole list of 100 from
			// the first page of a longer one, and taking it for whole could
			// hide endpoints, which the caller would then create again.
			return all, nil
		case fresh == 0:
			return nil, &Error{Kind: KindTransient, Op: opList,
				Message: fmt.Sprintf("listed %d of %d endpoints: the API returned no more", len(all), page.total)}
		}
	}
	return nil, &Error{Kind: KindTransient, Op: opList, Message: fmt.Sprintf("more than %d pages", maxPages)}
}

// CreateEndpoint creates an endpoint. It is never retried once the POST may
// have reached the server: then it fails with KindOutcomeUnknown, and the
// caller must list to learn whether the endpoint exists.
func (c *Client) CreateEndpoint(ctx context.Context, cred Credentials, in EndpointCreate) (*Endpoint, error) {
	var out Endpoint
	r := request{op: opCreate, method: http.MethodPost, path: "/endpoints", body: in, secrets: in.ProviderConfig.secrets()}
	if err := c.do(ctx, cred, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetEndpoint returns the endpoint id; a missing one is IsNotFound.
func (c *Client) GetEndpoint(ctx context.Context, cred Credentials, id string) (*Endpoint, error) {
	path, err := endpointPath(opGet, id)
	if err != nil {
		return nil, err
	}
	var out Endpoint
	if err := c.do(ctx, cred, request{op: opGet, method: http.MethodGet, path: path}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateEndpoint sends the non-nil fields of in and returns the endpoint as
// updated.
func (c *Client) UpdateEndpoint(ctx context.Context, cred Credentials, id string, in EndpointUpdate) (*Endpoint, error) {
	path, err := endpointPath(opUpdate, id)
	if err != nil {
		return nil, err
	}
	var out Endpoint
	r := request{op: opUpdate, method: http.MethodPatch, path: path, body: in, secrets: in.ProviderConfig.secrets()}
	if err := c.do(ctx, cred, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteEndpoint deletes the endpoint id. An endpoint already gone is
// success.
func (c *Client) DeleteEndpoint(ctx context.Context, cred Credentials, id string) error {
	path, err := endpointPath(opDelete, id)
	if err != nil {
		return err
	}
	if err := c.do(ctx, cred, request{op: opDelete, method: http.MethodDelete, path: path}, nil); err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

// endpointPath escapes id into the path; ids that would name another path
// are refused before anything is sent.
func endpointPath(op, id string) (string, error) {
	if id == "" || id == "." || id == ".." {
		return "", &Error{Kind: KindInvalid, Op: op, Message: fmt.Sprintf("invalid endpoint id %q", id)}
	}
	return "/endpoints/" + url.PathEscape(id), nil
}

// request is one operation, sent once or again on retry.
type request struct {
	op, method, path string
	body             any
	secrets          []string // values to keep out of error strings
	// maxBody, when set, lowers the cap on a 2xx body; read, when set,
	// receives the size of the 2xx body read.
	maxBody int64
	read    *int64

	// Set by do.
	key, org string
	payload  []byte
	bucket   *keyState
	seq      uint64 // the request's number among those sent with its key
}

// do sends r, retrying where that is safe, and decodes a 2xx body into out.
func (c *Client) do(ctx context.Context, cred Credentials, r request, out any) error {
	key := strings.TrimSpace(cred.APIKey) // a Secret written with echo ends in a newline
	if key == "" {
		return &Error{Kind: KindUnauthorized, Op: r.op, Message: "no API key"}
	}
	// Go refuses to send such a header; sending again would not help, so
	// say so rather than fail as if the network had.
	if !validHeaderValue(key) {
		return &Error{Kind: KindInvalid, Op: r.op, Message: "the API key is not a valid HTTP header value (control characters)"}
	}
	if !validHeaderValue(cred.OrganizationID) {
		return &Error{Kind: KindInvalid, Op: r.op, Message: "the organization id is not a valid HTTP header value (control characters)"}
	}
	if r.body != nil {
		var err error
		if r.payload, err = json.Marshal(r.body); err != nil {
			return &Error{Kind: KindInvalid, Op: r.op, Err: err}
		}
	}
	r.key, r.org, r.bucket = key, cred.OrganizationID, c.stateFor(key)
	r.secrets = append(r.secrets, key)
	r.secrets = append(r.secrets, cred.Redact...)
	org := cmp.Or(r.org, "default") // the metrics' label

	probe, refused := r.bucket.admit(r.org, time.Now())
	if refused != nil {
		refused.Op = r.op
		c.metrics.refused(r.op, refusedUnavailable)
		return refused
	}
	maxRetries := c.cfg.MaxRetries
	if probe {
		maxRetries = 0 // the probe is one request, whatever the caller's retries
	}
	var last *Error // the last answer, returned rather than a refusal of its retry
	for attempt := 0; ; attempt++ {
		waited, seq, refusal := r.bucket.acquire(ctx, r.op, c.cfg.BackoffCap)
		c.metrics.waited(waited)
		if refusal != nil {
			if probe {
				r.bucket.abandoned(r.org)
			}
			switch {
			case IsDailyLimit(refusal):
				c.metrics.refused(r.op, refusedDailyLimit)
			case refusal.Kind == KindRateLimited:
				c.metrics.refused(r.op, refusedRateLimited)
			}
			if last != nil {
				return last
			}
			return refusal
		}
		r.seq = seq
		e := c.attempt(ctx, &r, out)
		if e == nil || !isOutage(e) {
			if r.bucket.answered(r.org) {
				c.metrics.unavailable(org, false)
			}
		}
		if e == nil {
			return nil
		}
		last = e
		if ctx.Err() != nil {
			if probe {
				r.bucket.abandoned(r.org)
			}
			return e
		}
		exhausted := attempt >= maxRetries || !retryable(e)
		if isOutage(e) && (r.bucket.failure(r.org) > max(c.cfg.MaxRetries, 0) || exhausted) {
			o := r.bucket.failed(r.org, probe, time.Now(), e.Error(), c.cfg.OutageBackoffBase, c.cfg.OutageBackoffCap)
			c.metrics.unavailable(org, true)
			e.Since, e.RetryAt, e.LastAnswer = o.since, o.nextProbe, o.lastAnswer
			return e
		}
		if exhausted {
			return e
		}
		if e.Kind == KindRateLimited {
			// Paused in attempt, for every caller with this key; the
			// retry waits it out in acquire, or is refused there.
			if e.RetryAfter > c.cfg.BackoffCap || !fitsDeadline(ctx, e.RetryAfter) {
				return e
			}
			continue
		}
		if sleep(ctx, c.backoff(attempt)) != nil {
			return e
		}
		if r.bucket.down(r.org) {
			return e // another call found the API down: no more retries of this one
		}
	}
}

// validHeaderValue reports whether net/http sends v as a header value: no
// control characters but horizontal tab.
func validHeaderValue(v string) bool {
	for i := range len(v) {
		if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// attempt makes one HTTP exchange.
func (c *Client) attempt(ctx context.Context, r *request, out any) *Error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	// Once a connection is had, a POST may have reached the server.
	var connected atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }})

	var body io.Reader
	if r.payload != nil {
		body = bytes.NewReader(r.payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, body)
	if err != nil {
		return &Error{Kind: KindInvalid, Op: r.op, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if r.payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.org != "" {
		req.Header.Set("x-organization-id", r.org)
	}
	if c.cfg.AuthScheme == AuthAPIKeyHeader {
		req.Header.Set("x-api-key", r.key)
	} else {
		req.Header.Set("Authorization", "Bearer "+r.key)
	}

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.metrics.request(r.op, "error", time.Since(start))
		return r.networkError(connected.Load(), err)
	}
	defer func() { _ = resp.Body.Close() }()
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	limit := int64(maxErrorBody)
	if ok {
		limit = cmp.Or(r.maxBody, maxBody)
	}
	respBody, err := readCapped(resp.Body, limit)
	if ok && r.read != nil {
		*r.read = int64(len(respBody))
	}
	now := time.Now()
	c.metrics.request(r.op, strconv.Itoa(resp.StatusCode), now.Sub(start))
	figures, seen := readRateLimit(resp.Header)
	if seen {
		c.metrics.rateLimit(cmp.Or(r.org, "default"), figures)
		r.bucket.observe(r.seq, figures, now)
	}

	if !ok {
		e := r.statusError(resp, respBody, now)
		if e.Kind == KindRateLimited {
			c.metrics.limited(r.op)
			if r.bucket.pause(e, figures, seen) {
				c.pausedUntil(r.bucket, cmp.Or(r.org, "default"), e.RetryAt)
			}
		}
		return e
	}
	switch {
	case errors.Is(err, errTooLarge):
		return &Error{Kind: r.failedKind(), Op: r.op, StatusCode: resp.StatusCode, Err: err}
	case err != nil:
		return r.networkError(true, err)
	case out != nil:
		if err := json.Unmarshal(respBody, out); err != nil {
			return &Error{Kind: r.failedKind(), Op: r.op, StatusCode: resp.StatusCode, Err: fmt.Errorf("decode response: %w", err)}
		}
	}
	return nil
}

// failedKind is the Kind of a failure after the server may have acted: a
// POST's outcome is then unknown.
func (r *request) failedKind() Kind {
	if r.method == http.MethodPost {
		return KindOutcomeUnknown
	}
	return KindTransient
}

// networkError is a failure without a response. Before a connection was had,
// nothing can have reached the server, so even a POST is plainly transient.
func (r *request) networkError(connected bool, err error) *Error {
	kind := KindTransient
	if connected {
		kind = r.failedKind()
	}
	return &Error{Kind: kind, Op: r.op, Err: err}
}

// statusError reads a non-2xx response.
func (r *request) statusError(resp *http.Response, body []byte, now time.Time) *Error {
	code := resp.StatusCode
	e := &Error{Op: r.op, StatusCode: code}
	switch {
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		e.Kind = KindInvalid
	case code == http.StatusUnauthorized:
		e.Kind = KindUnauthorized
	case code == http.StatusForbidden:
		e.Kind = KindForbidden
	case code == http.StatusNotFound:
		e.Kind = KindNotFound
	case code == http.StatusTooManyRequests:
		// Refused, not executed, so even a POST may be sent again.
		e.Kind = KindRateLimited
		e.RetryAfter = retryAfter(resp.Header, body, now)
		e.RetryAt = now.Add(e.RetryAfter)
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout:
		e.Kind = KindInvalid // 405, 409, 413...: refused again if sent unchanged
	default:
		e.Kind = r.failedKind() // 5xx, 408, and the 3xx we do not follow
	}
	var ae apiError
	if json.Unmarshal(body, &ae) == nil && ae.Error != "" {
		e.Code, e.Message = summarize(ae.Code, r.secrets), summarize(ae.Error, r.secrets)
	} else {
		e.Message = summarize(string(body), r.secrets)
	}
	if e.Kind == KindRateLimited && e.Code != CodeDailyLimitExceeded && e.RetryAfter > maxRateLimitPause {
		e.RetryAfter = maxRateLimitPause
		e.RetryAt = now.Add(e.RetryAfter)
	}
	return e
}

// retryable reports whether sending the same request again may succeed and
// cannot do harm.
func retryable(e *Error) bool {
	switch e.Kind {
	case KindRateLimited:
		return true
	case KindTransient: // a POST's transient errors all happened before it was sent
		return e.StatusCode == 0 || e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout
	}
	return false
}

// backoff is the jittered wait before retry attempt+1: BackoffBase doubled at
// each attempt, capped at BackoffCap, and drawn from its upper half.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.BackoffBase
	for i := 0; i < attempt && d < c.cfg.BackoffCap; i++ {
		d *= 2
	}
	d = min(d, c.cfg.BackoffCap)
	return d/2 + rand.N(d/2+1)
}

func fitsDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}

// stateFor returns the state shared by all calls with key.
func (c *Client) stateFor(key string) *keyState {
	h := sha256.Sum256([]byte(key))
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.keys[h]
	if !ok {
		s = &keyState{limiter: rate.NewLimiter(rate.Limit(c.cfg.RateLimit), c.cfg.Burst),
			outages: map[string]*outage{}, failuresInARow: map[string]int{}}
		c.keys[h] = s
	}
	return s
}

const (
	// maxBody bounds a success body: 8 MiB is some 15,000 endpoints in
	// one bare list.
	maxBody = 8 << 20
	// maxErrorBody bounds an error body, of which maxMessage bytes are kept.
	maxErrorBody = 64 << 10
)

var errTooLarge = errors.New("response body too large")

// readCapped reads at most limit bytes of r, and errTooLarge if there is more.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(b)) > limit {
		return b[:limit], errTooLarge
	}
	return b, err
}

// pausedUntil reports a key's new pause in the metrics, and clears it when
// it ends unless a later 429 has lengthened it.
func (c *Client) pausedUntil(s *keyState, org string, until time.Time) {
	if c.metrics == nil {
		return
	}
	c.metrics.paused(org, until)
	time.AfterFunc(time.Until(until), func() {
		if s.pausedTill(until) {
			c.metrics.paused(org, time.Time{})
		}
	})
}

// Budget is a key's daily request budget as the client knows it.
type Budget struct {
	// Quota is the requests the key may make per day: Credentials.DailyQuota
	// if set, else what the API's headers told (Learned), else 0: unknown.
	Quota int
	// Learned says Quota was read from the API's headers: an
	// X-RateLimit-Limit whose X-RateLimit-Reset was more than an hour ahead,
	// or the one of a DAILY_LIMIT_EXCEEDED.
	Learned bool
	// UsedToday is the requests this client sent with the key since DayEnds
	// less a day; the key's other users are not counted.
	UsedToday int
	// DayEnds is the next UTC midnight, when UsedToday starts again at 0.
	DayEnds time.Time
}

// Budget returns cred's key's daily budget: how much of it this client has
// used, so that a caller can spread its requests over the day.
func (c *Client) Budget(cred Credentials) Budget {
	s := c.stateFor(strings.TrimSpace(cred.APIKey))
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	s.mu.Lock()
	defer s.mu.Unlock()
	b := Budget{Quota: cred.DailyQuota, DayEnds: today.Add(24 * time.Hour)}
	if b.Quota <= 0 && s.learnedQuota > 0 {
		b.Quota, b.Learned = s.learnedQuota, true
	}
	if s.day.Equal(today) {
		b.UsedToday = s.usedToday
	}
	return b
}
