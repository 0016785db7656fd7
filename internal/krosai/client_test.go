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
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/krosai/kros-operator/test/fakeapi"
)

func TestHeadersAndPaths(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scheme AuthScheme
		cred   Credentials
	}{
		{"bearer with organization", AuthBearer, testCred},
		{"x-api-key without organization", AuthAPIKeyHeader, Credentials{APIKey: testKey + "\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var (
				mu   sync.Mutex
				seen []*http.Request
				body []string
			)
			f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				seen, body = append(seen, r), append(body, string(b))
				mu.Unlock()
				switch r.Method {
				case http.MethodDelete:
					w.WriteHeader(http.StatusNoContent)
				case http.MethodPost:
					fakeapi.WriteJSON(w, http.StatusCreated, endpoint("ep_1"))
				default:
					fakeapi.WriteJSON(w, http.StatusOK, endpoint("ep_1"))
				}
			})
			c := newClient(t, f, func(cfg *Config) { cfg.AuthScheme = tc.scheme })
			ctx := context.Background()
			name := "renamed"

			_, err := c.GetEndpoint(ctx, tc.cred, "a/b c?d")
			g.Expect(err).NotTo(HaveOccurred())
			_, err = c.UpdateEndpoint(ctx, tc.cred, "ep_1", EndpointUpdate{Name: &name})
			g.Expect(err).NotTo(HaveOccurred())
			_, err = c.CreateEndpoint(ctx, tc.cred, EndpointCreate{Name: "n", Type: TypeWebhook, URL: "https://example.com/hook"})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.DeleteEndpoint(ctx, tc.cred, "ep_1")).To(Succeed())

			g.Expect(seen).To(HaveLen(4))
			g.Expect(seen[0].URL.EscapedPath()).To(Equal("/v1/endpoints/a%2Fb%20c%3Fd"))
			g.Expect(seen[1].Method + " " + seen[1].URL.Path).To(Equal("PATCH /v1/endpoints/ep_1"))
			g.Expect(body[1]).To(MatchJSON(`{"name":"renamed"}`), "only the fields set are sent")
			g.Expect(seen[2].Method + " " + seen[2].URL.Path).To(Equal("POST /v1/endpoints"))
			g.Expect(body[2]).To(MatchJSON(`{"name":"n","type":"webhook","url":"https://example.com/hook"}`))
			g.Expect(seen[3].Method + " " + seen[3].URL.Path).To(Equal("DELETE /v1/endpoints/ep_1"))
			for i, r := range seen {
				g.Expect(r.Header.Get("User-Agent")).To(Equal("kros-operator/test"))
				g.Expect(r.Header.Get("Accept")).To(Equal("application/json"))
				g.Expect(r.Header.Get("x-organization-id")).To(Equal(tc.cred.OrganizationID))
				if tc.scheme == AuthBearer {
					g.Expect(r.Header.Get("Authorization")).To(Equal("Bearer " + testKey))
					g.Expect(r.Header.Values("x-api-key")).To(BeEmpty())
				} else {
					g.Expect(r.Header.Get("x-api-key")).To(Equal(testKey), "the key is trimmed")
					g.Expect(r.Header.Values("Authorization")).To(BeEmpty())
				}
				if body[i] != "" {
					g.Expect(r.Header.Get("Content-Type")).To(Equal("application/json"))
				} else {
					g.Expect(r.Header.Values("Content-Type")).To(BeEmpty())
				}
			}
		})
	}
}

func TestErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		create bool // createEndpoint rather than getEndpoint
		kind   Kind
		code   string
		msg    string
		str    string
	}{
		{name: "400", status: 400, create: true, body: `{"error":"name is required","code":"VALIDATION_ERROR","details":{"field":"name"}}`,
			kind: KindInvalid, code: "VALIDATION_ERROR", msg: "name is required",
			str: "krosai createEndpoint: 400 VALIDATION_ERROR: name is required"},
		{name: "401", status: 401, create: true, body: `{"error":"Invalid API key","code":"UNAUTHORIZED"}`,
			kind: KindUnauthorized, code: "UNAUTHORIZED", msg: "Invalid API key",
			str: "krosai createEndpoint: 401 UNAUTHORIZED: Invalid API key"},
		{name: "403", status: 403, body: `{"error":"IP not in allow-list","code":"IP_NOT_ALLOWED"}`,
			kind: KindForbidden, code: "IP_NOT_ALLOWED", msg: "IP not in allow-list",
			str: "krosai getEndpoint: 403 IP_NOT_ALLOWED: IP not in allow-list"},
		{name: "404", status: 404, body: `{"error":"Endpoint not found","code":"ENDPOINT_NOT_FOUND"}`,
			kind: KindNotFound, code: "ENDPOINT_NOT_FOUND", msg: "Endpoint not found",
			str: "krosai getEndpoint: 404 ENDPOINT_NOT_FOUND: Endpoint not found"},
		{name: "422", status: 422, create: true, body: `{"error":"bad sip_uri"}`,
			kind: KindInvalid, msg: "bad sip_uri",
			str: "krosai createEndpoint: 422 Unprocessable Entity: bad sip_uri"},
		{name: "409 is refused again unchanged", status: 409, create: true, body: `{"error":"conflict","code":"CONFLICT"}`,
			kind: KindInvalid, code: "CONFLICT", msg: "conflict",
			str: "krosai createEndpoint: 409 CONFLICT: conflict"},
		{name: "429", status: 429, body: `{"error":"Rate limit exceeded","code":"RATE_LIMIT_EXCEEDED","retry_after":1.5}`,
			kind: KindRateLimited, code: "RATE_LIMIT_EXCEEDED", msg: "Rate limit exceeded",
			str: "krosai getEndpoint: 429 RATE_LIMIT_EXCEEDED: Rate limit exceeded (retry after 1.5s)"},
		{name: "500 on GET", status: 500, body: `{"error":"boom","code":"INTERNAL"}`,
			kind: KindTransient, code: "INTERNAL", msg: "boom",
			str: "krosai getEndpoint: 500 INTERNAL: boom"},
		{name: "500 on POST", status: 500, create: true, body: `{"error":"boom","code":"INTERNAL"}`,
			kind: KindOutcomeUnknown, code: "INTERNAL", msg: "boom",
			str: "krosai createEndpoint: outcome unknown: 500 INTERNAL: boom"},
		{name: "502 HTML from a proxy", status: 502, body: "<html>\r\n<b>Bad\x00 Gateway</b>\x1b[31m" + strings.Repeat("x", 500) + "</html>",
			kind: KindTransient, msg: "<html> <b>Bad Gateway</b>[31m" + strings.Repeat("x", 200-len("<html> <b>Bad Gateway</b>[31m")) + "...",
			str: "krosai getEndpoint: 502 Bad Gateway: <html> <b>Bad Gateway</b>[31m"},
		{name: "empty 503", status: 503,
			kind: KindTransient, str: "krosai getEndpoint: 503 Service Unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if tc.status == 429 {
					w.Header().Set("Retry-After", "1.5")
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			c := newClient(t, f, func(cfg *Config) { cfg.MaxRetries = -1 })
			var err error
			if tc.create {
				_, err = c.CreateEndpoint(context.Background(), testCred, EndpointCreate{Name: "n", Type: TypeWebhook})
			} else {
				_, err = c.GetEndpoint(context.Background(), testCred, "ep_1")
			}
			e, ok := errors.AsType[*Error](err)
			g.Expect(ok).To(BeTrue(), "%v", err)
			g.Expect(e.Kind).To(Equal(tc.kind))
			g.Expect(KindOf(fmt.Errorf("wrapped: %w", err))).To(Equal(tc.kind))
			g.Expect(e.StatusCode).To(Equal(tc.status))
			g.Expect(e.Code).To(Equal(tc.code))
			g.Expect(e.Message).To(Equal(tc.msg))
			g.Expect(err.Error()).To(HavePrefix(tc.str))
			g.Expect(len(err.Error())).To(BeNumerically("<", 300), "an error repeats ~200 bytes of body at most")
			g.Expect(IsTerminal(err)).To(Equal(tc.status == 400 || tc.status == 401 || tc.status == 403 || tc.status == 409 || tc.status == 422))
			g.Expect(IsNotFound(err)).To(Equal(tc.status == 404))
			wait, limited := RetryAfterOf(err)
			g.Expect(limited).To(Equal(tc.status == 429))
			if limited {
				g.Expect(wait).To(Equal(1500 * time.Millisecond))
			}
		})
	}
}

