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
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Admin is the simulator's view behind the API and its controls: what a
// test inspects and steers, whether the simulator runs in-process
// (Simulator.Admin) or as a krosai-sim process (AdminClient). None of it
// needs a key, counts in Stats or meets a fault.
type Admin interface {
	// Stats returns the request counts since start or Reset.
	Stats(ctx context.Context) (Stats, error)
	// Endpoints returns every stored endpoint, passwords included, by
	// organization, each group in creation order.
	Endpoints(ctx context.Context) (map[string][]Endpoint, error)
	// Endpoint returns the stored endpoint with id in any organization, and
	// whether there is one.
	Endpoint(ctx context.Context, id string) (Endpoint, bool, error)
	// Requests returns the last limit API requests remembered (all if limit
	// is 0), oldest first.
	Requests(ctx context.Context, limit int) ([]RequestRecord, error)
	// Faults returns the current faults and limits.
	Faults(ctx context.Context) (Faults, error)
	// SetFaults replaces the faults and limits whole.
	SetFaults(ctx context.Context, f Faults) error
	// AddKey accepts key for org (a UUID; empty derives one from the key).
	AddKey(ctx context.Context, key, org string) error
	// UpdateEndpoint edits an endpoint as the vendor's dashboard would;
	// an unknown id is ErrNotFound.
	UpdateEndpoint(ctx context.Context, id string, p EndpointPatch) (Endpoint, error)
	// DeleteEndpoint deletes an endpoint as the vendor's dashboard would;
	// an unknown id is ErrNotFound.
	DeleteEndpoint(ctx context.Context, id string) error
	// Reset drops every endpoint, the stats, the request log, the delivery
	// counts and log, and the rate limit budgets; keys, faults and event
	// knobs stay.
	Reset(ctx context.Context) error
	// Events returns the current event delivery knobs.
	Events(ctx context.Context) (Events, error)
	// SetEvents replaces the event delivery knobs whole.
	SetEvents(ctx context.Context, ev Events) error
	// DeliveryStats returns the event delivery counts since start or Reset.
	DeliveryStats(ctx context.Context) (DeliveryStats, error)
	// Deliveries returns the last limit event deliveries remembered (all if
	// limit is 0), oldest first.
	Deliveries(ctx context.Context, limit int) ([]DeliveryRecord, error)
}

// Admin returns the Admin view of s, for code that also drives a
// simulator running as a process. The context is not used: nothing waits.
func (s *Simulator) Admin() Admin { return localAdmin{s} }

// localAdmin is Admin over an in-process Simulator.
type localAdmin struct{ s *Simulator }

func (a localAdmin) Stats(context.Context) (Stats, error) { return a.s.Stats(), nil }

func (a localAdmin) Endpoints(context.Context) (map[string][]Endpoint, error) {
	return a.s.Endpoints(), nil
}

func (a localAdmin) Endpoint(_ context.Context, id string) (Endpoint, bool, error) {
	e, ok := a.s.Endpoint(id)
	return e, ok, nil
}

func (a localAdmin) Requests(_ context.Context, limit int) ([]RequestRecord, error) {
	return a.s.stats.last(limit), nil
}

func (a localAdmin) Faults(context.Context) (Faults, error)          { return a.s.Faults(), nil }
func (a localAdmin) SetFaults(_ context.Context, f Faults) error     { return a.s.SetFaults(f) }
func (a localAdmin) AddKey(_ context.Context, key, org string) error { return a.s.AddKey(key, org) }

func (a localAdmin) UpdateEndpoint(_ context.Context, id string, p EndpointPatch) (Endpoint, error) {
	return a.s.UpdateEndpoint(id, p)
}

func (a localAdmin) DeleteEndpoint(_ context.Context, id string) error { return a.s.DeleteEndpoint(id) }

func (a localAdmin) Reset(context.Context) error {
	a.s.Reset()
	return nil
}

func (a localAdmin) Events(context.Context) (Events, error)       { return a.s.Events(), nil }
func (a localAdmin) SetEvents(_ context.Context, ev Events) error { return a.s.SetEvents(ev) }

func (a localAdmin) DeliveryStats(context.Context) (DeliveryStats, error) {
	return a.s.DeliveryStats(), nil
}

func (a localAdmin) Deliveries(_ context.Context, limit int) ([]DeliveryRecord, error) {
	return a.s.deliveries.last(limit), nil
}

// AdminClient speaks the admin API (/_sim/) of a simulator serving
// elsewhere, such as a krosai-sim process. Its zero value is not usable:
// call NewAdminClient.
type AdminClient struct {
	root string
	http *http.Client
}

