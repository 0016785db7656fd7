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
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// opUnknown is the operation stats count requests to no operation under.
const opUnknown = "unknown"

// maxBody bounds request bodies; real ones are a few hundred bytes.
const maxBody = 1 << 20

// call is an authenticated API request on its way to an operation.
type call struct {
	op, org, id string
	body        []byte
	faults      Faults
	// created is the id a create stored, for the request log.
	created string
}

// reply is an operation's answer; committed says it changed the store, which
// makes it a candidate for commit-then-fail.
type reply struct {
	status    int
	body      any
	committed bool
}

// rawBody is a body that is not JSON, as a misbehaving API answers.
type rawBody struct{ contentType, text string }

// apiError is the vendor's error body, with retry_after on a 429.
type apiError struct {
	status     int
	Message    string         `json:"error"`
	Code       string         `json:"code,omitempty"`
	Details    map[string]any `json:"details,omitempty"`
	RetryAfter float64        `json:"retry_after,omitempty"`
}

func (e *apiError) reply() reply { return reply{status: e.status, body: e} }

// codeValidation is the code of every 400: the contract names none, so one
// code, with the offending field in details.field where there is one.
const codeValidation = "VALIDATION_ERROR"

func invalid(field, format string, args ...any) *apiError {
	e := &apiError{status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...), Code: codeValidation}
	if field != "" {
		e.Details = map[string]any{"field": field}
	}
	return e
}

var (
	errUnauthorized     = &apiError{status: http.StatusUnauthorized, Message: "Invalid or missing API key", Code: "UNAUTHORIZED"}
	errOrgForbidden     = &apiError{status: http.StatusForbidden, Message: "API key has no access to this organization", Code: "ORGANIZATION_FORBIDDEN"}
	errEndpointNotFound = &apiError{status: http.StatusNotFound, Message: "Endpoint not found", Code: "ENDPOINT_NOT_FOUND"}
	errNoRoute          = &apiError{status: http.StatusNotFound, Message: "Not found", Code: "NOT_FOUND"}
	errInternal         = &apiError{status: http.StatusInternalServerError, Message: "Internal server error", Code: "INTERNAL_ERROR"}
)

// operation implements one of the contract's operations.
type operation func(*Simulator, *http.Request, *call) reply

// operations implement the contract's operationIds.
var operations = map[string]operation{
	"listEndpoints":  (*Simulator).listEndpoints,
	"createEndpoint": (*Simulator).createEndpoint,
	"getEndpoint":    (*Simulator).getEndpoint,
	"updateEndpoint": (*Simulator).updateEndpoint,
	"deleteEndpoint": (*Simulator).deleteEndpoint,
}

// routes serves each operation of the contract at its path under /v1.
func (s *Simulator) routes() (http.Handler, error) {
	mux := http.NewServeMux()
	for op, route := range s.contract.routes {
		serve := operations[op]
		if serve == nil {
			return nil, fmt.Errorf("the OpenAPI document's operation %s has no implementation", op)
		}
		mux.Handle(route.Method+" /v1"+route.Path, s.api(op, serve))
	}
	mux.Handle("/v1/", s.api(opUnknown, nil))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.adminRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, errNoRoute)
	})
	return mux, nil
}

// api wraps an operation (nil: no such operation) in what every API request
// goes through, and records the request: before dropping a connection, so
// that a client seeing the drop finds it counted.
func (s *Simulator) api(op string, serve operation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := RequestRecord{
			Time: time.Now().UTC(), Operation: op, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		}
		hangUp := s.serveAPI(w, r, serve, &rec)
		s.stats.add(rec)
		if hangUp {
			drop(w)
		}
	})
}

// serveAPI answers in this order: latency, route, key, rate limits,
// organization, injected failure or hang, then the operation, whose own
// validation comes first, and a possible commit-then-fail. It reports
// whether to close the connection instead of answering.
func (s *Simulator) serveAPI(w http.ResponseWriter, r *http.Request, serve operation, rec *RequestRecord) (hangUp bool) {
	f := s.Faults()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	rec.Body = redact(body)
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			s.respond(w, rec, s.limits.nominal(time.Now()), invalid("", "request body larger than %d bytes", maxBody).reply())
		}
		return false
	}
	if !s.sleep(r.Context(), s.jittered(f.Latency, f.LatencyJitter)) {
		return clientStillThere(r)
	}
	if serve == nil {
		s.respond(w, rec, s.limits.nominal(time.Now()), errNoRoute.reply())
		return false
	}
	key, ok := s.keys.authenticate(r)
	if !ok {
		s.respond(w, rec, s.limits.nominal(time.Now()), errUnauthorized.reply())
		return false
	}
	limits, tooMany := s.limits.take(key, time.Now())
	if tooMany != nil {
		s.respond(w, rec, limits, tooMany.reply())
		return false
	}
	org, ok := s.keys.org(key, r.Header.Get("x-organization-id"))
	if !ok {
		s.respond(w, rec, limits, errOrgForbidden.reply())
		return false
	}
	rec.Org = org
	if s.rng.chance(f.FailRate) {
		rec.Fault = FaultFail
		s.respond(w, rec, limits, errInternal.reply())
		return false
	}
	if s.rng.chance(f.HangRate) {
		rec.Fault = FaultHang
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return clientStillThere(r)
	}
	c := &call{op: rec.Operation, org: org, id: r.PathValue("id"), body: body, faults: f}
	out := serve(s, r, c)
	rec.EndpointID = cmp.Or(c.created, c.id)
	if out.committed && s.rng.chance(f.CommitThenFailRate) {
		rec.Fault = FaultCommitThenFail
		if s.rng.chance(0.5) {
			return true
		}
		out = errInternal.reply()
	}
	s.respond(w, rec, limits, out)
	return false
}

func (s *Simulator) respond(w http.ResponseWriter, rec *RequestRecord, limits rateHeaders, out reply) {
	rec.Status = out.status
	limits.write(w.Header())
	if e, ok := out.body.(*apiError); ok && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatFloat(e.RetryAfter, 'f', -1, 64))
	}
	writeJSON(w, out.status, out.body)
}

// clientStillThere tells a request left unanswered because the simulator is
// closing, whose connection must be closed rather than answered with the
// empty 200 net/http would send, from one whose client gave up.
func clientStillThere(r *http.Request) bool { return r.Context().Err() == nil }

// drop closes the connection without an answer. Where the connection cannot
// be taken over (HTTP/2, a ResponseRecorder) the response is aborted instead.
func drop(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	if body == nil {
		w.WriteHeader(status)
		return
	}
	if raw, ok := body.(rawBody); ok {
		w.Header().Set("Content-Type", raw.contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, raw.text)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = newEncoder(w).Encode(body)
}

// newEncoder writes JSON as it is: "<redacted>" rather than "\u003credacted\u003e".
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// redact returns a JSON body with every write-only field, at any depth,
// replaced by "<redacted>"; nil for an empty or non-JSON body.
func redact(body []byte) json.RawMessage {
	var v any
	if len(body) == 0 || json.Unmarshal(body, &v) != nil {
		return nil
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if writeOnly[k] {
					v[k] = "<redacted>"
				} else {
					walk(child)
				}
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(v)
	var out bytes.Buffer
	_ = newEncoder(&out).Encode(v) // re-encoding decoded JSON cannot fail
	return bytes.TrimSpace(out.Bytes())
}