func TestKindHelpersOnForeignErrors(t *testing.T) {
	g := NewWithT(t)
	for _, err := range []error{nil, errors.New("other"), context.Canceled} {
		g.Expect(KindOf(err)).To(Equal(KindUnknown))
		g.Expect(IsTerminal(err) || IsNotFound(err)).To(BeFalse())
		_, ok := RetryAfterOf(err)
		g.Expect(ok).To(BeFalse())
	}
	g.Expect(KindInvalid.String()).To(Equal("Invalid"))
	g.Expect(Kind(99).String()).To(Equal("Kind(99)"))
}

func TestDeleteOfMissingEndpointSucceeds(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		fakeapi.WriteError(w, http.StatusNotFound, "ENDPOINT_NOT_FOUND", "Endpoint not found")
	})
	g.Expect(newClient(t, f).DeleteEndpoint(context.Background(), testCred, "ep_gone")).To(Succeed())
	g.Expect(f.Hits()).To(BeEquivalentTo(1))
}

func TestRefusedBeforeSending(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) { fakeapi.WriteJSON(w, 200, endpoint("x")) })
	c := newClient(t, f)
	ctx := context.Background()
	for _, id := range []string{"", ".", ".."} {
		_, err := c.GetEndpoint(ctx, testCred, id)
		g.Expect(KindOf(err)).To(Equal(KindInvalid), "id %q", id)
		_, err = c.UpdateEndpoint(ctx, testCred, id, EndpointUpdate{})
		g.Expect(KindOf(err)).To(Equal(KindInvalid), "id %q", id)
		g.Expect(KindOf(c.DeleteEndpoint(ctx, testCred, id))).To(Equal(KindInvalid), "id %q", id)
	}
	_, err := c.ListEndpoints(ctx, Credentials{APIKey: " \n", OrganizationID: testOrg})
	g.Expect(KindOf(err)).To(Equal(KindUnauthorized))
	// Header values Go would refuse to send: invalid, not transient, so
	// that no caller retries them as if the network had failed.
	for _, cred := range []Credentials{
		{APIKey: testKey, OrganizationID: testOrg + "\n"},
		{APIKey: "kros_test_\x00abc", OrganizationID: testOrg},
	} {
		_, err = c.ListEndpoints(ctx, cred)
		g.Expect(KindOf(err)).To(Equal(KindInvalid), "%v", cred)
		g.Expect(err.Error()).NotTo(ContainSubstring("kros_test_"))
	}
	g.Expect(f.Hits()).To(BeZero())
}

func TestRetryAfterIsHonoured(t *testing.T) {
	g := NewWithT(t)
	var first time.Time
	var gap time.Duration
	f := fakeapi.Start(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1.5")
			fakeapi.WriteError(w, http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded")
			return
		}
		gap = time.Since(first)
		fakeapi.WriteJSON(w, http.StatusOK, endpoint("ep_1"))
	})
	c := newClient(t, f)
	_, err := c.GetEndpoint(context.Background(), testCred, "ep_1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.Hits()).To(BeEquivalentTo(2))
	g.Expect(gap).To(BeNumerically(">=", 1450*time.Millisecond))
}

func TestRateLimitResetIsTheFallback(t *testing.T) {
	g := NewWithT(t)
	var first time.Time
	var gap time.Duration
	f := fakeapi.Start(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			first = time.Now()
			// Longer than defaultRetryAfter, so that ignoring it shows.
			reset := float64(first.Add(defaultRetryAfter+200*time.Millisecond).UnixNano()) / 1e9
			w.Header().Set("X-RateLimit-Reset", fmt.Sprintf("%.3f", reset))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		gap = time.Since(first)
		w.WriteHeader(http.StatusNoContent)
	})
	g.Expect(newClient(t, f).DeleteEndpoint(context.Background(), testCred, "ep_1")).To(Succeed())
	g.Expect(f.Hits()).To(BeEquivalentTo(2))
	g.Expect(gap).To(BeNumerically(">=", defaultRetryAfter+150*time.Millisecond))
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name string
		h    map[string]string
		body string
		want time.Duration
	}{
		{"fractional seconds", map[string]string{"Retry-After": "1.5"}, "", 1500 * time.Millisecond},
		{"header wins over body and reset", map[string]string{"Retry-After": "2", "X-RateLimit-Reset": "1700000009"}, `{"retry_after":7}`, 2 * time.Second},
		{"HTTP date", map[string]string{"Retry-After": now.Add(3 * time.Second).UTC().Format(http.TimeFormat)}, "", 3 * time.Second},
		{"body retry_after", nil, `{"error":"x","retry_after":0.25}`, 250 * time.Millisecond},
		{"reset", map[string]string{"X-RateLimit-Reset": "1700000004"}, "", 4 * time.Second},
		{"reset in the past", map[string]string{"X-RateLimit-Reset": "1699999999"}, "", defaultRetryAfter},
		{"garbage", map[string]string{"Retry-After": "soon", "X-RateLimit-Reset": "NaN"}, "{", defaultRetryAfter},
		{"negative", map[string]string{"Retry-After": "-3"}, "", defaultRetryAfter},
		{"huge is capped", map[string]string{"Retry-After": "1e300"}, "", maxWait},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.h {
				h.Set(k, v)
			}
			NewWithT(t).Expect(retryAfter(h, []byte(tc.body), now)).To(Equal(tc.want))
		})
	}
}