var _ Admin = (*AdminClient)(nil)

// NewAdminClient talks to the simulator whose root is url (http://HOST:PORT,
// what krosai-sim prints as "listening on ..."), with http.DefaultClient
// when hc is nil. Bound each call with its context.
func NewAdminClient(url string, hc *http.Client) *AdminClient {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &AdminClient{root: strings.TrimSuffix(url, "/"), http: hc}
}

// Stats implements Admin.
func (c *AdminClient) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	return st, c.do(ctx, http.MethodGet, "/_sim/stats", nil, &st)
}

// Endpoints implements Admin.
func (c *AdminClient) Endpoints(ctx context.Context) (map[string][]Endpoint, error) {
	var byOrg map[string][]Endpoint
	return byOrg, c.do(ctx, http.MethodGet, "/_sim/endpoints", nil, &byOrg)
}

// Endpoint implements Admin. The admin API has no single-endpoint read, so
// this lists them all.
func (c *AdminClient) Endpoint(ctx context.Context, id string) (Endpoint, bool, error) {
	byOrg, err := c.Endpoints(ctx)
	if err != nil {
		return Endpoint{}, false, err
	}
	for _, group := range byOrg {
		for _, e := range group {
			if e.ID == id {
				return e, true, nil
			}
		}
	}
	return Endpoint{}, false, nil
}

// Requests implements Admin.
func (c *AdminClient) Requests(ctx context.Context, limit int) ([]RequestRecord, error) {
	var recs []RequestRecord
	return recs, c.do(ctx, http.MethodGet, withLimit("/_sim/requests", limit), nil, &recs)
}

// withLimit adds ?limit= to a log's path, unless limit asks for all.
func withLimit(path string, limit int) string {
	if limit > 0 {
		return path + "?limit=" + strconv.Itoa(limit)
	}
	return path
}

// Faults implements Admin.
func (c *AdminClient) Faults(ctx context.Context) (Faults, error) {
	var f Faults
	return f, c.do(ctx, http.MethodGet, "/_sim/faults", nil, &f)
}

// SetFaults implements Admin: every field is sent, so none stays as it was.
func (c *AdminClient) SetFaults(ctx context.Context, f Faults) error {
	return c.do(ctx, http.MethodPut, "/_sim/faults", f, nil)
}

// AddKey implements Admin.
func (c *AdminClient) AddKey(ctx context.Context, key, org string) error {
	return c.do(ctx, http.MethodPost, "/_sim/keys", map[string]string{"key": key, "org": org}, nil)
}

// UpdateEndpoint implements Admin.
func (c *AdminClient) UpdateEndpoint(ctx context.Context, id string, p EndpointPatch) (Endpoint, error) {
	var e Endpoint
	return e, c.do(ctx, http.MethodPatch, "/_sim/endpoints/"+id, p, &e)
}

// DeleteEndpoint implements Admin.
func (c *AdminClient) DeleteEndpoint(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/_sim/endpoints/"+id, nil, nil)
}

// Reset implements Admin.
func (c *AdminClient) Reset(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/_sim/reset", nil, nil)
}

// Events implements Admin.
func (c *AdminClient) Events(ctx context.Context) (Events, error) {
	var ev Events
	return ev, c.do(ctx, http.MethodGet, "/_sim/events", nil, &ev)
}

// SetEvents implements Admin: every field is sent, so none stays as it was.
func (c *AdminClient) SetEvents(ctx context.Context, ev Events) error {
	return c.do(ctx, http.MethodPut, "/_sim/events", ev, nil)
}

// DeliveryStats implements Admin.
func (c *AdminClient) DeliveryStats(ctx context.Context) (DeliveryStats, error) {
	var st DeliveryStats
	return st, c.do(ctx, http.MethodGet, "/_sim/deliveries/stats", nil, &st)
}

// Deliveries implements Admin.
func (c *AdminClient) Deliveries(ctx context.Context, limit int) ([]DeliveryRecord, error) {
	var recs []DeliveryRecord
	return recs, c.do(ctx, http.MethodGet, withLimit("/_sim/deliveries", limit), nil, &recs)
}

// do sends in as JSON (if not nil) and decodes a 2xx answer into out (if
// not nil). A 404 is ErrNotFound, so that callers test for it as they do
// with an in-process Simulator.
func (c *AdminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.root+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && strings.HasPrefix(path, "/_sim/endpoints/"):
		return fmt.Errorf("%s %s: %w", method, path, ErrNotFound)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	case out == nil:
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}
