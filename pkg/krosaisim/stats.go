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
	"encoding/json"
	"maps"
	"strconv"
	"sync"
	"time"
)

// Outcomes counted in Stats besides HTTP status codes: requests that got no
// HTTP response at all.
const (
	// OutcomeDropped: the operation was done, then the connection was closed.
	OutcomeDropped = "dropped"
	// OutcomeHung: the request was held until the client gave up.
	OutcomeHung = "hung"
	// OutcomeCanceled: the client gave up during the injected latency.
	OutcomeCanceled = "canceled"
)

// Faults recorded on a RequestRecord.
const (
	FaultFail           = "fail"
	FaultHang           = "hang"
	FaultCommitThenFail = "commit-then-fail"
)

// Stats counts the API requests (not the admin ones) since start or Reset.
type Stats struct {
	// Operations counts requests by operationId ("unknown" for paths that
	// are none), then by HTTP status code or Outcome*.
	Operations map[string]map[string]int `json:"operations"`
	// Endpoints is how many endpoints are stored now.
	Endpoints int `json:"endpoints"`
	// Requests is the total of Operations.
	Requests int `json:"requests"`
	// SharedKeySent is the requests Faults.SharedKeyLoad's other system sent
	// (not in Requests), and SharedKeyRefused those of them answered 429.
	SharedKeySent    int `json:"sharedKeySent,omitempty"`
	SharedKeyRefused int `json:"sharedKeyRefused,omitempty"`
}

// Count returns how many op requests were answered with status.
func (s Stats) Count(op string, status int) int {
	return s.Operations[op][strconv.Itoa(status)]
}

// RequestRecord is one API request as Requests remembers it.
type RequestRecord struct {
	Time      time.Time `json:"time"`
	Operation string    `json:"operation"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Query     string    `json:"query,omitempty"`
	// Org is the organization the request acted in, once authenticated.
	Org string `json:"org,omitempty"`
	// Status is the HTTP status answered, 0 if none was (see Outcome).
	Status int `json:"status"`
	// Fault is the fault injected into the request, if any (Fault*).
	Fault string `json:"fault,omitempty"`
	// Body is the JSON request body, password fields replaced by "<redacted>".
	Body json.RawMessage `json:"body,omitempty"`
	// EndpointID is the endpoint the request named, or the one a create
	// stored (even when its answer was then lost to commit-then-fail).
	EndpointID string `json:"endpointId,omitempty"`
}

// Outcome is the key the request is counted under in Stats.Operations.
func (r RequestRecord) Outcome() string {
	switch {
	case r.Status != 0:
		return strconv.Itoa(r.Status)
	case r.Fault == FaultHang:
		return OutcomeHung
	case r.Fault == FaultCommitThenFail:
		return OutcomeDropped
	}
	return OutcomeCanceled
}

// recorder counts requests and keeps the last ones.
type recorder struct {
	mu    sync.Mutex
	ops   map[string]map[string]int
	total int
	log   ring[RequestRecord]
}

func newRecorder(size int) *recorder {
	return &recorder{ops: map[string]map[string]int{}, log: newRing[RequestRecord](size)}
}

func (r *recorder) add(rec RequestRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byOutcome := r.ops[rec.Operation]
	if byOutcome == nil {
		byOutcome = map[string]int{}
		r.ops[rec.Operation] = byOutcome
	}
	byOutcome[rec.Outcome()]++
	r.total++
	r.log.add(rec)
}

func (r *recorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	ops := make(map[string]map[string]int, len(r.ops))
	for op, byOutcome := range r.ops {
		ops[op] = maps.Clone(byOutcome)
	}
	return Stats{Operations: ops, Requests: r.total}
}

// last returns the last n records (all if n <= 0), oldest first.
func (r *recorder) last(n int) []RequestRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.last(n)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops, r.total = map[string]map[string]int{}, 0
	r.log.reset()
}

// ring keeps the last len(buf) values added; its owner locks it.
type ring[T any] struct {
	buf  []T
	next int // where the next value goes
	full bool
}

func newRing[T any](size int) ring[T] { return ring[T]{buf: make([]T, size)} }

func (r *ring[T]) add(v T) {
	r.buf[r.next] = v
	r.next = (r.next + 1) % len(r.buf)
	r.full = r.full || r.next == 0
}

// last returns the last n values (all if n <= 0), oldest first.
func (r *ring[T]) last(n int) []T {
	kept := r.next
	if r.full {
		kept = len(r.buf)
	}
	if n <= 0 || n > kept {
		n = kept
	}
	out := make([]T, n)
	for i := range out {
		out[i] = r.buf[(r.next-n+i+len(r.buf))%len(r.buf)]
	}
	return out
}

func (r *ring[T]) reset() {
	clear(r.buf)
	r.next, r.full = 0, false
}