func TestRateLimitedGivesUp(t *testing.T) {
	tooMany := func(retryAfter string) func(int, http.ResponseWriter, *http.Request) {
		return func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", retryAfter)
			fakeapi.WriteError(w, http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded")
		}
	}
	t.Run("after MaxRetries", func(t *testing.T) {
		g := NewWithT(t)
		f := fakeapi.Start(t, tooMany("0.01"))
		_, err := newClient(t, f, func(c *Config) { c.MaxRetries = 2 }).ListEndpoints(context.Background(), testCred)
		g.Expect(f.Hits()).To(BeEquivalentTo(3))
		wait, ok := RetryAfterOf(err)
		g.Expect(ok).To(BeTrue())
		g.Expect(wait).To(Equal(10 * time.Millisecond))
	})
	t.Run("at once when the wait is over BackoffCap", func(t *testing.T) {
		g := NewWithT(t)
		f := fakeapi.Start(t, tooMany("20"))
		_, err := newClient(t, f).GetEndpoint(context.Background(), testCred, "ep_1")
		g.Expect(f.Hits()).To(BeEquivalentTo(1))
		wait, _ := RetryAfterOf(err)
		g.Expect(wait).To(Equal(20 * time.Second))
	})
	t.Run("at once when the wait is past the deadline", func(t *testing.T) {
		g := NewWithT(t)
		f := fakeapi.Start(t, tooMany("1"))
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := newClient(t, f).GetEndpoint(ctx, testCred, "ep_1")
		g.Expect(f.Hits()).To(BeEquivalentTo(1))
		g.Expect(KindOf(err)).To(Equal(KindRateLimited))
	})
}

// hang answers nothing until the client has gone.
func hang(_ http.ResponseWriter, r *http.Request) {
	// The server notices a closed connection only once the body is read.
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

func TestPOSTIsNotRetriedOnceSent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request)
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request) { fakeapi.WriteError(w, 500, "INTERNAL", "boom") }},
		{"503", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }},
		{"timeout", hang},
		{"connection dropped", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
		}},
		{"body cut short", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":"ep_1",`)
		}},
		{"201 without an id", func(w http.ResponseWriter, _ *http.Request) {
			fakeapi.WriteJSON(w, 201, map[string]string{"name": "n"})
		}},
		{"303", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/v1/endpoints/ep_1", http.StatusSeeOther)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, r *http.Request) { tc.handle(w, r) })
			c := newClient(t, f, func(c *Config) { c.Timeout = 200 * time.Millisecond })
			_, err := c.CreateEndpoint(context.Background(), testCred, EndpointCreate{Name: "n", Type: TypeWebhook})
			g.Expect(KindOf(err)).To(Equal(KindOutcomeUnknown), "%v", err)
			g.Expect(f.Hits()).To(BeEquivalentTo(1))
		})
	}
}

