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

// Package fakeapi is an HTTP server whose every answer the test writes: the
// API client's unit tests (internal/krosai) script the KrosAI API with it,
// and test/hostile the server a redirect points at. What the simulator
// (pkg/krosaisim) cannot be made to send, a script can: bodies that are
// malformed, huge or never end, redirects, echoes of the request.
//
// It imports nothing from the project, so that internal/krosai's own tests
// can import it.
package fakeapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
)

// Script answers the n-th request the server receives, n from 1. Requests
// may arrive concurrently.
type Script func(n int, w http.ResponseWriter, r *http.Request)

// Cleaner registers a function to run when the test ends: a *testing.T, a
// *testing.B, or Ginkgo's GinkgoT().
type Cleaner interface {
	Cleanup(func())
}

// Server serves a Script on a loopback port, and remembers what it received.
type Server struct {
	*httptest.Server

	hits     atomic.Int64
	mu       sync.Mutex
	requests []string
}

// Start serves script until the test ends.
func Start(t Cleaner, script Script) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, fmt.Sprintf("%s %s authorization=%t x-api-key=%t",
			r.Method, r.URL, r.Header.Get("Authorization") != "", r.Header.Get("x-api-key") != ""))
		s.mu.Unlock()
		script(int(s.hits.Add(1)), w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// Hits is the number of requests received so far.
func (s *Server) Hits() int { return int(s.hits.Load()) }

// Requests says what each request received so far was: method, URL, and
// whether it carried a key, never the key.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers status with the API's error body.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, map[string]any{"error": message, "code": code})
}

// WriteHuge answers status with a JSON endpoint of size bytes, its name a
// run of "a", streamed without holding it, and reports whether the client
// read it to its end: a client that caps what it reads hangs up first.
func WriteHuge(w http.ResponseWriter, status int, size int) (complete bool) {
	head, tail := []byte(`{"id":"ep_huge","name":"`), []byte(`"}`)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(size))
	w.WriteHeader(status)
	if _, err := w.Write(head); err != nil {
		return false
	}
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	for left := size - len(head) - len(tail); left > 0; left -= len(chunk) {
		if _, err := w.Write(chunk[:min(left, len(chunk))]); err != nil {
			return false
		}
	}
	_, err := w.Write(tail)
	return err == nil
}
