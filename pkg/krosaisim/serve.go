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
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Server is a Simulator serving its API on a port of its own, as
// httptest.Server is for a handler. Its methods are the Simulator's.
type Server struct {
	*Simulator
	// URL is the root, http://HOST:PORT: the admin API is under URL+"/_sim/".
	URL string

	http *http.Server
}

// New builds a Simulator from opts and serves it on opts.Addr (default
// 127.0.0.1 on a free port) until Close. This is krosai-sim in-process.
func New(opts Options) (*Server, error) {
	sim, err := NewSimulator(opts)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = sim.Close()
		return nil, err
	}
	s := &Server{
		Simulator: sim,
		URL:       "http://" + ln.Addr().String(),
		http:      &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second},
	}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			sim.log.Error("serving the simulator failed", "err", err)
		}
	}()
	return s, nil
}

// APIURL is the base URL of the KrosAI API, the operator's --krosai-api-url.
func (s *Server) APIURL() string { return s.URL + "/v1" }

// Close stops serving and saves the state file. Held (hung) and delayed
// requests are dropped first, as Simulator.Close does, so that shutting
// down does not wait for them; requests that finish while the server shuts
// down are in the state file. It returns the first failure.
func (s *Server) Close() error {
	closeErr := s.Simulator.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var shutdownErr error
	if err := s.http.Shutdown(ctx); err != nil {
		shutdownErr = fmt.Errorf("shut down the simulator's server: %w", err)
	}
	return errors.Join(closeErr, shutdownErr, s.Save())
}