// TestMalformedIDIsRefused: an answer naming an endpoint by an id with a
// control character is malformed, as one without an id is: not retried, and a
// create's outcome is unknown.
func TestMalformedIDIsRefused(t *testing.T) {
	name := "n"
	for _, tc := range []struct {
		op   string
		call func(*Client) error
		kind Kind
	}{
		{opGet, func(c *Client) error { _, err := c.GetEndpoint(context.Background(), testCred, "ep_1"); return err }, KindTransient},
		{opUpdate, func(c *Client) error {
			_, err := c.UpdateEndpoint(context.Background(), testCred, "ep_1", EndpointUpdate{Name: &name})
			return err
		}, KindTransient},
		{opCreate, func(c *Client) error {
			_, err := c.CreateEndpoint(context.Background(), testCred, EndpointCreate{Name: "n", Type: TypeWebhook})
			return err
		}, KindOutcomeUnknown},
	} {
		t.Run(tc.op, func(t *testing.T) {
			g := NewWithT(t)
			f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				fakeapi.WriteJSON(w, 200, endpoint("ep_1\r\nX: y"))
			})
			err := tc.call(newClient(t, f))
			g.Expect(KindOf(err)).To(Equal(tc.kind), "%v", err)
			g.Expect(err).To(MatchError(ContainSubstring("decode response: endpoint id holds")))
			g.Expect(f.Hits()).To(BeEquivalentTo(1), "the same answer would come again")
		})
	}
}

func TestPOSTNeverSentIsTransient(t *testing.T) {
	g := NewWithT(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	g.Expect(ln.Close()).To(Succeed())
	c, err := New(Config{BaseURL: "http://" + addr + "/v1", MaxRetries: 2, BackoffBase: time.Millisecond})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.CreateEndpoint(context.Background(), testCred, EndpointCreate{Name: "n", Type: TypeWebhook})
	g.Expect(KindOf(err)).To(Equal(KindTransient), "%v", err)
	g.Expect(err.Error()).To(ContainSubstring("connection refused"))
}

func TestPOSTIsRetriedAfter429(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "0.05")
			fakeapi.WriteError(w, 429, "RATE_LIMIT_EXCEEDED", "Rate limit exceeded")
			return
		}
		fakeapi.WriteJSON(w, http.StatusCreated, endpoint("ep_1"))
	})
	ep, err := newClient(t, f).CreateEndpoint(context.Background(), testCred, EndpointCreate{Name: "n", Type: TypeWebhook})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ep.ID).To(Equal("ep_1"))
	g.Expect(f.Hits()).To(BeEquivalentTo(2))
}

func TestIdempotentMethodsAreRetried(t *testing.T) {
	failures := map[string]func(w http.ResponseWriter, r *http.Request){
		"503": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) },
		"502": func(w http.ResponseWriter, _ *http.Request) { fakeapi.WriteError(w, 502, "BAD_GATEWAY", "upstream") },
		"connection dropped": func(w http.ResponseWriter, _ *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
		},
		"timeout": hang,
	}
	name := "n"
	calls := map[string]func(*Client) error{
		"GET": func(c *Client) error { _, err := c.GetEndpoint(context.Background(), testCred, "ep_1"); return err },
		"PATCH": func(c *Client) error {
			_, err := c.UpdateEndpoint(context.Background(), testCred, "ep_1", EndpointUpdate{Name: &name})
			return err
		},
		"DELETE": func(c *Client) error { return c.DeleteEndpoint(context.Background(), testCred, "ep_1") },
	}
	for method, call := range calls {
		for failure, fail := range failures {
			t.Run(method+" after "+failure, func(t *testing.T) {
				g := NewWithT(t)
				f := fakeapi.Start(t, func(n int, w http.ResponseWriter, r *http.Request) {
					if n <= 2 {
						fail(w, r)
						return
					}
					fakeapi.WriteJSON(w, http.StatusOK, endpoint("ep_1"))
				})
				c := newClient(t, f, func(c *Config) { c.Timeout = 200 * time.Millisecond })
				g.Expect(call(c)).To(Succeed())
				g.Expect(f.Hits()).To(BeEquivalentTo(3))
			})
		}
	}
}

func TestRetriesAreBounded(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
	_, err := newClient(t, f, func(c *Config) { c.MaxRetries = 3 }).GetEndpoint(context.Background(), testCred, "ep_1")
	g.Expect(KindOf(err)).To(Equal(KindTransient))
	g.Expect(f.Hits()).To(BeEquivalentTo(4))
}

func TestCancelStopsRetries(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		cancel()
		w.WriteHeader(503)
	})
	c := newClient(t, f, func(c *Config) { c.BackoffBase = time.Minute; c.BackoffCap = time.Hour })
	_, err := c.GetEndpoint(ctx, testCred, "ep_1")
	g.Expect(KindOf(err)).To(Equal(KindTransient))
	g.Expect(f.Hits()).To(BeEquivalentTo(1))
}

