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
	"errors"
	"io"
	"net/http"
	"strconv"
)

// adminRoutes serves /_sim/ (listed in the package documentation): the
// tests' view behind the API, with no key, no limits, no faults, no stats.
func (s *Simulator) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET /_sim/endpoints", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Endpoints())
	})
	mux.HandleFunc("PATCH /_sim/endpoints/{id}", func(w http.ResponseWriter, r *http.Request) {
		var p EndpointPatch
		if err := decodeStrict(r.Body, &p); err != nil {
			adminError(w, err)
			return
		}
		e, err := s.UpdateEndpoint(r.PathValue("id"), p)
		if err != nil {
			adminError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, e)
	})
	mux.HandleFunc("DELETE /_sim/endpoints/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := s.DeleteEndpoint(r.PathValue("id")); err != nil {
			adminError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/reset", func(w http.ResponseWriter, _ *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("PUT /_sim/faults", putSettings(s.Faults, s.SetFaults))
	mux.HandleFunc("GET /_sim/requests", serveLog(s.stats.last))
	mux.HandleFunc("GET /_sim/events", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Events())
	})
	mux.HandleFunc("PUT /_sim/events", putSettings(s.Events, s.SetEvents))
	mux.HandleFunc("GET /_sim/deliveries", serveLog(s.deliveries.last))
	mux.HandleFunc("GET /_sim/deliveries/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.DeliveryStats())
	})
	mux.HandleFunc("POST /_sim/keys", func(w http.ResponseWriter, r *http.Request) {
		var k struct {
			Key string `json:"key"`
			Org string `json:"org"`
		}
		err := decodeStrict(r.Body, &k)
		if err == nil {
			err = s.AddKey(k.Key, k.Org)
		}
		if err != nil {
			adminError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// putSettings serves a PUT of settings (Faults, Events) whose UnmarshalJSON
// keeps the fields absent from the body: the current ones, overlaid with
// the body, are set and answered.
func putSettings[T any](get func() T, set func(T) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := get()
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = json.Unmarshal(body, &v)
		}
		if err == nil {
			err = set(v)
		}
		if err != nil {
			adminError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, get())
	}
}

// serveLog serves a log (requests, deliveries): the last ?limit=N entries
// last returns, all of them without limit.
func serveLog[T any](last func(n int) []T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		limit := 0
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				adminError(w, errors.New("limit must be a positive integer"))
				return
			}
			limit = n
		}
		writeJSON(w, http.StatusOK, last(limit))
	}
}

// decodeStrict decodes a JSON body, rejecting unknown fields so that a
// misspelt one is an error rather than a silent no-op.
func decodeStrict(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// adminError answers 404 for an unknown endpoint, 400 for anything else.
func adminError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrNotFound) {
		writeJSON(w, http.StatusNotFound, &apiError{Message: err.Error(), Code: "ENDPOINT_NOT_FOUND"})
		return
	}
	writeJSON(w, http.StatusBadRequest, &apiError{Message: err.Error(), Code: "BAD_REQUEST"})
}