func TestRedirectIsNotFollowed(t *testing.T) {
	g := NewWithT(t)
	elsewhere := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) { fakeapi.WriteJSON(w, 200, endpoint("ep_1")) })
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	_, err := newClient(t, f).GetEndpoint(context.Background(), testCred, "ep_1")
	g.Expect(err).To(MatchError(ContainSubstring("307 Temporary Redirect")))
	g.Expect(KindOf(err)).To(Equal(KindTransient))
	g.Expect(f.Hits()).To(BeEquivalentTo(1), "a redirect is not retried")
	g.Expect(elsewhere.Requests()).To(BeEmpty(), "the key must not reach the redirect target")

	// Even a caller's client that follows redirects does not, once copied.
	follows := &http.Client{}
	_, err = newClient(t, f, func(c *Config) { c.HTTPClient = follows }).GetEndpoint(context.Background(), testCred, "ep_1")
	g.Expect(err).To(HaveOccurred())
	g.Expect(elsewhere.Requests()).To(BeEmpty())
	g.Expect(follows.CheckRedirect).To(BeNil(), "the caller's client is not modified")
}

func TestOversizedBodyIsAnError(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		fakeapi.WriteHuge(w, 200, 2*maxBody)
	})
	// Reading 8 MiB may take a while on a busy machine: the test is of the
	// cap, not of the timeout.
	_, err := newClient(t, f, func(c *Config) { c.Timeout = time.Minute }).ListEndpoints(context.Background(), testCred)
	g.Expect(err).To(MatchError(errTooLarge))
	g.Expect(KindOf(err)).To(Equal(KindTransient))
	g.Expect(f.Hits()).To(BeEquivalentTo(1), "the same body would come again")
}

func TestSecretsNeverInErrors(t *testing.T) {
	g := NewWithT(t)
	// The server echoes the key and the body, in JSON and in plain text, with
	// control characters in the middle of the secrets.
	f := fakeapi.Start(t, func(n int, w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		echo := r.Header.Get("Authorization") + " " + string(b)
		switch n % 3 {
		case 0:
			fakeapi.WriteError(w, 400, r.Header.Get("Authorization"), echo)
		case 1:
			w.WriteHeader(500)
			_, _ = io.WriteString(w, echo)
		default:
			w.WriteHeader(422)
			_, _ = io.WriteString(w, strings.ReplaceAll(echo, "_", "_\x00"))
		}
	})
	c := newClient(t, f, func(c *Config) { c.MaxRetries = -1 })
	ctx := context.Background()
	sip := &ProviderConfig{SIPURI: "sip:a@b", Username: "u", Password: testPassword}
	vogent := &ProviderConfig{VogentSIPPrefix: "p", VogentSIPUsername: "u", VogentSIPPassword: testPassword}
	for range 3 { // each status of the server
		_, errCreate := c.CreateEndpoint(ctx, testCred, EndpointCreate{Name: "n", Type: TypeCustomSIP, URL: "sip:a@b", ProviderConfig: sip})
		_, errUpdate := c.UpdateEndpoint(ctx, testCred, "ep_1", EndpointUpdate{ProviderConfig: vogent})
		_, errGet := c.GetEndpoint(ctx, testCred, "ep_1")
		for _, err := range []error{errCreate, errUpdate, errGet} {
			g.Expect(err).To(HaveOccurred())
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				g.Expect(s).NotTo(ContainSubstring(testKey))
				g.Expect(s).NotTo(ContainSubstring(testPassword))
				g.Expect(s).NotTo(ContainSubstring("kros_test_"))
			}
		}
	}
}

func TestTokenBucketIsSharedPerKey(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	const n, r, b = 12, 20.0, 2
	c := newClient(t, f, func(c *Config) { c.RateLimit, c.Burst = r, b })
	start := time.Now()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Two spellings of one key, two organizations: still one bucket.
			cred := Credentials{APIKey: testKey, OrganizationID: fmt.Sprint(i % 2)}
			if i%3 == 0 {
				cred.APIKey += "\n"
			}
			errs <- c.DeleteEndpoint(context.Background(), cred, "ep_1")
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(elapsed).To(BeNumerically(">=", time.Duration(float64(n-b)/r*float64(time.Second))-5*time.Millisecond))
	g.Expect(c.keys).To(HaveLen(1))

	g.Expect(c.DeleteEndpoint(context.Background(), Credentials{APIKey: "kros_test_other"}, "ep_1")).To(Succeed())
	g.Expect(c.keys).To(HaveLen(2), "another key has its own bucket")
}

func TestRateLimitWaitRespectsContext(t *testing.T) {
	g := NewWithT(t)
	f := fakeapi.Start(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	c := newClient(t, f, func(c *Config) { c.RateLimit, c.Burst = 0.001, 1 })
	g.Expect(c.DeleteEndpoint(context.Background(), testCred, "ep_1")).To(Succeed())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.DeleteEndpoint(ctx, testCred, "ep_1")
	g.Expect(KindOf(err)).To(Equal(KindTransient))
	g.Expect(f.Hits()).To(BeEquivalentTo(1))
}

func TestNew(t *testing.T) {
	g := NewWithT(t)
	c, err := New(Config{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.base).To(Equal(DefaultBaseURL))
	g.Expect(c.cfg.Timeout).To(Equal(10 * time.Second))
	g.Expect(c.cfg.RateLimit).To(Equal(8.0))
	g.Expect(c.cfg.Burst).To(Equal(8))
	g.Expect(c.cfg.OutageBackoffBase).To(Equal(5 * time.Second))
	g.Expect(c.cfg.OutageBackoffCap).To(Equal(5 * time.Minute))
	g.Expect(c.metrics).To(BeNil())

	c, err = New(Config{BaseURL: "https://sim.local:8080/v1/"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.base).To(Equal("https://sim.local:8080/v1"))

	for _, bad := range []Config{
		{BaseURL: "api.krosai.com/v1"},
		{BaseURL: "ftp://api.krosai.com/v1"},
		{BaseURL: "https://user:" + testPassword + "@api.krosai.com/v1"},
		{BaseURL: "https://api.krosai.com/v1?x=1"},
		{BaseURL: "https://api.krosai.com/v1\x7f"},
		{Timeout: -1},
		{RateLimit: -1},
		{AuthScheme: 7},
	} {
		_, err := New(bad)
		g.Expect(err).To(HaveOccurred(), "%+v", bad)
		g.Expect(err.Error()).NotTo(ContainSubstring(testPassword))
	}
}

func TestNewAllowsPlainHTTPOnlyToLoopback(t *testing.T) {
	for _, base := range []string{
		"http://127.0.0.1:8080/v1",
		"http://127.255.255.254/v1",
		"http://[::1]:8080/v1",
		"http://[::ffff:127.0.0.1]:8080/v1",
		"http://localhost:8080/v1",
		"http://LOCALHOST/v1",
		"https://api.krosai.com/v1",
		"https://10.0.0.1/v1",
	} {
		t.Run(base, func(t *testing.T) {
			_, err := New(Config{BaseURL: base})
			NewWithT(t).Expect(err).NotTo(HaveOccurred())
		})
	}
	for _, base := range []string{
		"http://api.krosai.com/v1",
		"http://krosai-sim.sim.svc:8089/v1",
		"http://10.0.0.1/v1",
		"http://128.0.0.1/v1",
		"http://0.0.0.0:8080/v1",
		"http://[::]:8080/v1",
		"http://[fe80::1%25eth0]:8080/v1",
		"http://localhost.evil.example/v1",
		"http://localhost./v1",
		"http://127.0.0.1.nip.io/v1",
		"http://2130706433/v1", // 127.0.0.1 to some resolvers, a name to Go: not trusted
		"http://127.1/v1",
	} {
		t.Run(base, func(t *testing.T) {
			g := NewWithT(t)
			_, err := New(Config{BaseURL: base})
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring("plain http is allowed only to a loopback host"))
		})
	}
	t.Run("credentials are never echoed", func(t *testing.T) {
		g := NewWithT(t)
		for _, base := range []string{
			"http://user:" + testPassword + "@api.krosai.com/v1",
			"http://user:" + testPassword + "@127.0.0.1/v1",
			"http://" + testPassword + "@localhost/v1",
		} {
			_, err := New(Config{BaseURL: base})
			g.Expect(err).To(HaveOccurred(), base)
			g.Expect(err.Error()).NotTo(ContainSubstring(testPassword))
			g.Expect(err.Error()).NotTo(ContainSubstring("user"))
		}
	})
}
